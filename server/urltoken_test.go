package server_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestTokenInURL: a token in ?access_token= is refused with 400 before
// anything reads it, and is echoed neither in the problem's instance nor
// in the log (regression: both carried it).
func TestTokenInURL(t *testing.T) {
	const secret = "s3cret-in-a-url"
	f := newStrikeFixture(t, sqliteStore(t))
	for _, tc := range []struct{ method, target string }{
		{http.MethodGet, "/collections?access_token=" + secret},
		{http.MethodGet, "/strikes?limit=2&access_%74oken=" + secret + "&f=json"},
		{http.MethodPost, "/strikes?access_token=" + secret},
		{http.MethodGet, "/no/such/path?access_token=" + secret},
	} {
		rec := f.send(t, tc.method, tc.target, "application/geo+json", collectionOf(strikeAt(30, 50, moratoriumStart, "")), true)
		body := rec.Body.String()
		if rec.Code != http.StatusBadRequest || rec.Header().Get("Content-Type") != "application/problem+json" ||
			!strings.Contains(body, "Authorization") || !strings.Contains(body, "REDACTED") {
			t.Errorf("%s %s: %d %s", tc.method, tc.target, rec.Code, body)
		}
		if strings.Contains(body, secret) {
			t.Errorf("%s %s: the answer echoes the token: %s", tc.method, tc.target, body)
		}
	}
	if logs := f.logs.String(); strings.Contains(logs, secret) || !strings.Contains(logs, "access_token=REDACTED") {
		t.Errorf("the log holds the token, or no request:\n%s", logs)
	}
	if rec := f.get(t, "/strikes?f=json"); rec.Code != 200 {
		t.Errorf("nothing was recorded meanwhile? %d %s", rec.Code, rec.Body)
	}
	if n := len(f.getJSON(t, "/strikes")["features"].([]any)); n != 0 {
		t.Errorf("%d strikes recorded through URLs with tokens", n)
	}
}
