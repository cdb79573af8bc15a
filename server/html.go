package server

import (
	"bytes"
	"encoding/json"
	"html/template"
	"io/fs"
	"net/url"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"
)

// pageMap is the map script of the HTML pages and its styles, as the map
// app's build names them in its manifest; empty when no app is built in,
// and then the pages carry no map.
type pageMap struct {
	Script string
	Styles []string
}

// mapEntry is the build's name for the pages' map script.
const mapEntry = "src/features.js"

// readPageMap finds the pages' map in the built app's manifest: the entry's
// script, and the styles of it and of every chunk it imports.
func readPageMap(app fs.FS) pageMap {
	if app == nil {
		return pageMap{}
	}
	raw, err := fs.ReadFile(app, ".vite/manifest.json")
	if err != nil {
		return pageMap{}
	}
	var chunks map[string]struct {
		File    string   `json:"file"`
		CSS     []string `json:"css"`
		Imports []string `json:"imports"`
	}
	if json.Unmarshal(raw, &chunks) != nil {
		return pageMap{}
	}
	entry, ok := chunks[mapEntry]
	if !ok {
		return pageMap{}
	}
	m := pageMap{Script: "/" + entry.File}
	for _, name := range append([]string{mapEntry}, entry.Imports...) {
		for _, css := range chunks[name].CSS {
			if !slices.Contains(m.Styles, "/"+css) {
				m.Styles = append(m.Styles, "/"+css)
			}
		}
	}
	return m
}

// htmlAsked says whether a resource offered as r and as an HTML page is
// asked for as the page: by f, whose value parsing accepted, else by the
// Accept header.
func htmlAsked(c echo.Context, r representation) (bool, error) {
	switch queryArg(c, "f") {
	case "":
		i, err := accepts(c, r, asHTML)
		return i == 1, err
	case asHTML.f:
		addVary(c.Response().Header(), echo.HeaderAccept)
		return true, nil
	}
	addVary(c.Response().Header(), echo.HeaderAccept)
	return false, nil
}

// docFormat accepts f=json and f=html, the representations of the
// landing page and collections.
func docFormat(v string) error {
	if v != asJSON.f && v != asHTML.f {
		return notAcceptable([]representation{asJSON, asHTML}, v)
	}
	return nil
}

// htmlPage is what every HTML page shows: where it is, its JSON form, and the
// GeoJSON its map draws (none when MapSrc is empty).
type htmlPage struct {
	Title   string
	Base    string
	Trail   []link // the pages above this one, top first
	JSON    string
	MapSrc  string
	Map     pageMap
	Content any
}

// sendPage renders the HTML page of kind (a template in pages) for the
// current request.
func (h *handlers) sendPage(c echo.Context, kind string, p htmlPage) error {
	p.Base, p.Map = h.baseURL(c), h.pageMap
	p.JSON = h.withQuery(c, map[string]string{"f": asJSON.f})
	var b bytes.Buffer
	if err := pages.ExecuteTemplate(&b, kind, p); err != nil {
		return err
	}
	return send(c, mediaHTML, b.Bytes(), true)
}

// trail is the path of pages from the landing page down to collection id
// (none for the list of collections).
func (h *handlers) trail(c echo.Context, id string) []link {
	base := h.baseURL(c)
	t := []link{{Href: base + "/", Title: serviceTitle}, {Href: base + "/collections?f=html", Title: "collections"}}
	if id != "" {
		t = append(t, link{Href: base + collectionPath(id) + "?f=html", Title: id})
	}
	return t
}

// mapSource is the GeoJSON of the current request the page's map draws:
// in CRS84 whatever crs the page was asked in, since Leaflet reads
// longitude and latitude.
func (h *handlers) mapSource(c echo.Context) string {
	return h.withQuery(c, map[string]string{"f": asJSON.f, "crs": ""})
}

// collectionRow is a collection as the list of collections shows it: its
// pages where it has them, else its JSON.
type collectionRow struct {
	Title, Page, Items, ItemsTitle, JSON, ItemsJSON string
}

func collectionRows(docs []collectionDoc) []collectionRow {
	rows := make([]collectionRow, len(docs))
	for k, d := range docs {
		r := &rows[k]
		r.Title = d.Title
		for _, l := range d.Links {
			switch {
			case l.Rel == "self":
				r.JSON = l.Href
			case l.Rel == "items":
				r.ItemsJSON, r.ItemsTitle = l.Href, l.Title
			case l.Rel == "alternate" && l.Type == "text/html":
				r.Page = l.Href
			}
		}
		r.Items = r.ItemsJSON
		if r.Page != "" {
			r.Items = withF(r.ItemsJSON, asHTML.f)
		} else {
			r.Page = r.JSON
		}
	}
	return rows
}

// featureView is a feature as a page lists it; the page's map draws its
// geometry from the JSON.
type featureView struct {
	ID       any `json:"id"`
	Geometry *struct {
		Type string `json:"type"`
	} `json:"geometry"`
	Properties map[string]json.RawMessage `json:"properties"`
}

// itemsView is a page of items as its page shows it.
type itemsView struct {
	Collection     string
	NumberMatched  int           `json:"numberMatched"`
	NumberReturned int           `json:"numberReturned"`
	Links          []link        `json:"links"`
	Features       []featureView `json:"features"`
}

