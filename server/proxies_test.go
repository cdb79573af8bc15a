package server_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/protectmap/protectmap/server"
)

// TestForwardedForRateLimit: X-Forwarded-For names the client only when a
// trusted proxy sent it; from anyone else it cannot dodge the rate limit
// (regression: any client could, by sending a new address each time).
func TestForwardedForRateLimit(t *testing.T) {
	trusted, err := server.ParseTrustedProxies("10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, func(c *server.Config) {
		c.Limits.RatePerSecond, c.Limits.RateBurst, c.TrustedProxies = 0.001, 1, trusted
	})
	send := func(remote, xff string) int {
		req := httptest.NewRequest(http.MethodGet, "/collections", nil)
		req.RemoteAddr, req.Header["X-Forwarded-For"] = remote, []string{xff}
		rec := httptest.NewRecorder()
		f.e.ServeHTTP(rec, req)
		return rec.Code
	}
	if a, b := send("203.0.113.9:1000", "198.51.100.1"), send("203.0.113.9:1001", "198.51.100.2"); a != 200 || b != http.StatusTooManyRequests {
		t.Errorf("one client claiming two addresses: %d then %d, want 200 then 429", a, b)
	}
	if a, b := send("10.0.0.1:1000", "198.51.100.1"), send("10.0.0.1:1001", "198.51.100.2"); a != 200 || b != 200 {
		t.Errorf("two clients behind the trusted proxy: %d and %d, want 200 each", a, b)
	}
}

func TestParseTrustedProxies(t *testing.T) {
	tests := []struct {
		list string
		want []string
		bad  bool
	}{
		{"", nil, false},
		{"none", nil, false},
		{"127.0.0.1/8, ::1", []string{"127.0.0.0/8", "::1/128"}, false},
		{"10.1.2.3,::ffff:192.0.2.1", []string{"10.1.2.3/32", "192.0.2.1/32"}, false},
		{"::ffff:10.0.0.0/104", []string{"10.0.0.0/8"}, false},
		{"10.0.0.0/33", nil, true},
		{"::ffff:0.0.0.0/0", nil, true},
		{"proxy.example", nil, true},
	}
	for _, tt := range tests {
		got, err := server.ParseTrustedProxies(tt.list)
		if (err != nil) != tt.bad {
			t.Errorf("%q: error %v", tt.list, err)
			continue
		}
		var s []string
		for _, p := range got {
			s = append(s, p.String())
		}
		if !slices.Equal(s, tt.want) {
			t.Errorf("%q: %v, want %v", tt.list, s, tt.want)
		}
	}
}

// FuzzParseTrustedProxies: every prefix accepted is valid and masked.
func FuzzParseTrustedProxies(f *testing.F) {
	for _, s := range []string{"127.0.0.1/8, ::1", "none", "10.0.0.0/33", "::ffff:10.0.0.0/104", ",,", "1.2.3.4/0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, list string) {
		got, err := server.ParseTrustedProxies(list)
		if err != nil {
			return
		}
		for _, p := range got {
			if !p.IsValid() || p != p.Masked() || p.Addr().Is4In6() {
				t.Fatalf("%q: prefix %v", list, p)
			}
		}
	})
}
