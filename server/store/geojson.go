package store

import (
	"encoding/json"
	"slices"
	"strconv"
	"time"

	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/geojson"
	"github.com/protectmap/protectmap/internal/jsonscan"
)

// AppendFeature appends s as a GeoJSON Feature with its id, its Point and
// the properties GeoJSONDecoder reads (datetime in UTC, end when the strike
// has one, uncertainty_m,
// source, event_id, null when none, weapon, notes), then its extra
// properties, created_at and updated_at, and last the members given, such
// as a verdict, which must not reuse the strike's own property names. An
// extra property named like a member given is left out: what is computed
// now wins over what was recorded. Decoding the output gives the strike
// back.
func AppendFeature(dst []byte, s *Strike, members ...geojson.Member) []byte {
	f := s.Feature(members...)
	return geojson.AppendFeature(dst, &f, members...)
}

// Feature is s as a geo.Feature, with the properties AppendFeature writes
// (but the members). Its Name, which is not among them, is the strike's
// time, source and event id: what a KML placemark is labelled with.
func (s *Strike) Feature(members ...geojson.Member) geo.Feature {
	p := make([]byte, 0, 256+len(s.Extra))
	p = append(p, `{"`+propTime+`":`...)
	p = geojson.AppendJSONString(p, s.Time.UTC().Format(time.RFC3339Nano))
	if !s.End.IsZero() {
		p = appendText(p, propEnd, s.End.UTC().Format(time.RFC3339Nano))
	}
	p = append(p, `,"`+propUncertainty+`":`...)
	p = strconv.AppendFloat(p, s.UncertaintyMeters, 'g', -1, 64)
	p = appendText(p, propSource, s.Source)
	if s.SourceEventID == "" {
		p = append(p, `,"`+propEventID+`":null`...)
	} else {
		p = appendText(p, propEventID, s.SourceEventID)
	}
	p = appendText(p, propWeapon, s.Weapon)
	p = appendText(p, propNotes, s.Notes)
	p = appendExtra(p, s.Extra, members)
	p = appendText(p, propCreated, s.CreatedAt.UTC().Format(time.RFC3339Nano))
	p = appendText(p, propUpdated, s.UpdatedAt.UTC().Format(time.RFC3339Nano))
	p = append(p, '}')
	name := s.Time.UTC().Format(time.RFC3339) + " " + s.Source
	if s.SourceEventID != "" {
		name += " " + s.SourceEventID
	}
	return geo.Feature{ID: s.ID, Geometry: s.Point, Properties: p, Name: name}
}

func appendText(dst []byte, key, value string) []byte {
	dst = append(dst, ',', '"')
	dst = append(dst, key...)
	dst = append(dst, '"', ':')
	return geojson.AppendJSONString(dst, value)
}

// appendExtra appends the members of the extra object but those named in
// members, and those the server computes, which a log written before they
// were refused may hold.
func appendExtra(dst []byte, extra json.RawMessage, members []geojson.Member) []byte {
	if len(extra) == 0 {
		return dst
	}
	jsonscan.EachMember(extra, func(key, value []byte) bool {
		if !IsComputedProperty(string(key)) && !slices.ContainsFunc(members, func(m geojson.Member) bool { return m.Key == string(key) }) {
			dst = append(dst, ',')
			dst = geojson.AppendJSONString(dst, string(key))
			dst = append(dst, ':')
			dst = append(dst, value...)
		}
		return true
	})
	return dst
}
