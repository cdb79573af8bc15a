package server_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/protectmap/protectmap/server"
)

// TestAuth: writes need an accepted bearer token (401 with a challenge
// otherwise, 403 when writes are disabled), reads stay public, and no
// token, accepted or not, reaches the log.
func TestAuth(t *testing.T) {
	f := newStrikeFixture(t, sqliteStore(t))
	disabled := newStrikeFixture(t, sqliteStore(t), func(c *server.Config) { c.Tokens = nil })
	const wrong = "not-the-t0ken-anyone-was-given"
	body := strikeAt(30.4702, 50.5253, moratoriumStart, "")
	tests := []struct {
		name          string
		f             *strikeFixture
		method, path  string
		authorization string
		status        int
		challenge     string // a part of WWW-Authenticate, for 401s
	}{
		{"no header", f, http.MethodPost, "/strikes", "", 401, `Bearer realm="protectmap"`},
		{"not bearer", f, http.MethodPost, "/strikes", "Basic " + testToken, 401, `error="invalid_request"`},
		{"bearer without token", f, http.MethodPost, "/strikes", "Bearer ", 401, `error="invalid_request"`},
		{"wrong token", f, http.MethodPost, "/strikes", "Bearer " + wrong, 401, `error="invalid_token"`},
		{"a prefix of the token", f, http.MethodPost, "/strikes", "Bearer " + testToken[:10], 401, `error="invalid_token"`},
		{"delete, wrong token", f, http.MethodDelete, "/strikes/x", "Bearer " + wrong, 401, `error="invalid_token"`},
		{"writes disabled", disabled, http.MethodPost, "/strikes", "Bearer " + testToken, 403, ""},
		{"accepted", f, http.MethodPost, "/strikes", "Bearer " + testToken, 201, ""},
		{"scheme in any case", f, http.MethodPost, "/strikes", "bearer " + testToken, 201, ""},
		{"the other token", f, http.MethodPost, "/strikes", "Bearer another-token", 201, ""},
		{"reads are public", f, http.MethodGet, "/strikes", "", 200, ""},
		{"reads ignore a wrong token", f, http.MethodGet, "/report", "Bearer " + wrong, 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(body))
			req.RemoteAddr = "127.0.0.1:40000"
			req.Header.Set("Content-Type", "application/geo+json")
			if tc.authorization != "" {
				req.Header.Set("Authorization", tc.authorization)
			}
			rec := httptest.NewRecorder()
			tc.f.e.ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Fatalf("%d, want %d\n%s", rec.Code, tc.status, rec.Body)
			}
			challenge := rec.Header().Get("WWW-Authenticate")
			if tc.status == 401 && !strings.Contains(challenge, tc.challenge) {
				t.Errorf("WWW-Authenticate %q lacks %q", challenge, tc.challenge)
			}
			if tc.status >= 400 {
				if ctype := rec.Header().Get("Content-Type"); ctype != "application/problem+json" {
					t.Errorf("Content-Type %q", ctype)
				}
			}
			if tc.status == 403 && !strings.Contains(rec.Body.String(), "no tokens configured") {
				t.Errorf("403 does not say why: %s", rec.Body)
			}
		})
	}
	if n := len(featureIDs(t, f.getJSON(t, "/strikes"))); n != 3 {
		t.Errorf("%d strikes recorded, want one per accepted POST (3)", n)
	}
	for _, fx := range []*strikeFixture{f, disabled} {
		log := fx.logs.String()
		if !strings.Contains(log, "status=401") && !strings.Contains(log, "status=403") {
			t.Fatalf("the refusals are not in the log:\n%s", log)
		}
		for _, secret := range []string{testToken, testToken[:10], wrong, "another-token"} {
			if strings.Contains(log, secret) {
				t.Errorf("the log holds the token %q:\n%s", secret, log)
			}
		}
	}
}
