// Package web embeds protectmap's map: a Leaflet app built by Vite into dist/
// (`make build` runs `npm ci` and `npm run build` here before `go build`).
// Leaflet and its plugins come from npm, pinned by package-lock.json, so the
// page loads and works with no internet.
package web

import (
	"embed"
	"io/fs"
)

// dist holds the built app. A fresh clone holds only dist/.gitkeep, which
// keeps the embed pattern valid until the app is built.
//
//go:embed all:dist
var dist embed.FS

// Assets returns the built app: index.html at the root and its scripts,
// styles and images under assets/. When the app has not been built it holds
// no index.html, and the server shows its fallback page instead.
func Assets() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // "dist" is a constant, valid path
	}
	return sub
}
