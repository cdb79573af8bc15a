package server

import (
	"bytes"
	"html/template"
	"io/fs"
	"net/http"

	"github.com/labstack/echo/v4"
)

// landing answers GET /: the map app (or a page linking the API) for
// browsers, the OGC API landing page for f=json and JSON clients.
func (h *handlers) landing(c echo.Context) error {
	if f := queryArg(c, "f"); f != "" {
		if err := docFormat(f); err != nil {
			return err
		}
	}
	html, err := htmlAsked(c, asJSON)
	if err != nil {
		return err
	}
	if !html {
		// The map app may read its own query parameters; the JSON landing
		// page refuses unknown ones like every other resource.
		if err := checkParams(c); err != nil {
			return err
		}
		return h.landingJSON(c)
	}
	if h.cfg.Web != nil {
		// An app that was never built has no index.html: the page stands in.
		if err := h.serveFile(c, "index.html", "no-cache"); err != echo.ErrNotFound {
			return err
		}
	}
	var b bytes.Buffer
	if err := landingPage.Execute(&b, h.baseURL(c)); err != nil {
		return err
	}
	return send(c, mediaHTML, b.Bytes(), false)
}

// landingPage stands in for the map app when none is built in.
var landingPage = template.Must(template.New("landing").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>protectmap</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><h1>protectmap</h1>
<p>Protected civilian infrastructure and the exact distance of strikes to it, as OGC API - Features.</p>
<ul>
<li><a href="{{.}}/collections">Collections</a> of protected sites</li>
<li><a href="{{.}}/api">API definition</a> (OpenAPI 3.0)</li>
<li><a href="{{.}}/conformance">Conformance</a></li>
<li><a href="{{.}}/proximity?lon=30.5234&amp;lat=50.4501&amp;radius=5000">Proximity</a>: sites near a point, nearest first</li>
<li><a href="{{.}}/?f=json">This page as JSON</a></li>
</ul></body></html>
`))

// asset serves the map app's built files.
func (h *handlers) asset(c echo.Context) error {
	if h.cfg.Web == nil {
		return echo.ErrNotFound
	}
	// Not path.Join: "assets/../x" must fail fs.ValidPath, not become "x".
	return h.serveFile(c, "assets/"+c.Param("*"), "public, max-age=3600")
}

// serveFile serves one regular file of the map app; directories are not listed.
func (h *handlers) serveFile(c echo.Context, name, cacheControl string) error {
	if !fs.ValidPath(name) {
		return echo.ErrNotFound
	}
	st, err := fs.Stat(h.cfg.Web, name)
	if err != nil || st.IsDir() {
		return echo.ErrNotFound
	}
	c.Response().Header().Set(echo.HeaderCacheControl, cacheControl)
	http.ServeFileFS(c.Response(), c.Request(), h.cfg.Web, name)
	return nil
}

func (h *handlers) mapConfig(c echo.Context) error {
	if err := checkParams(c); err != nil {
		return err
	}
	return sendJSON(c, mediaJSON, struct {
		TileURL         string `json:"tileURL"`
		TileAttribution string `json:"tileAttribution"`
	}{h.cfg.TileURL, h.cfg.TileAttribution}, false)
}

func (h *handlers) basemapFile(c echo.Context) error {
	if h.basemap == nil {
		return notFound("this server has no offline basemap")
	}
	if err := checkParams(c); err != nil {
		return err
	}
	return h.basemap.serve(c)
}
