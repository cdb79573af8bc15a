// The map of the server's HTML pages of collections, items and features:
// it draws the GeoJSON its element links to, with the same Leaflet the app
// bundles, and no basemap, so it needs nothing beyond this server.
import L from 'leaflet';
import 'leaflet/dist/leaflet.css';

const el = document.getElementById('features-map');
if (el) {
  const map = L.map(el, { preferCanvas: false });
  map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
  map.setView([49, 32], 5);
  fetch(el.dataset.src, { headers: { Accept: 'application/geo+json' } })
    .then((r) => {
      if (!r.ok) throw new Error(`${r.status} ${r.statusText}`);
      return r.json();
    })
    .then((doc) => {
      const layer = L.geoJSON(doc, {
        pointToLayer: (_, latlng) => L.circleMarker(latlng, { radius: 6 }),
        onEachFeature: (f, l) => l.bindTooltip(String(f.id ?? '')),
      }).addTo(map);
      const bounds = layer.getBounds();
      if (bounds.isValid()) map.fitBounds(bounds, { maxZoom: 14, padding: [12, 12] });
      el.dataset.drawn = String(layer.getLayers().length);
    })
    .catch((err) => {
      el.dataset.error = err.message;
    });
}
