package server

import (
	"encoding/hex"
	"net/http"
	"strings"
	"testing"

	"github.com/protectmap/protectmap/server/store"
)

// FuzzTokenSet: a NAME:TOKEN line with a valid name and a secret is the
// secret, named NAME; any other line is a bare token, named by its digest.
// Either way the secret alone is accepted, under a name that is a valid
// actor, and neither the line nor the name lets another token in.
func FuzzTokenSet(f *testing.F) {
	for _, s := range []string{"alice:s3cret", "s3cret", " bob : tok ", "a:", ":tok", "al ice:tok", "a:b:c", "",
		"x@y.z-1_2:tok", strings.Repeat("n", 65) + ":tok", "\t", "na\u00efve:tok", "alice:s3cret\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		set := newTokenSet([]string{line})
		trimmed := strings.TrimSpace(line)
		if trimmed == "" {
			if len(set) != 0 {
				t.Fatalf("%q: a blank line gives a token", line)
			}
			return
		}
		if len(set) != 1 {
			t.Fatalf("%q: %d tokens", line, len(set))
		}
		name, secret, named := strings.Cut(trimmed, ":")
		named = named && tokenName.MatchString(name) && strings.TrimSpace(secret) != ""
		if !named {
			name, secret = set[0].name, trimmed
			digits, ok := strings.CutPrefix(name, "token-")
			if _, err := hex.DecodeString(digits); !ok || err != nil || len(digits) != 8 {
				t.Fatalf("%q: a bare token named %q", line, name)
			}
		}
		secret = strings.TrimSpace(secret)
		if !tokenName.MatchString(set[0].name) {
			t.Fatalf("%q: the name %q is no actor", line, set[0].name)
		}
		if got, ok := set.accepts(secret); !ok || got != name {
			t.Fatalf("%q: the secret %q gives %q, %v; want %q", line, secret, got, ok, name)
		}
		if named {
			if _, ok := set.accepts(trimmed); ok {
				t.Fatalf("%q: the whole line is accepted as well as its secret", line)
			}
			if _, ok := set.accepts(name); ok && name != secret {
				t.Fatalf("%q: the name alone is accepted", line)
			}
		}
		if got, err := set.check("Bearer " + secret); secret != "" && !strings.ContainsAny(secret, " \t") && (err != nil || got != name) {
			t.Fatalf("%q: Authorization: Bearer %s gives %q, %v", line, secret, got, err)
		}
	})
}

// FuzzManifestOf: response headers give a CSV report's manifest, or an
// error, never a panic; one accepted carries a data version and a body
// digest of SHA-256's size.
func FuzzManifestOf(f *testing.F) {
	ok := "v1\n" + strings.Repeat("ab", 32) + "\n3:" + strings.Repeat("cd", 32) + "\nsha-256=:" + "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:" + "\n2026-12-06T17:00:00Z"
	for _, s := range []string{ok, "v1\n\n\nsha-256=:AA==:\n", "v1\n\n0:\nsha-512=:AA==:, sha-256=:AA==:\n", "\n\n\n\n", "v1\n\n1:zz\nsha-256=:!:\nnot a time"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v := strings.SplitN(raw, "\n", 5)
		for len(v) < 5 {
			v = append(v, "")
		}
		h := http.Header{}
		for i, k := range []string{"Protectmap-Data-Version", "Protectmap-Agreements-Digest", "Protectmap-Audit-Head", "Content-Digest", "Protectmap-Generated-At"} {
			if v[i] != "" {
				h.Set(k, v[i])
			}
		}
		m, err := manifestOf(h)
		if err != nil {
			return
		}
		if m.DataVersion == "" || len(m.BodySHA256) == 0 || m.AuditHead.Seq < 0 {
			t.Fatalf("%q: accepted as %+v", raw, m)
		}
	})
}

// FuzzReadCSVReport: any body is a CSV report's claims or an error, never
// a panic; a row short of a column is an error, not an index out of range.
func FuzzReadCSVReport(f *testing.F) {
	for _, s := range []string{"id,verdict,agreements_breached\ns1,protected_site_hit,a;b\n", "id,verdict\ns1,x\n", "",
		"verdict,id,agreements_breached\n'-x,'=y,\n", "id,verdict,agreements_breached\n\"s1\nx\",no,\n", "id,verdict,agreements_breached\ns1\n"} {
		f.Add(s)
	}
	h := http.Header{}
	h.Set("Protectmap-Data-Version", "v1")
	h.Set("Content-Digest", "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:")
	f.Fuzz(func(t *testing.T, body string) {
		r, claims, err := readCSVReport([]byte(body), h)
		if err != nil {
			return
		}
		if r.BodyIntact != (body == "") {
			t.Fatalf("%q: body intact %v", body, r.BodyIntact)
		}
		for _, c := range claims {
			if c.breached == nil {
				t.Fatalf("%q: a claim with nil breached", body)
			}
		}
	})
}

// FuzzParseAuditQuery: any query string is refused with a *ParamError or
// gives a page size in range.
func FuzzParseAuditQuery(f *testing.F) {
	for _, s := range []string{"", "from=2025-03-01&to=2025-03-31", "limit=0", "limit=99999999999999999999", "cursor=ZTE",
		"from=2025-04-01&to=2025-03-01", "to=..", "from=2025-03-01T00:00:00Z&limit=5", "limit=1&limit=2", "nope=1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, ok := parsed(t, raw, func(raw string) (auditQuery, error) {
			q := auditQuery{window: openSpan, limit: store.DefaultLimit}
			return q, auditParams.parse(raw, &q, nil)
		})
		if ok && (q.limit < 1 || q.limit > store.MaxLimit) {
			t.Fatalf("%q: limit %d", raw, q.limit)
		}
	})
}
