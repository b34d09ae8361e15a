// The alarms on the map: sensors coloured by their state and the active
// alarms as icons over blinking halos.
//
//   - Sensors: the sensor style layers of the "onemap" source read the
//     feature-state of each sensor (its MVT id is the sensor id): "level"
//     1 red, 2 orange, 3 yellow; "health" offline grey, fault purple;
//     otherwise their usual colour by domain.
//   - Alarms: a GeoJSON source of the active alarms, drawn at every zoom as
//     an icon (level colour and shape, domain letter) over a halo that
//     blinks, level 1 fast and level 3 slowly; the open alarm ringed.
//
// The sources and layers ("alarms-*") carry no "onemap:layer" metadata, so
// the legend and the popups ignore them; they are added again when a
// language switch replaces the style.

import { DOMAIN_COLORS, LEVEL_COLORS, OTHER_LEVEL, domainMark, levelColor, levelInk, sensorPaint } from './levels.js';

// The vector source and source layer of the sensors.
const SENSORS = { source: 'onemap', sourceLayer: 'sensor' };

// The alarm icons' sizes in CSS pixels, by level.
const ICON_PX = { 1: 34, 2: 28, 3: 18 };

// The blink period of each level's halo, in milliseconds; the paint changes
// at most every BLINK_TICK ms, so the map stays idle between ticks.
const BLINK_PERIOD = { 1: 600, 2: 1200, 3: 2400 };
const BLINK_TICK = 60;

const SRC = 'alarms';
const LYR = { halo: 'alarms-halo', icon: 'alarms-icon', label: 'alarms-label', selected: 'alarms-selected' };
const META = { 'onemap:alarms': true };

