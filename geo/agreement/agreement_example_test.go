package agreement_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/protectmap/protectmap/geo"
	"github.com/protectmap/protectmap/geo/agreement"
	"github.com/protectmap/protectmap/geo/geojson"
)

// A strike 300 m from a substation during a moratorium that protects
// substations with a 500 m buffer; and the same strike asked about with a
// scope that also covers hospitals.
func ExampleAgreementSet_Verdict() {
	energy, err := geojson.DecodeLayer("energy", "energy.geojson", strings.NewReader(`{"type":"FeatureCollection","features":[
		{"type":"Feature","id":"sub-1","geometry":{"type":"Point","coordinates":[30.5,50.4]},"properties":{"kind":"substation"}}]}`))
	if err != nil {
		panic(err)
	}
	hospitals, err := geojson.DecodeLayer("hospitals", "hospitals.geojson", strings.NewReader(`{"type":"FeatureCollection","features":[
		{"type":"Feature","id":"hosp-1","geometry":{"type":"Point","coordinates":[30.5,50.4027]},"properties":{"kind":"hospital"}}]}`))
	if err != nil {
		panic(err)
	}
	ix, err := geo.NewIndex(energy, hospitals)
	if err != nil {
		panic(err)
	}
	set, err := agreement.LoadAgreements(ix, "agreements.json", strings.NewReader(`{"agreements":[{
		"id":"moratorium","title":"Energy moratorium","source":"https://example.org/readout",
		"start":"2025-03-18T00:00:00+02:00","end":"2025-04-17T00:00:00+03:00",
		"collections":["energy"],"filters":[{"property":"kind","in":["plant","substation"]}],"buffer_m":500}]}`))
	if err != nil {
		panic(err)
	}
	strike := agreement.Strike{Point: orb.Point{30.5, 50.4027}, Time: time.Date(2025, 3, 20, 4, 0, 0, 0, time.UTC), UncertaintyMeters: 50}
	for _, scope := range [][]string{nil, {"hospitals"}} {
		q := agreement.NewVerdictQuery(strike)
		q.Scope = scope
		v, err := set.Verdict(q)
		if err != nil {
			panic(err)
		}
		fmt.Println(v.Outcome)
		for _, s := range v.Sites {
			for _, p := range s.ProtectedBy {
				fmt.Printf("  %s/%s at %.0f m: %s reaches %.0f m, hit %v\n", s.Collection, s.ID, s.DistanceMeters, p.Agreement, p.ReachMeters, p.Hit)
			}
		}
	}
	// Output:
	// protected_site_hit
	//   energy/sub-1 at 300 m: moratorium reaches 550 m, hit true
	// protected_site_hit
	//   hospitals/hosp-1 at 0 m: scope reaches 50 m, hit true
	//   energy/sub-1 at 300 m: moratorium reaches 550 m, hit true
}
