package server_test

import (
	"fmt"
	"testing"
)

func BenchmarkTmpFlood(b *testing.B) {
	e, sites := benchServer(b)
	var targets []string
	for i := 0; i < 64; i++ {
		c := sites[(i*7919)%len(sites)].Geometry.Bound().Center()
		targets = append(targets, fmt.Sprintf("/proximity?lon=%.5f&lat=%.5f&radius=200000&limit=10000", c[0], c[1]))
	}
	b.Run("identity", func(b *testing.B) { serveTargets(b, e, targets) })
	b.Run("gzip", func(b *testing.B) { serveTargets(b, e, targets, "Accept-Encoding", "gzip") })
}