// createAlarmMap draws alarms on map. deps: lang (the page's language, for
// the icons' letters), onPick(id) (a click hit an alarm's icon).
export function createAlarmMap({ map, lang, onPick }) {
  const st = {
    alarms: [], // the active alarms, sorted
    selected: -1, // the alarm ringed
    sensorLevels: new Map(), // sensor id → most severe level of its active alarms
    sensorHealth: new Map(), // sensor id → 'offline' or 'fault', as last seen
  };

  function sourceReady() {
    return Boolean(map.getSource(SENSORS.source));
  }

  // setLevels sets feature-state "level" on the sensors that alarm and
  // removes it from those that stopped: levels is sensor id → level.
  function setLevels(levels) {
    const old = st.sensorLevels;
    st.sensorLevels = levels;
    if (!sourceReady()) return; // style.load applies them
    for (const id of old.keys()) {
      if (!levels.has(id)) map.removeFeatureState({ ...SENSORS, id }, 'level');
    }
    for (const [id, level] of levels) {
      if (old.get(id) !== level) map.setFeatureState({ ...SENSORS, id }, { level });
    }
  }

  // setHealth marks a sensor offline or faulty (or clears the mark).
  function setHealth(id, health) {
    const old = st.sensorHealth.get(id);
    if (health === 'offline' || health === 'fault') st.sensorHealth.set(id, health);
    else st.sensorHealth.delete(id);
    const now = st.sensorHealth.get(id);
    if (!sourceReady() || old === now) return;
    if (now) map.setFeatureState({ ...SENSORS, id }, { health: now });
    else map.removeFeatureState({ ...SENSORS, id }, 'health');
  }

  // setStates sets levels and health from sensor id → most severe level
  // (1 first) and sensor id → 'offline' or 'fault'. With replace, sensors
  // not named lose their marks (a snapshot); without, only the named ones
  // change (a delta), and a level of 0 or a health of 'online' clears the
  // mark.
  function setStates(levels, health, { replace = false } = {}) {
    const next = replace ? new Map() : new Map(st.sensorLevels);
    for (const [id, level] of levels) {
      if (level > 0) next.set(id, level);
      else next.delete(id);
    }
    setLevels(next);
    if (replace) {
      for (const id of [...st.sensorHealth.keys()]) if (!health.has(id)) setHealth(id, 'online');
    }
    for (const [id, h] of health) setHealth(id, h);
  }

  // sensorLayers are the ids of the style's circle layers of sensors.
  function sensorLayers() {
    return map.getLayersOrder().filter((id) => {
      const l = map.getLayer(id);
      return l && l.type === 'circle' && l.source === SENSORS.source && l.sourceLayer === SENSORS.sourceLayer;
    });
  }

  // styleSensors makes every sensor style layer read the feature-state,
  // once per style.
  function styleSensors() {
    let changed = false;
    for (const id of sensorLayers()) {
      const base = map.getPaintProperty(id, 'circle-color') ?? '#10b981';
      if (JSON.stringify(base).includes('feature-state')) continue;
      const alarming = ['>', ['coalesce', ['feature-state', 'level'], 0], 0];
      map.setPaintProperty(id, 'circle-color', sensorPaint(base));
      map.setPaintProperty(id, 'circle-stroke-color', ['case', alarming, '#111827', map.getPaintProperty(id, 'circle-stroke-color') ?? '#ffffff']);
      map.setPaintProperty(id, 'circle-stroke-width', ['case', alarming, 2, map.getPaintProperty(id, 'circle-stroke-width') ?? 1.2]);
      changed = true;
    }
    if (!changed || !sourceReady()) return;
    for (const [id, level] of st.sensorLevels) map.setFeatureState({ ...SENSORS, id }, { level });
    for (const [id, health] of st.sensorHealth) map.setFeatureState({ ...SENSORS, id }, { health });
  }

  function features() {
    return {
      type: 'FeatureCollection',
      features: st.alarms.map((a) => ({
        type: 'Feature',
        id: a.id,
        geometry: { type: 'Point', coordinates: a.location },
        properties: {
          id: a.id, level: a.level, domain: a.domain, code: a.sensor_code,
          icon: `alarm-${lang()}-${a.domain}-${a.level}`,
          // The most severe alarms are drawn on top.
          order: -a.level,
        },
      })),
    };
  }

  function selectedFilter() {
    return ['==', ['get', 'id'], st.selected];
  }

  // addLayers puts the alarm source and layers on top of the style.
  function addLayers() {
    if (map.getSource(SRC)) return;
    map.addSource(SRC, { type: 'geojson', data: features() });
    // Everything here is sized in screen pixels, the same at every zoom:
    // the halo just outside the icon, never a block wide.
    map.addLayer({
      id: LYR.halo, type: 'circle', source: SRC, metadata: META,
      paint: {
        'circle-color': ['match', ['get', 'level'], 1, LEVEL_COLORS[1], 2, LEVEL_COLORS[2], 3, LEVEL_COLORS[3], OTHER_LEVEL],
        'circle-radius': ['match', ['get', 'level'], 1, ICON_PX[1] / 2 + 5, 2, ICON_PX[2] / 2 + 4, ICON_PX[3] / 2 + 3],
        'circle-opacity': 0.4,
        'circle-opacity-transition': { duration: 0, delay: 0 },
        'circle-radius-transition': { duration: 0, delay: 0 },
        'circle-blur': 0.5,
      },
    });
    map.addLayer({
      id: LYR.selected, type: 'circle', source: SRC, metadata: META, filter: selectedFilter(),
      paint: { 'circle-radius': ICON_PX[1] / 2 + 3, 'circle-color': 'rgba(0,0,0,0)', 'circle-stroke-color': '#1d4ed8', 'circle-stroke-width': 3 },
    });
    map.addLayer({
      id: LYR.icon, type: 'symbol', source: SRC, metadata: META,
      layout: {
        'icon-image': ['get', 'icon'],
        'icon-size': 1,
        'icon-allow-overlap': true,
        'icon-ignore-placement': true,
        'symbol-sort-key': ['get', 'order'],
      },
      paint: { 'icon-opacity-transition': { duration: 0, delay: 0 } },
    });
    map.addLayer({
      id: LYR.label, type: 'symbol', source: SRC, metadata: META, minzoom: 15,
      layout: {
        'text-field': ['get', 'code'],
        'text-font': ['Go Regular'],
        'text-size': 11,
        'text-offset': [0, 1.6],
        'text-anchor': 'top',
        'text-optional': true,
      },
      paint: { 'text-color': '#111827', 'text-halo-color': '#ffffff', 'text-halo-width': 1.5 },
    });
  }

  // draw shows the active alarms (sorted, most severe first).
  function draw(alarms = st.alarms) {
    st.alarms = alarms;
    const src = map.getSource(SRC);
    if (src) src.setData(features());
    blink();
  }

  // select rings the alarm id (-1: none).
  function select(id) {
    st.selected = id;
    if (map.getLayer(LYR.selected)) map.setFilter(LYR.selected, selectedFilter());
  }

  // icon draws an alarm icon, shaped by level besides its colour: a disc
  // of the level's colour with the domain's letter, edged in the domain's
  // colour; level 1 inside a double dark ring, level 2 inside one ring,
  // level 3 smaller and plain.
  function icon(id) {
    const [, lg, domain, levelText] = id.split('-');
    const level = Number(levelText);
    const ratio = 2;
    const px = (ICON_PX[level] ?? ICON_PX[3]) * ratio;
    const rings = { 1: 2, 2: 1 }[level] ?? 0;
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = px;
    const ctx = canvas.getContext('2d');
    const c = px / 2;
    // The rings, outermost first: white, the level's ink, white, ...
    let r = c - 0.5 * ratio;
    for (let i = 0; i < rings; i++) {
      ctx.beginPath();
      ctx.arc(c, c, r - 1.25 * ratio, 0, 2 * Math.PI);
      ctx.lineWidth = 2.5 * ratio;
      ctx.strokeStyle = '#ffffff';
      ctx.stroke();
      ctx.beginPath();
      ctx.arc(c, c, r - 1.25 * ratio, 0, 2 * Math.PI);
      ctx.lineWidth = 1.5 * ratio;
      ctx.strokeStyle = '#111827';
      ctx.stroke();
      r -= 3 * ratio;
    }
    ctx.beginPath();
    ctx.arc(c, c, r - 1.5 * ratio, 0, 2 * Math.PI);
    ctx.fillStyle = levelColor(level);
    ctx.fill();
    ctx.lineWidth = 2.5 * ratio;
    ctx.strokeStyle = DOMAIN_COLORS[domain] ?? '#111827';
    ctx.stroke();
    ctx.beginPath();
    ctx.arc(c, c, r - 0.25 * ratio, 0, 2 * Math.PI);
    ctx.lineWidth = 0.75 * ratio;
    ctx.strokeStyle = '#ffffff';
    ctx.stroke();
    ctx.fillStyle = levelInk(level);
    ctx.font = `bold ${(level === 3 ? 10 : 12) * ratio}px system-ui, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif`;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.fillText(domainMark(lg, domain), c, c + ratio);
    return { image: ctx.getImageData(0, 0, px, px), ratio };
  }

  map.on('styleimagemissing', (e) => {
    if (!e.id.startsWith('alarm-') || map.hasImage(e.id)) return;
    const { image, ratio } = icon(e.id);
    map.addImage(e.id, image, { pixelRatio: ratio });
  });

  // The halos blink: their opacity follows a cosine of each level's period.
  // A timer, not every animation frame, so that the map is idle between
  // ticks; it runs only while there are alarms.
  let blinkTimer = 0;
  function blink() {
    if (st.alarms.length === 0 || !map.getLayer(LYR.halo)) {
      clearInterval(blinkTimer);
      blinkTimer = 0;
      return;
    }
    if (blinkTimer) return;
    blinkTimer = setInterval(() => {
      if (!map.getLayer(LYR.halo)) return;
      if (document.hidden) return;
      const now = performance.now();
      const phase = (level) => 0.5 + 0.5 * Math.cos((2 * Math.PI * now) / BLINK_PERIOD[level]);
      const halo = ['match', ['get', 'level'], 1, 0.1 + 0.7 * phase(1), 2, 0.1 + 0.6 * phase(2), 0.1 + 0.5 * phase(3)];
      const icons = ['match', ['get', 'level'], 1, 0.55 + 0.45 * phase(1), 2, 0.7 + 0.3 * phase(2), 0.8 + 0.2 * phase(3)];
      map.setPaintProperty(LYR.halo, 'circle-opacity', halo);
      map.setPaintProperty(LYR.icon, 'icon-opacity', icons);
    }, BLINK_TICK);
  }

  // Each style (first load, language switch, which diffs the style and so
  // drops what the page added): colour the sensors, add the alarm layers
  // again. styledata comes often; both steps do nothing when already done.
  function restyle() {
    if (map.getLayersOrder().length === 0) return;
    try {
      styleSensors();
      if (!map.getSource(SRC)) {
        addLayers();
        select(st.selected);
        clearInterval(blinkTimer);
        blinkTimer = 0;
        blink();
      }
    } catch (err) {
      // The new style is not ready yet; its next styledata event comes.
    }
  }
  map.on('style.load', restyle);
  map.on('styledata', restyle);

  // click picks the alarm whose icon is under the pointer: true when one is.
  function click(e) {
    if (!map.getLayer(LYR.icon)) return false;
    const r = 10;
    const hits = map.queryRenderedFeatures(
      [[e.point.x - r, e.point.y - r], [e.point.x + r, e.point.y + r]],
      { layers: [LYR.icon] });
    if (hits.length === 0) return false;
    onPick(Number(hits[0].properties.id));
    return true;
  }

  return {
    draw,
    select,
    setLevels,
    setHealth,
    setStates,
    click,
    get sensorLevels() { return st.sensorLevels; },
  };
}
