package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/labstack/echo/v4"
)

func linkContext(target string) echo.Context {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	req.Host = "maps.example:8080"
	return echo.New().NewContext(req, httptest.NewRecorder())
}

// TestWithQuery compares the links to other pages with what url.Values
// makes of the same parameters.
func TestWithQuery(t *testing.T) {
	tests := []struct {
		name   string
		target string
		set    map[string]string
	}{
		{"replace and add", "/collections/sites/items?bbox=22,44,40,53&limit=10", map[string]string{"cursor": "n99", "limit": "10"}},
		{"remove", "/strikes?cursor=abc&limit=5", map[string]string{"cursor": ""}},
		{"escaped values and names", "/collections/a%20b/items?name=Kyiv+%22TPP%22&k%C3%BCnd=x%26y", map[string]string{"f": "csv"}},
		{"no parameters", "/strikes", map[string]string{"f": "csv"}},
		{"everything removed", "/strikes?cursor=1", map[string]string{"cursor": ""}},
		{"repeated parameter kept whole", "/strikes?a=1&a=2&b=3", map[string]string{"b": "4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := linkContext(tt.target)
			q := url.Values{}
			for k, v := range c.QueryParams() {
				q[k] = v
			}
			for k, v := range tt.set {
				if v == "" {
					q.Del(k)
				} else {
					q.Set(k, v)
				}
			}
			want := "http://maps.example:8080" + c.Request().URL.EscapedPath()
			if enc := q.Encode(); enc != "" {
				want += "?" + enc
			}
			if got := (&handlers{}).withQuery(c, tt.set); got != want {
				t.Errorf("withQuery = %s, want %s", got, want)
			}
		})
	}
}

// TestAppendHref: a query sent with characters JSON must escape still
// makes a valid link whose href is the URL as sent.
func TestAppendHref(t *testing.T) {
	c := linkContext("/collections/sites/items?name=a%22b")
	c.Request().URL.RawQuery = `name=a"b\c` // as a lenient client may send it
	b := (&handlers{}).appendSelfLink(nil, c, "this page")
	var l link
	if err := json.Unmarshal(b, &l); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	if want := `http://maps.example:8080/collections/sites/items?name=a"b\c`; l.Href != want || l.Rel != "self" {
		t.Errorf("link = %+v, want href %s", l, want)
	}
}

// FuzzAppendQueryEscape: escapes as url.QueryEscape does.
func FuzzAppendQueryEscape(f *testing.F) {
	for _, s := range []string{"n99", "a b&c=d", "Київ", "~-._", "\x00\xff%+"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(appendQueryEscape(nil, s)), url.QueryEscape(s); got != want {
			t.Fatalf("appendQueryEscape(%q) = %s, url.QueryEscape gives %s", s, got, want)
		}
	})
}

// TestParamValue finds a parameter's value only where it is that
// parameter's whole value, not inside another's name or value.
func TestParamValue(t *testing.T) {
	for _, tt := range []struct {
		href string
		at   string // what the value found begins, the f=csv pair's end; "" for none
	}{
		{`{"href":"http://h/i?f=csv"`, `csv"`},
		{`{"href":"http://h/i?bbox=1%2C2&f=csv&kind=a"`, `csv&kind=a"`},
		{`{"href":"http://h/i?xf=csv&f=csv"`, `csv"`},
		{`{"href":"http://h/i?f=csvx&f=csv"`, `csv"`},
		{`{"href":"http://h/i?name=f%3Dcsv"`, ""},
		{`{"href":"http://h/f=csv"`, ""},
		{`{"href":"http://h/i?f=kml"`, ""},
	} {
		want := -1
		if tt.at != "" {
			want = len(tt.href) - len(tt.at)
		}
		if got := paramValue([]byte(tt.href), "f", "csv"); got != want {
			t.Errorf("paramValue(%s) = %d, want %d", tt.href, got, want)
		}
	}
}
