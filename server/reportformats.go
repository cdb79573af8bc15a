package server

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"slices"

	"github.com/labstack/echo/v4"
	"github.com/protectmap/protectmap/geo/agreement"
	"github.com/protectmap/protectmap/geo/export"
	"github.com/twpayne/go-kml/v3"
)

// manifestKey names the manifest where a report format keeps it beside its
// features: the KML Document's ExtendedData, the GeoPackage's metadata.
const manifestKey = "protectmap_manifest"

// reportFormat reads GET /report's f: json or any format offered (html,
// the printable page, is read before).
func reportFormat(v string) (export.Format, error) {
	if v == "json" {
		return export.GeoJSON, nil
	}
	if f := export.Format(v); slices.Contains(reportOffer(), f) {
		return f, nil
	}
	return "", formatsNotAcceptable(reportOffer(), v).or(asHTML)
}

// sendReportKML writes a report as a KML Document: one Placemark a strike,
// with its properties and verdict as ExtendedData, and the manifest as
// JSON in the Document's ExtendedData. body_sha256 covers the Placemarks'
// bytes, from the first <Placemark> to the last </Placemark>.
func sendReportKML(c echo.Context, m Manifest, lines []reportLine) error {
	var placemarks bytes.Buffer
	w, err := export.NewWriter(&placemarks, export.KML, export.Options{Bare: true})
	if err != nil {
		return err
	}
	for i := range lines {
		l := &lines[i]
		members := l.members()
		f := l.strike.Feature(members...)
		if err := w.Write(&f, members...); err != nil {
			return err
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	m.BodySHA256 = digest(placemarks.Bytes())
	var doc bytes.Buffer
	doc.WriteString(xml.Header + `<kml xmlns="http://www.opengis.net/kml/2.2"><Document>`)
	enc := xml.NewEncoder(&doc)
	err = enc.Encode(kml.Name(reportTitle(m)))
	if err == nil {
		err = enc.Encode(kml.ExtendedData(kml.Data(manifestKey, kml.Value(string(mustJSON(m))))))
	}
	if err == nil {
		err = enc.Flush()
	}
	if err != nil {
		return err
	}
	doc.Write(placemarks.Bytes())
	doc.WriteString("</Document></kml>\n")
	return send(c, export.KML.ContentType(), doc.Bytes(), false)
}

// reportTitle names a report by what it judged.
func reportTitle(m Manifest) string {
	title := "protectmap report on data version " + m.DataVersion
	if m.Agreement != "" {
		title += ", agreement " + m.Agreement
	}
	if m.Scope != nil {
		title += fmt.Sprintf(", scope %v", m.Scope)
	}
	return title
}

// kmlData is a KML Data element: a name and its value.
type kmlData struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value"`
}

// readKMLReport reads a KML report: its manifest, its Placemarks' bytes
// against body_sha256, and what each Placemark says of its strike.
func readKMLReport(raw []byte) (*ReportCheck, []reportClaim, error) {
	var doc struct {
		Document struct {
			Data       []kmlData `xml:"ExtendedData>Data"`
			Placemarks []struct {
				Data []kmlData `xml:"ExtendedData>Data"`
			} `xml:"Placemark"`
		} `xml:"Document"`
	}
	if err := xml.Unmarshal(raw, &doc); err != nil {
		return nil, nil, fmt.Errorf("not a KML report: %w", err)
	}
	var m *Manifest
	for _, d := range doc.Document.Data {
		if d.Name == manifestKey {
			if err := json.Unmarshal([]byte(d.Value), &m); err != nil {
				return nil, nil, fmt.Errorf("the KML report's %s: %w", manifestKey, err)
			}
		}
	}
	if m == nil {
		return nil, nil, errors.New("not a KML report with a manifest (GET /report?f=kml writes one in the Document's ExtendedData)")
	}
	body := raw[:0]
	if first := bytes.Index(raw, []byte("<Placemark>")); first >= 0 {
		last := bytes.LastIndex(raw, []byte("</Placemark>"))
		body = raw[first : last+len("</Placemark>")]
	}
	r := &ReportCheck{Manifest: *m, BodyIntact: digest(body) == m.BodySHA256}
	claims := make([]reportClaim, len(doc.Document.Placemarks))
	for i, p := range doc.Document.Placemarks {
		var c reportClaim
		for _, d := range p.Data {
			switch d.Name {
			case "id":
				c.id = d.Value
			case "verdict":
				c.verdict = agreement.Outcome(d.Value)
			case "agreements_breached":
				if err := json.Unmarshal([]byte(d.Value), &c.breached); err != nil {
					return nil, nil, fmt.Errorf("placemark %d: agreements_breached: %w", i+1, err)
				}
			}
		}
		claims[i] = c
	}
	return r, claims, nil
}
