package main

import (
	"fmt"
	"math"
	"strings"
)

// panel is one figure of the cost curve against the number of features.
type panel struct {
	title string
	value func(point) float64
}

// plot draws each figure of ps against the number of features, both on
// logarithmic scales, as an SVG of four panels side by side.
func plot(ps []point) []byte {
	panels := []panel{
		{"load (CPU), s", func(p point) float64 { return p.LoadCPUSeconds }},
		{"VmRSS, MiB", func(p point) float64 { return float64(p.RSS) / (1 << 20) }},
		{"Nearby CPU, µs", func(p point) float64 { return p.NearbyMicros }},
		{"proximity over HTTP, req/s", func(p point) float64 { return p.RPS }},
	}
	const w, h, pad = 240, 200, 40
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">`+"\n", w*len(panels), h)
	b.WriteString(`<rect width="100%" height="100%" fill="white"/>` + "\n")
	for k, pn := range panels {
		x0 := float64(k * w)
		fmt.Fprintf(&b, `<text x="%.0f" y="14" font-weight="bold">%s</text>`+"\n", x0+pad, pn.title)
		xs, ys := make([]float64, len(ps)), make([]float64, len(ps))
		for i, p := range ps {
			xs[i], ys[i] = math.Log10(float64(p.Features)), math.Log10(math.Max(pn.value(p), 1e-3))
		}
		xlo, xhi := span(xs)
		ylo, yhi := span(ys)
		px := func(v float64) float64 { return x0 + pad + (v-xlo)/(xhi-xlo)*(w-pad-20) }
		py := func(v float64) float64 { return h - pad + (v-ylo)/(yhi-ylo)*(2*pad-h) }
		fmt.Fprintf(&b, `<path d="M%.1f %d V%d H%.1f" fill="none" stroke="#888"/>`+"\n", px(xlo), 24, h-pad, px(xhi))
		for e := math.Ceil(xlo); e <= xhi; e++ {
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">10<tspan dy="-5" font-size="8">%.0f</tspan></text>`+"\n", px(e), h-pad+16, e)
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">features</text>`+"\n", px((xlo+xhi)/2), h-8)
		for _, v := range []float64{ylo, yhi} {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end">%s</text>`+"\n", x0+pad-4, py(v)+4, short(math.Pow(10, v)))
		}
		var d strings.Builder
		for i := range ps {
			cmd := " L"
			if i == 0 {
				cmd = "M"
			}
			fmt.Fprintf(&d, "%s%.1f %.1f", cmd, px(xs[i]), py(ys[i]))
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="#c0392b"/>`+"\n", px(xs[i]), py(ys[i]))
		}
		fmt.Fprintf(&b, `<path d="%s" fill="none" stroke="#c0392b" stroke-width="2"/>`+"\n", d.String())
	}
	b.WriteString("</svg>\n")
	return []byte(b.String())
}

// span is the range of vs, widened a little so no point sits on an edge;
// a single value gets a range around it.
func span(vs []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, v := range vs {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	if hi-lo < 0.2 {
		lo, hi = lo-0.1, hi+0.1
	}
	return lo - 0.05*(hi-lo), hi + 0.05*(hi-lo)
}

// short writes a figure with three significant digits at most.
func short(v float64) string { return fmt.Sprintf("%.3g", v) }
