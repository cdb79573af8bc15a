package procs

import "testing"

func TestDefault(t *testing.T) {
	for _, tc := range []struct {
		name, env string
		want      int
	}{
		{"twice the CPUs", "", 2 * CPUs()},
		{"the environment chooses", "3", CPUs()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("GOMAXPROCS", tc.env)
			if got := Default(); got != tc.want {
				t.Errorf("Default() = %d, want %d", got, tc.want)
			}
		})
	}
}
