package server

import (
	"github.com/labstack/echo/v4"
	"github.com/protectmap/protectmap/geo/export"
)

// gpkgReportTable names the GeoPackage report's layer.
const gpkgReportTable = "strikes"

// sendReportGeoPackage writes a report as a GeoPackage of one layer, a
// strike a row, with the CSV report's columns. The manifest is kept as JSON
// in gpkg_metadata (the Metadata extension, referring to the layer) and
// gpkg_contents' description; its body_sha256 is that of the same rows
// written as the CSV report, which f=csv with the manifest's query gives.
func sendReportGeoPackage(c echo.Context, m Manifest, lines []reportLine) error {
	body, err := reportCSVBody(lines)
	if err != nil {
		return err
	}
	m.BodySHA256 = digest(body)
	rows := make([]export.GeoPackageRow, len(lines))
	for i := range lines {
		rows[i] = export.GeoPackageRow{Geometry: lines[i].strike.Point, Values: reportRecord(nil, &lines[i])}
	}
	manifest := mustJSON(m)
	gpkg, err := export.EncodeGeoPackage(c.Request().Context(), "", export.GeoPackageLayer{
		Table: gpkgReportTable, Description: reportTitle(m) + "; manifest: " + string(manifest),
		Columns: reportHeader, Metadata: manifest, MetadataType: "application/json",
	}, rows)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="report.gpkg"`)
	return send(c, export.GeoPackage.ContentType(), gpkg, false)
}