// sendItemsPage renders a page of items of collection from its GeoJSON.
func (h *handlers) sendItemsPage(c echo.Context, collection string, geoJSON []byte) error {
	v := itemsView{Collection: collection}
	if err := json.Unmarshal(geoJSON, &v); err != nil {
		return err
	}
	return h.sendPage(c, "items", htmlPage{
		Title: collection + ": items", Trail: h.trail(c, collection),
		MapSrc: h.mapSource(c), Content: v,
	})
}

// sendItemPage renders one feature of collection from its GeoJSON.
func (h *handlers) sendItemPage(c echo.Context, collection string, geoJSON []byte) error {
	var v featureView
	if err := json.Unmarshal(geoJSON, &v); err != nil {
		return err
	}
	return h.sendPage(c, "item", htmlPage{
		Title: collection + ": " + idText(v.ID), Trail: h.trail(c, collection),
		MapSrc: h.mapSource(c), Content: v,
	})
}

// withF is href with its f parameter set to f.
func withF(href, f string) string {
	u, err := url.Parse(href)
	if err != nil {
		return href
	}
	q := u.Query()
	q.Set("f", f)
	u.RawQuery = q.Encode()
	return u.String()
}

// idText is a feature id as text: a string as it is, a number in JSON.
func idText(id any) string {
	switch id := id.(type) {
	case string:
		return id
	case float64:
		return strconv.FormatFloat(id, 'f', -1, 64)
	case nil:
		return ""
	}
	b, _ := json.Marshal(id)
	return string(b)
}

// valueText is a property value as a page shows it: a string without its
// quotes, anything else as JSON.
func valueText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// pages are the HTML pages' templates: a layout and, for each kind of
// page, its content.
var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"id": idText, "value": valueText,
	"asPage": func(href string) string { return withF(href, asHTML.f) },
}).Parse(`
{{define "head"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} - protectmap</title>
<link rel="icon" href="data:,">
{{range .Map.Styles}}<link rel="stylesheet" href="{{.}}">
{{end}}<style>
body{font:15px/1.4 system-ui,sans-serif;margin:0 auto;max-width:72rem;padding:0 1rem 2rem;color:#111}
nav{margin:1rem 0}nav a{margin-right:.3rem}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:left;vertical-align:top}
#features-map{height:28rem;border:1px solid #ccc}
</style></head><body>
<nav aria-label="breadcrumb">{{range .Trail}}<a href="{{.Href}}">{{.Title}}</a> / {{end}}</nav>
<h1>{{.Title}}</h1>
<p>This page as <a href="{{.JSON}}" type="application/json">JSON</a>.</p>
{{if and .MapSrc .Map.Script}}<div id="features-map" data-src="{{.MapSrc}}" role="region" aria-label="map of the features"></div>
<script type="module" src="{{.Map.Script}}"></script>{{end}}
{{end}}
{{define "foot"}}</body></html>
{{end}}

{{define "collections"}}{{template "head" .}}
<table><thead><tr><th>collection</th><th>features</th><th>JSON</th></tr></thead><tbody>
{{range .Content}}<tr><td><a href="{{.Page}}">{{.Title}}</a></td>
<td><a href="{{.Items}}">{{.ItemsTitle}}</a></td>
<td><a href="{{.JSON}}">collection</a>, <a href="{{.ItemsJSON}}">items</a></td></tr>
{{end}}</tbody></table>
{{template "foot" .}}{{end}}

{{define "collection"}}{{template "head" .}}
{{with .Content}}{{if .Extent}}{{with .Extent.Spatial}}<p>Extent (CRS84): {{range .BBox}}{{index . 0}}, {{index . 1}} to {{index . 2}}, {{index . 3}}{{end}}</p>{{end}}
{{with .Extent.Temporal}}<p>Time: {{range .Interval}}{{index . 0}} to {{index . 1}}{{end}}</p>{{end}}{{end}}
<ul>{{range .Links}}<li><a href="{{.Href}}" type="{{.Type}}">{{.Title}}</a> ({{.Rel}}, {{.Type}})</li>
{{end}}</ul>
<p><a href="{{asPage (index .Links 1).Href}}">Browse the items</a> as a web page.</p>{{end}}
{{template "foot" .}}{{end}}

{{define "items"}}{{template "head" .}}
{{with .Content}}<p>{{.NumberReturned}} of {{.NumberMatched}} matching features.
{{range .Links}}{{if or (eq .Rel "prev") (eq .Rel "next")}} <a href="{{asPage .Href}}" rel="{{.Rel}}">{{.Title}}</a>{{end}}{{end}}</p>
<table><thead><tr><th>id</th><th>geometry</th><th>properties</th></tr></thead><tbody>
{{range .Features}}<tr><td>{{id .ID}}</td><td>{{with .Geometry}}{{.Type}}{{end}}</td>
<td>{{range $k, $v := .Properties}}<b>{{$k}}</b>: {{value $v}}<br>{{end}}</td></tr>
{{end}}</tbody></table>{{end}}
{{template "foot" .}}{{end}}

{{define "item"}}{{template "head" .}}
{{with .Content}}<p>Geometry: {{with .Geometry}}{{.Type}}{{else}}none{{end}}</p>
<table><tbody>{{range $k, $v := .Properties}}<tr><th>{{$k}}</th><td>{{value $v}}</td></tr>
{{end}}</tbody></table>{{end}}
{{template "foot" .}}{{end}}
`))
