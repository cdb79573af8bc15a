package server

import "testing"

// TestPropFilter matches values by the property's type.
func TestPropFilter(t *testing.T) {
	props := []byte(`{"name":"Kyiv \"North\"","voltage_kv":330,"capacity_mw":1.5e2,"in_service":false}`)
	tests := []struct {
		q     queryable
		value string
		want  bool
	}{
		{queryable{"name", "string"}, `Kyiv "North"`, true},
		{queryable{"name", "string"}, "Kyiv", false},
		{queryable{"voltage_kv", "integer"}, "330", true},
		{queryable{"voltage_kv", "integer"}, "330.0", true},
		{queryable{"voltage_kv", "integer"}, "750", false},
		{queryable{"capacity_mw", "number"}, "150", true},
		{queryable{"in_service", "boolean"}, "false", true},
		{queryable{"in_service", "boolean"}, "true", false},
		{queryable{"operator", "string"}, "Ukrenergo", false},
	}
	for _, tc := range tests {
		f, err := newPropFilter(tc.q, tc.value)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.match(props); got != tc.want {
			t.Errorf("%s=%s: %v, want %v", tc.q.Name, tc.value, got, tc.want)
		}
	}
}
