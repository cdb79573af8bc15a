// Package data embeds protectmap's curated default layers and the offline
// basemap: energy infrastructure, hospitals and bridges of Ukraine as RFC 7946
// GeoJSON FeatureCollections, derived by build/build.py and documented, with
// their sources and licences, in SOURCES.md.
package data

import (
	"bytes"
	"embed"
)

//go:embed energy.geojson hospitals.geojson bridges.geojson zones.geojson
var layers embed.FS

//go:embed basemap/ukraine.geojson
var basemap []byte

//go:embed agreements.json
var agreements []byte

// Layers holds the default layer files energy.geojson, hospitals.geojson,
// bridges.geojson and zones.geojson (the Black Sea corridor, the Danube
// route and the ports the Black Sea arrangement protects).
func Layers() embed.FS { return layers }

// Basemap returns the offline fallback basemap: simplified Ukrainian oblast
// outlines as a GeoJSON FeatureCollection. The bytes are the caller's.
func Basemap() []byte { return bytes.Clone(basemap) }

// Agreements returns the default agreements document (see
// agreement.DecodeAgreements in geo/agreement): the March 2025 moratorium on
// strikes against energy infrastructure and the Black Sea arrangement of 25
// March 2025, each with every party's reading and its sources. The bytes
// are the caller's.
func Agreements() []byte { return bytes.Clone(agreements) }
