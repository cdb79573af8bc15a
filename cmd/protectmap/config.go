package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
)

// envPrefix starts the environment variable of every setting.
const envPrefix = "PROTECTMAP_"

// configFlag names the optional settings file.
const configFlag = "config"

// Where a setting's value came from, in order of precedence.
const (
	fromFlag    = "flag"
	fromEnv     = "env"
	fromFile    = "file"
	fromDefault = "default"
)

// settings layers a command's flags over its environment and a settings
// file: a flag on the command line wins, then PROTECTMAP_<NAME> (the flag's
// name in capitals, '-' as '_'), then the file named by --config or
// PROTECTMAP_CONFIG, then the flag's default.
type settings struct {
	fs *flag.FlagSet
	// source says where each flag's value came from.
	source map[string]string
	// secret flags are printed redacted.
	secret map[string]bool
}

// envName is the environment variable of a flag.
func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// newSettings adds --config to fs and names each flag's environment
// variable in its help, so --help documents every way to set it.
func newSettings(fs *flag.FlagSet, secret ...string) *settings {
	fs.String(configFlag, "", "settings file: JSON object or KEY=VALUE lines, keys being flag names; flags and environment variables override it")
	s := &settings{fs: fs, source: map[string]string{}, secret: map[string]bool{}}
	for _, name := range secret {
		s.secret[name] = true
	}
	fs.VisitAll(func(f *flag.Flag) { f.Usage += " [" + envName(f.Name) + "]" })
	return s
}

// parse reads the command line, then the environment (getenv) and the
// settings file for every flag the command line left unset.
func (s *settings) parse(args []string, getenv func(string) string) error {
	if err := parseFlags(s.fs, args); err != nil {
		return err
	}
	s.fs.Visit(func(f *flag.Flag) { s.source[f.Name] = fromFlag })
	var errs []string
	s.fs.VisitAll(func(f *flag.Flag) {
		if s.source[f.Name] != "" {
			return
		}
		if v, ok := lookupEnv(getenv, envName(f.Name)); ok {
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Sprintf("%s=%q: %v", envName(f.Name), v, err))
			}
			s.source[f.Name] = fromEnv
		}
	})
	if len(errs) > 0 {
		return usagef("%s", strings.Join(errs, "; "))
	}
	file := s.fs.Lookup(configFlag).Value.String()
	if file == "" {
		return nil
	}
	body, err := os.ReadFile(file)
	if err != nil {
		return usagef("--%s: %v", configFlag, err)
	}
	entries, err := parseSettingsFile(body)
	if err != nil {
		return usagef("%s: %v", file, err)
	}
	for _, e := range entries {
		f := s.fs.Lookup(e.key)
		switch {
		case f == nil || e.key == configFlag:
			return usagef("%s:%d: unknown setting %q (settings are the flag names of protectmap %s --help)", file, e.line, e.key, s.fs.Name())
		case s.source[e.key] == fromFlag || s.source[e.key] == fromEnv:
			continue
		}
		if err := f.Value.Set(e.value); err != nil {
			return usagef("%s:%d: %s: %v", file, e.line, e.key, err)
		}
		s.source[e.key] = fromFile
	}
	return nil
}

// lookupEnv treats an empty variable as unset, as shells make it easy to
// leave one empty by mistake.
func lookupEnv(getenv func(string) string, name string) (string, bool) {
	v := getenv(name)
	return v, v != ""
}

// entry is one setting of a settings file.
type entry struct {
	key, value string
	line       int
}

// parseSettingsFile reads a JSON object ({"addr": ":8080", "layer":
// ["a=a.geojson"]}: arrays set a repeatable flag once per element) or
// KEY=VALUE lines, with '#' comments and blank lines ignored.
func parseSettingsFile(body []byte) ([]entry, error) {
	if trimmed := bytes.TrimSpace(body); len(trimmed) > 0 && trimmed[0] == '{' {
		return parseJSONSettings(trimmed)
	}
	var out []entry
	sc := bufio.NewScanner(bytes.NewReader(body))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("line %d: want KEY=VALUE, got %q", n, line)
		}
		out = append(out, entry{key: strings.TrimSpace(k), value: strings.TrimSpace(v), line: n})
	}
	return out, sc.Err()
}

func parseJSONSettings(body []byte) ([]entry, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("not a JSON object of settings: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("text after the JSON object")
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var out []entry
	for _, k := range keys {
		if strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("a setting with an empty name")
		}
		values, isList := m[k].([]any)
		if !isList {
			values = []any{m[k]}
		}
		for _, v := range values {
			var s string
			switch v := v.(type) {
			case string:
				s = v
			case json.Number:
				s = v.String()
			case bool:
				s = strconv.FormatBool(v)
			default:
				return nil, fmt.Errorf("setting %q: want a string, number, boolean or a list of them", k)
			}
			out = append(out, entry{key: k, value: s})
		}
	}
	return out, nil
}

// describe lists every setting with its value and where it came from, for
// the log at start. Secret settings show only whether they are set, and
// passwords in URLs are hidden.
func (s *settings) describe() []any {
	var out []any
	s.fs.VisitAll(func(f *flag.Flag) {
		v := f.Value.String()
		switch {
		case s.secret[f.Name] && v != "":
			v = "[redacted]"
		case strings.Contains(v, "://"):
			if u, err := url.Parse(v); err == nil && u.User != nil {
				v = u.Redacted()
			}
		}
		src := s.source[f.Name]
		if src == "" {
			src = fromDefault
		}
		out = append(out, f.Name, v+" ("+src+")")
	})
	return out
}
