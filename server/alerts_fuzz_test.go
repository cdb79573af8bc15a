package server

import (
	"errors"
	"net/netip"
	"net/url"
	"testing"

	"github.com/protectmap/protectmap/geo"
)

// FuzzParseAlert: a POST /alerts body is refused with a *ParamError or
// read into a subscription whose distance is in range and whose webhook,
// if any, is an http(s) URL of a permitted host.
func FuzzParseAlert(f *testing.F) {
	for _, seed := range []string{
		`{"meters":1000,"collections":["energy"],"classes":["substation"],"webhook":"https://example.org/h"}`,
		`{"meters":5,"site":"hospitals/hosp-1"}`,
		`{"meters":5,"webhook":"http://127.0.0.1/x"}`,
		`{"meters":5,"webhook":"http://[::ffff:10.0.0.1]:80/x"}`,
		`{"meters":-1}`, `{}`, `[]`, `{"meters":1e309}`, `{"meters":5}{"meters":6}`,
	} {
		f.Add([]byte(seed))
	}
	nets := webhookNets{netip.MustParsePrefix("192.0.2.0/24")}
	f.Fuzz(func(t *testing.T, body []byte) {
		sub, err := parseAlert(body, nets)
		if err != nil {
			var pe *ParamError
			if !errors.As(err, &pe) {
				t.Fatalf("refused with %T %v", err, err)
			}
			return
		}
		if !(sub.Meters > 0 && sub.Meters <= geo.MaxRadiusMeters) {
			t.Fatalf("meters %v accepted", sub.Meters)
		}
		if sub.WebhookURL != "" {
			u, err := url.Parse(sub.WebhookURL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.User != nil {
				t.Fatalf("webhook %q accepted", sub.WebhookURL)
			}
			if a, err := netip.ParseAddr(u.Hostname()); err == nil && !nets.permits(a) {
				t.Fatalf("webhook %q to a refused address accepted", sub.WebhookURL)
			}
		}
	})
}
