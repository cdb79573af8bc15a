// Package data embeds protectmap's curated default layers and the offline
// basemap: energy infrastructure, hospitals and bridges of Ukraine as RFC 7946
// GeoJSON FeatureCollections, derived by build/build.py and documented, with
// their sources and licences, in SOURCES.md.
package data

import "embed"

// Layers holds the default layer files energy.geojson, hospitals.geojson,
// bridges.geojson and zones.geojson (the Black Sea corridor, the Danube
// route and the ports the Black Sea arrangement protects).
//
//go:embed energy.geojson hospitals.geojson bridges.geojson zones.geojson
var Layers embed.FS

// Basemap is the offline fallback basemap: simplified Ukrainian oblast outlines as a GeoJSON FeatureCollection.
//
//go:embed basemap/ukraine.geojson
var Basemap []byte

// Agreements is the default agreements document (see agreement.DecodeAgreements in geo/agreement): the
// March 2025 moratorium on strikes against energy infrastructure and the Black
// Sea arrangement of 25 March 2025, each with every party's reading and its sources.
//
//go:embed agreements.json
var Agreements []byte
