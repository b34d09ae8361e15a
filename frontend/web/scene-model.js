// The 3D view's rules, apart from the page and from deck.gl, so that
// `node --test` can check them: which part of the city to ask for, how deep
// to draw the underground, and what each deck.gl layer of the scene holds.
// scene3d.js turns the layer descriptions into deck.gl layers.

// DEPTH_SCALE stretches the underground: pipes a metre or two down would
// lie within a pixel of the ground at street zoom.
export const DEPTH_SCALE = 8;

// SCENE_SIDE is the side of the square around the view's centre the scene
// is asked for, in metres; the server takes at most 4,000.
export const SCENE_SIDE = 3000;

// SCENE_ZOOM is the least zoom of the 3D view.
export const SCENE_ZOOM = 15.5;

// SCENE_PITCH is the 3D view's tilt, in degrees.
export const SCENE_PITCH = 60;

// SCENE_LAYERS are the catalog layers the scene draws in 3D, and the
// gas-adjacent spaces it shows as they are (the shafts, ducts and
// compartments); the 2D map hides them while the 3D view is on.
export const SCENE_LAYERS = [
  'gas_pipe', 'gas_node', 'water_pipe', 'water_node', 'drain_pipe', 'drain_node',
  'heat_pipe', 'heat_node', 'power_duct', 'telecom_duct', 'utility_tunnel',
  'bridge', 'building', 'sensor', 'gas_adjacent_space',
];

const METRES_PER_DEGREE = 111320;

// sceneBBox is the square of side metres around centre ([lon, lat]), as
// [minLon, minLat, maxLon, maxLat] rounded to 1e-6 degrees.
export function sceneBBox(centre, side = SCENE_SIDE) {
  const [lon, lat] = centre;
  const dLat = side / 2 / METRES_PER_DEGREE;
  const dLon = side / 2 / (METRES_PER_DEGREE * Math.cos((lat * Math.PI) / 180));
  const r = (v) => Math.round(v * 1e6) / 1e6;
  return [r(lon - dLon), r(lat - dLat), r(lon + dLon), r(lat + dLat)];
}

// needsScene says whether a view centred at centre needs a new scene: none
// is loaded, or the centre left the loaded square's middle half.
export function needsScene(bbox, centre) {
  if (!bbox) return true;
  const [w, s, e, n] = bbox;
  const qx = (e - w) / 4;
  const qy = (n - s) / 4;
  return centre[0] < w + qx || centre[0] > e - qx || centre[1] < s + qy || centre[1] > n - qy;
}

// lift is the height a height of the scene is drawn at: the underground
// stretched by DEPTH_SCALE, what stands above the ground as it is.
export function lift(z) {
  return z < 0 ? z * DEPTH_SCALE : z;
}

// rgba turns '#rrggbb' (or '#rgb') and an alpha of 0–255 into deck.gl's
// [r, g, b, a]; anything else is a mid grey.
export function rgba(hex, alpha = 255) {
  let h = typeof hex === 'string' ? hex.trim().replace(/^#/, '') : '';
  if (/^[0-9a-f]{3}$/i.test(h)) h = h.replace(/./g, (c) => c + c);
  if (!/^[0-9a-f]{6}$/i.test(h)) return [128, 128, 128, alpha];
  const n = parseInt(h, 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255, alpha];
}

// sensorFill is a sensor's colour in 3D as on the 2D map: its alarm level
// first, then fault or offline, else its domain's colour.
export function sensorFill(state, colors, domainColor) {
  if (state?.level > 0) return colors.levels[state.level] ?? colors.other;
  if (state?.health === 'fault') return colors.fault;
  if (state?.health === 'offline') return colors.offline;
  return domainColor;
}

// sceneLayers describes the deck.gl layers of a scene, bottom first: the
// pipes and ducts, the shafts and the tunnel compartments underground, the
// translucent ground over them, then the bridges and buildings, and the
// sensors on top. Each is {type, props}; colorOf(layer) is a catalog
// layer's colour and sensorColor(sensor) a sensor's, as '#rrggbb'.
export function sceneLayers(scene, { colorOf, sensorColor, ground = '#e5e7eb', version = 0 }) {
  const boxes = { under: [], over: [], buildings: [] };
  for (const b of scene.boxes) {
    if (b.part === 'building') boxes.buildings.push(b);
    else if (b.base < 0) boxes.under.push(b);
    else boxes.over.push(b);
  }
  // The boxes: outlines extruded from their (lifted) base.
  const boxLayer = (id, data, alpha) => ({
    type: 'SolidPolygonLayer',
    props: {
      id, data, pickable: true, extruded: true,
      getPolygon: (b) => b.outline.map(([x, y]) => [x, y, lift(b.base)]),
      getElevation: (b) => lift(b.base + b.height) - lift(b.base),
      getFillColor: (b) => rgba(colorOf(b.layer), alpha(b)),
    },
  });
  const [w, s, e, n] = scene.bbox;
  return [
    {
      type: 'PathLayer',
      props: {
        id: 'scene-pipes', data: scene.pipes, pickable: true, billboard: true,
        capRounded: true, jointRounded: true, widthUnits: 'meters', widthMinPixels: 2,
        getPath: (p) => p.path.map(([x, y, z]) => [x, y, lift(z)]),
        getWidth: (p) => Math.max(p.diameter_m, 0.2) * DEPTH_SCALE,
        getColor: (p) => rgba(colorOf(p.layer)),
      },
    },
    {
      type: 'ColumnLayer',
      props: {
        id: 'scene-shafts', data: scene.shafts, pickable: true, extruded: true, diskResolution: 12,
        radius: 0.6 * DEPTH_SCALE / 2,
        getPosition: (sh) => [sh.position[0], sh.position[1], lift(-sh.depth_m)],
        getElevation: (sh) => sh.depth_m * DEPTH_SCALE,
        getFillColor: (sh) => rgba(colorOf(sh.layer), 220),
      },
    },
    boxLayer('scene-compartments', boxes.under, () => 170),
    {
      type: 'SolidPolygonLayer',
      props: {
        id: 'scene-ground', data: [[[w, s, 0], [e, s, 0], [e, n, 0], [w, n, 0], [w, s, 0]]],
        getPolygon: (p) => p, getFillColor: rgba(ground, 110),
        // The ground tints what lies below it, and hides nothing drawn later.
        parameters: { depthWriteEnabled: false },
      },
    },
    boxLayer('scene-bridges', boxes.over, (b) => (b.part === 'deck' ? 235 : 255)),
    boxLayer('scene-buildings', boxes.buildings, () => 150),
    {
      type: 'ScatterplotLayer',
      props: {
        id: 'scene-sensors', data: scene.sensors, pickable: true, billboard: true,
        radiusUnits: 'pixels', stroked: true, lineWidthUnits: 'pixels', getLineWidth: 1.5,
        getPosition: (sn) => [sn.position[0], sn.position[1], lift(sn.position[2])],
        getRadius: 6,
        getFillColor: (sn) => rgba(sensorColor(sn)),
        getLineColor: [255, 255, 255, 255],
        updateTriggers: { getFillColor: version },
        parameters: { depthCompare: 'always' },
      },
    },
  ];
}
