// The analysis overlays on the map: the rings of a nearby search with their
// labels, the highlighted row, the valves to close and the pipes a closure
// isolates or cuts off. Its sources and layers (ids starting "analysis-")
// carry no "onemap:layer" metadata, so the legend and the popups never see
// them; they are drawn again when the style is replaced (language switch).

// Source and layer ids of the analysis overlays.
const SRC = {
  rings: 'analysis-rings',
  ringLabels: 'analysis-ring-labels',
  highlight: 'analysis-highlight',
  valves: 'analysis-valves',
};
const LYR = {
  rings: 'analysis-rings-line',
  ringLabels: 'analysis-rings-label',
  highlight: 'analysis-highlight',
  valves: 'analysis-valves',
  isolated: 'analysis-pipes-isolated',
  cutOff: 'analysis-pipes-cut-off',
};
const META = { 'onemap:analysis': true };

// EARTH_RADIUS is the mean radius in metres (IUGG), good to a few tenths of
// a percent for drawing rings.
const EARTH_RADIUS = 6371008.8;

// circle is a 64-gon of radius metres around center [lon, lat], on the sphere.
export function circle(center, radius, sides = 64) {
  const [lon, lat] = center.map((d) => (d * Math.PI) / 180);
  const a = radius / EARTH_RADIUS;
  const ring = [];
  for (let i = 0; i <= sides; i++) {
    const bearing = ((i % sides) / sides) * 2 * Math.PI;
    const lat2 = Math.asin(Math.sin(lat) * Math.cos(a) + Math.cos(lat) * Math.sin(a) * Math.cos(bearing));
    const lon2 = lon + Math.atan2(
      Math.sin(bearing) * Math.sin(a) * Math.cos(lat),
      Math.cos(a) - Math.sin(lat) * Math.sin(lat2));
    ring.push([(lon2 * 180) / Math.PI, (lat2 * 180) / Math.PI]);
  }
  return ring;
}

export const EMPTY = { type: 'FeatureCollection', features: [] };

export function collection(features) {
  return { type: 'FeatureCollection', features };
}

export function point(coordinates, properties = {}) {
  return { type: 'Feature', geometry: { type: 'Point', coordinates }, properties };
}

// createOverlays returns the overlays of a map: data (what to draw, set by
// the analysis), redraw() after a change, clear() to draw nothing.
export function createOverlays(map) {
  let data = empty();

  function empty() {
    return { rings: EMPTY, ringLabels: EMPTY, highlight: EMPTY, valves: EMPTY, pipes: null };
  }

  // redraw shows data on the map. Before the style has loaded there
  // is nothing to draw on; the styledata handler below draws then.
  function redraw() {
    try {
      drawOverlays();
    } catch (err) {
      console.warn('analysis overlays:', err.message);
    }
  }

  // drawOverlays makes the map show data, adding the sources and
  // layers it lacks (at first use and after the style was replaced).
  function drawOverlays() {
    if (!map.getStyle()) return;
    for (const key of ['rings', 'ringLabels', 'highlight', 'valves']) {
      const src = map.getSource(SRC[key]);
      if (src) src.setData(data[key]);
      else map.addSource(SRC[key], { type: 'geojson', data: data[key] });
    }
    drawPipes();
    if (!map.getLayer(LYR.rings)) {
      map.addLayer({
        id: LYR.rings, type: 'line', source: SRC.rings, metadata: META,
        paint: {
          'line-color': '#1d4ed8',
          'line-width': ['match', ['get', 'radius'], 500, 2.2, 1.6],
          'line-dasharray': [3, 2],
        },
      });
    }
    if (!map.getLayer(LYR.ringLabels)) {
      map.addLayer({
        id: LYR.ringLabels, type: 'symbol', source: SRC.ringLabels, metadata: META,
        filter: ['!', ['has', 'center']],
        layout: {
          'text-field': ['get', 'label'], 'text-font': ['Go Bold'], 'text-size': 12,
          'text-anchor': 'bottom', 'text-allow-overlap': true, 'text-ignore-placement': true,
        },
        paint: { 'text-color': '#1d4ed8', 'text-halo-color': '#ffffff', 'text-halo-width': 1.5 },
      });
      map.addLayer({
        id: `${LYR.ringLabels}-center`, type: 'circle', source: SRC.ringLabels, metadata: META,
        filter: ['has', 'center'],
        paint: { 'circle-radius': 4, 'circle-color': '#1d4ed8', 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 1.5 },
      });
    }
    if (!map.getLayer(LYR.valves)) {
      // Valves to close as thick red rings, failed ones as grey rings with a
      // dark core: visible over any pipe colour.
      map.addLayer({
        id: LYR.valves, type: 'circle', source: SRC.valves, metadata: META,
        paint: {
          'circle-radius': ['interpolate', ['linear'], ['zoom'], 12, 8, 17, 13],
          'circle-color': ['case', ['get', 'failed'], '#374151', 'rgba(255,255,255,0.6)'],
          'circle-stroke-color': ['case', ['get', 'failed'], '#9ca3af', '#dc2626'],
          'circle-stroke-width': 4,
        },
      });
    }
    if (!map.getLayer(LYR.highlight)) {
      map.addLayer({
        id: LYR.highlight, type: 'circle', source: SRC.highlight, metadata: META,
        paint: {
          'circle-radius': 16,
          'circle-color': 'rgba(250, 204, 21, 0.35)',
          'circle-stroke-color': '#111827',
          'circle-stroke-width': 2.5,
        },
      });
    }
  }

  // drawPipes highlights the isolated pipes (red) and those cut off from
  // supply (orange, dashed) with copies of the network's line layer,
  // filtered by feature id, under the valve rings.
  function drawPipes() {
    const p = data.pipes;
    for (const id of [LYR.isolated, LYR.cutOff]) {
      if (map.getLayer(id) && (!p || map.getLayer(id).sourceLayer !== p.network)) map.removeLayer(id);
    }
    if (!p) return;
    const base = map.getStyle().layers.find((l) => l.metadata?.['onemap:layer'] === p.network &&
      l.type === 'line' && !l.id.endsWith('-casing'));
    if (!base) return;
    const before = map.getLayer(LYR.valves) ? LYR.valves : undefined;
    const copies = [
      [LYR.cutOff, p.cutOff, { 'line-color': '#f59e0b', 'line-dasharray': [2, 1] }],
      [LYR.isolated, p.isolated, { 'line-color': '#dc2626' }],
    ];
    for (const [id, ids, paint] of copies) {
      const filter = ['in', ['id'], ['literal', ids]];
      if (map.getLayer(id)) {
        map.setFilter(id, filter);
        continue;
      }
      map.addLayer({
        id, type: 'line', source: base.source, 'source-layer': base['source-layer'],
        minzoom: base.minzoom ?? 0, metadata: META, filter,
        layout: { 'line-cap': 'round', 'line-join': 'round' },
        paint: {
          'line-width': ['interpolate', ['linear'], ['zoom'], 10, 3, 14, 5, 17, 9],
          'line-opacity': 0.9,
          ...paint,
        },
      }, before);
    }
  }

  // The style is replaced on a language switch; put the overlays back.
  map.on('styledata', () => {
    if (map.getSource(SRC.rings)) return;
    try {
      drawOverlays();
    } catch {
      // The new style is not ready yet; its next styledata event comes.
    }
  });

  return {
    get data() { return data; },
    redraw,
    clear() {
      data = empty();
      redraw();
    },
  };
}
