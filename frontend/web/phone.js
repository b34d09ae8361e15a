// The responder's phone (/?view=phone): the live channel subscribes to a
// circle around the phone's position (navigator.geolocation, 2,000 m unless
// changed between 500 m and 10 km), the map shows the circle and the
// position, and a sheet lists the alarms inside, nearest first with their
// distance; a row flies to the alarm, and its button (确认 for a user who
// may acknowledge, 详情 for others) opens alarms.js's details with the
// acknowledgement form.
//
// Without a position (the permission refused, no fix, no geolocation), the
// sheet says why in its own words and offers a place instead: a tap on the
// map or one of the city's districts. A place chosen so stands for the
// position (kept for the tab's session) until the responder asks for the
// located one again; it is never sent as where they reported from.

import { apiJSON, can } from '/session.js';
import { geoErrorText } from '/tasks.js';

// UI text in both languages, merged into the page's TEXT table.
export const TEXT = {
  zh: {
    nearPick: '选择位置',
    nearPickMap: '在地图上点选',
    nearPickMapHint: '点击地图上您所在的位置',
    nearPickDistrict: '选择街道',
    nearPickCancel: '取消',
    nearPlace: '已选位置：{place}',
    nearPlaceMap: '地图上所选的点',
    nearUseLocation: '使用定位',
    nearChange: '换位置',
  },
  en: {
    nearPick: 'Choose a place',
    nearPickMap: 'Tap the map',
    nearPickMapHint: 'Tap where you are on the map',
    nearPickDistrict: 'Pick a district',
    nearPickCancel: 'Cancel',
    nearPlace: 'Chosen place: {place}',
    nearPlaceMap: 'the point chosen on the map',
    nearUseLocation: 'Use my location',
    nearChange: 'Change place',
  },
};

const PLACE_KEY = 'onemap.nearPlace';
const RADIUS_KEY = 'onemap.nearRadius';
const RADIUS_DEFAULT = 2000;
const RADIUS_MIN = 500;
const RADIUS_MAX = 10000;

const SRC = 'near';
const LYR = { fill: 'near-fill', line: 'near-line', me: 'near-me' };

// distance is the great-circle distance in metres between [lon, lat] points.
export function distance(a, b) {
  const R = 6371008.8;
  const rad = Math.PI / 180;
  const dLat = (b[1] - a[1]) * rad;
  const dLon = (b[0] - a[0]) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a[1] * rad) * Math.cos(b[1] * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * R * Math.asin(Math.min(1, Math.sqrt(h)));
}

// circlePolygon is a 64-gon of radius metres around [lon, lat].
function circlePolygon([lon, lat], radius) {
  const ring = [];
  const dLat = radius / 111320;
  const dLon = radius / (111320 * Math.cos((lat * Math.PI) / 180));
  for (let i = 0; i <= 64; i++) {
    const a = (2 * Math.PI * i) / 64;
    ring.push([lon + dLon * Math.cos(a), lat + dLat * Math.sin(a)]);
  }
  return ring;
}

// ringCentre is the centre of a polygon's outer ring's bounding box.
export function ringCentre(ring) {
  let [w, s, e, n] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const [x, y] of ring) {
    w = Math.min(w, x); s = Math.min(s, y); e = Math.max(e, x); n = Math.max(n, y);
  }
  return [(w + e) / 2, (s + n) / 2];
}

// savedPlace is the place chosen earlier in this tab, or null.
function savedPlace() {
  try {
    const p = JSON.parse(sessionStorage.getItem(PLACE_KEY) ?? 'null');
    const ok = p && Array.isArray(p.at) && p.at.length === 2 && p.at.every(Number.isFinite) &&
      Math.abs(p.at[0]) <= 180 && Math.abs(p.at[1]) <= 90;
    return ok ? { at: p.at, district: typeof p.district === 'string' ? p.district : '' } : null;
  } catch {
    return null;
  }
}

// createPhone builds the sheet and watches the position. deps: map, t,
// lang() (the page's language), format (alarms.js's formats), alarms
// (alarms.js's hooks), onRegion() when the circle changes (the live channel
// subscribes again), onPosition() after each position or failure to find
// one.
export function createPhone({ map, t, lang = () => 'zh', format, alarms, onRegion, onPosition = () => {} }) {
  const saved = Number(localStorage.getItem(RADIUS_KEY));
  const st = {
    position: null, // [lon, lat]: the located one, or the place chosen
    gps: null, // [lon, lat]: the last located position
    place: savedPlace(), // {at, district}: the place chosen instead, or null
    picking: false, // the next tap on the map chooses the place
    choosing: false, // the chooser is open while there is a position
    districts: null, // [{name, name_en, at}] once loaded
    accuracy: 0,
    radius: saved >= RADIUS_MIN && saved <= RADIUS_MAX ? saved : RADIUS_DEFAULT,
    error: '', // why there is no position: a GeolocationPositionError code or 'unsupported'
    alarms: [], // the active alarms, with distance_m, nearest first
    fitted: false,
  };

  const sheet = document.createElement('aside');
  sheet.id = 'near-panel';
  sheet.className = 'near-panel';
  const head = document.createElement('header');
  head.className = 'near-head';
  const heading = document.createElement('h2');
  heading.id = 'near-title';
  const count = document.createElement('span');
  count.id = 'near-count';
  count.className = 'alarm-count';
  heading.append(document.createTextNode(''), count);
  const control = document.createElement('label');
  control.className = 'near-radius';
  const controlText = document.createElement('span');
  const range = document.createElement('input');
  range.type = 'range';
  range.id = 'near-radius';
  range.min = String(RADIUS_MIN);
  range.max = String(RADIUS_MAX);
  range.step = '500';
  range.value = String(st.radius);
  const shown = document.createElement('output');
  shown.id = 'near-radius-value';
  shown.htmlFor = range.id;
  control.append(controlText, range, shown);
  head.append(heading, control);
  const status = document.createElement('p');
  status.id = 'near-status';
  status.className = 'alarm-status';
  status.setAttribute('aria-live', 'polite');
  const list = document.createElement('ul');
  list.id = 'near-list';
  list.className = 'alarm-list near-list';

  // The chooser of a place: a tap on the map, or a district.
  const chooser = document.createElement('div');
  chooser.id = 'near-pick';
  chooser.className = 'near-pick';
  const pickMap = document.createElement('button');
  pickMap.type = 'button';
  pickMap.id = 'near-pick-map';
  pickMap.className = 'near-ack near-pick-button';
  const district = document.createElement('select');
  district.id = 'near-district';
  district.className = 'near-district';
  const useGPS = document.createElement('button');
  useGPS.type = 'button';
  useGPS.id = 'near-use-location';
  useGPS.className = 'near-ack near-pick-button secondary';
  chooser.append(pickMap, district, useGPS);
  const change = document.createElement('button');
  change.type = 'button';
  change.id = 'near-change';
  change.className = 'near-change';
  head.append(change);
  sheet.append(head, status, chooser, list);
  document.body.append(sheet);

  pickMap.addEventListener('click', () => {
    st.picking = !st.picking;
    document.body.classList.toggle('picking-place', st.picking);
    render();
  });
  district.addEventListener('change', () => {
    const d = st.districts?.[Number(district.value)];
    if (d) choose(d.at, d.name);
  });
  useGPS.addEventListener('click', () => {
    st.place = null;
    st.choosing = false;
    sessionStorage.removeItem(PLACE_KEY);
    if (st.gps) moveTo(st.gps);
    else {
      st.position = null;
      render();
      onPosition();
    }
  });
  change.addEventListener('click', () => {
    st.choosing = !st.choosing;
    render();
  });

  // loadDistricts fills the chooser's list from the city's districts.
  async function loadDistricts() {
    if (st.districts) return;
    st.districts = [];
    try {
      const fc = await apiJSON('/ogc/collections/district/items?limit=200');
      st.districts = (fc.features ?? [])
        .filter((f) => f.geometry?.type === 'Polygon' || f.geometry?.type === 'MultiPolygon')
        .map((f) => {
          const ring = f.geometry.type === 'Polygon' ? f.geometry.coordinates[0] : f.geometry.coordinates[0][0];
          return { name: String(f.properties?.name ?? ''), name_en: String(f.properties?.name_en ?? ''), at: ringCentre(ring) };
        })
        .filter((d) => d.name)
        .sort((a, b) => a.name.localeCompare(b.name, 'zh-CN'));
    } catch {
      st.districts = null; // tried again the next time the chooser shows
    }
    render();
  }

  // choose takes a place for the position; district names it, when it is
  // one.
  function choose(at, districtName = '') {
    st.place = { at, district: districtName };
    st.picking = false;
    st.choosing = false;
    document.body.classList.remove('picking-place');
    sessionStorage.setItem(PLACE_KEY, JSON.stringify(st.place));
    moveTo(at);
  }

  // moveTo makes at the position, frames it and subscribes around it.
  function moveTo(at) {
    st.position = at;
    st.fitted = false;
    draw();
    fit();
    onRegion();
    update(st.alarms);
    onPosition();
  }

  range.addEventListener('input', () => {
    st.radius = Number(range.value);
    renderRadius();
    draw();
  });
  range.addEventListener('change', () => {
    localStorage.setItem(RADIUS_KEY, String(st.radius));
    st.fitted = false;
    fit();
    onRegion();
  });

  function km(m) {
    return m >= 1000
      ? t('distanceKm').replace('{n}', (m / 1000).toLocaleString(format.locale(), { maximumFractionDigits: 1 }))
      : t('distanceM').replace('{n}', String(Math.round(m)));
  }

  function renderRadius() {
    controlText.textContent = t('nearRadius');
    shown.textContent = km(st.radius);
  }

  // ------------------------------------------------------------- position

  function located(pos) {
    const next = [pos.coords.longitude, pos.coords.latitude];
    st.gps = next;
    st.accuracy = pos.coords.accuracy ?? 0;
    st.error = '';
    if (st.place) {
      // A place chosen stands until the responder asks for this one.
      render();
      onPosition();
      return;
    }
    const first = !st.position;
    const moved = first || distance(st.position, next) > Math.max(50, st.radius / 20);
    st.position = next;
    draw();
    if (moved) {
      st.fitted = false;
      fit();
      onRegion();
    }
    update(st.alarms);
    onPosition();
  }

  // failed keeps why there is no position; its words are the page's, never
  // the browser's message.
  function failed(err) {
    st.error = err?.code || 2;
    render();
    onPosition();
  }

  if (navigator.geolocation) {
    navigator.geolocation.watchPosition(located, failed, { enableHighAccuracy: true, maximumAge: 10e3, timeout: 30e3 });
  } else {
    st.error = 'unsupported';
  }
  if (st.place) {
    st.position = st.place.at;
    map.once('load', () => moveTo(st.place.at));
  }

  // click takes a tap on the map as the place while choosing one; true
  // when it did.
  function click(e) {
    if (!st.picking) return false;
    choose([e.lngLat.lng, e.lngLat.lat]);
    return true;
  }

  // fit frames the circle in the part of the map the sheet leaves free.
  function fit() {
    if (!st.position || st.fitted) return;
    st.fitted = true;
    const ring = circlePolygon(st.position, st.radius);
    const lons = ring.map((p) => p[0]);
    const lats = ring.map((p) => p[1]);
    const c = map.getContainer().getBoundingClientRect();
    const r = sheet.getBoundingClientRect();
    const bottom = Math.max(20, Math.min(c.height / 2, c.bottom - r.top + 10));
    map.fitBounds([[Math.min(...lons), Math.min(...lats)], [Math.max(...lons), Math.max(...lats)]], {
      padding: { top: 110, bottom, left: 20, right: 20 }, animate: false,
    });
  }

  // region is the subscription: the circle, at the map's zoom.
  function region() {
    if (!st.position) return null;
    return { circle: [st.position[0], st.position[1], st.radius], zoom: map.getZoom() };
  }

  // ------------------------------------------------------------- the map

  function features() {
    const fs = [];
    if (st.position) {
      fs.push({ type: 'Feature', properties: { kind: 'circle' }, geometry: { type: 'Polygon', coordinates: [circlePolygon(st.position, st.radius)] } });
      fs.push({ type: 'Feature', properties: { kind: 'me' }, geometry: { type: 'Point', coordinates: st.position } });
    }
    return { type: 'FeatureCollection', features: fs };
  }

  function addLayers() {
    if (map.getSource(SRC) || map.getLayersOrder().length === 0) return;
    try {
      map.addSource(SRC, { type: 'geojson', data: features() });
      const below = map.getLayer('alarms-halo') ? 'alarms-halo' : undefined;
      map.addLayer({ id: LYR.fill, type: 'fill', source: SRC, filter: ['==', ['get', 'kind'], 'circle'], paint: { 'fill-color': '#2563eb', 'fill-opacity': 0.06 } }, below);
      map.addLayer({ id: LYR.line, type: 'line', source: SRC, filter: ['==', ['get', 'kind'], 'circle'], paint: { 'line-color': '#2563eb', 'line-width': 2, 'line-dasharray': [3, 2] } }, below);
      map.addLayer({
        id: LYR.me, type: 'circle', source: SRC, filter: ['==', ['get', 'kind'], 'me'],
        paint: { 'circle-radius': 8, 'circle-color': '#2563eb', 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 3 },
      });
    } catch {
      // The style is not ready yet; its next styledata event comes.
    }
  }
  map.on('styledata', addLayers);
  map.on('style.load', addLayers);

  function draw() {
    addLayers();
    map.getSource(SRC)?.setData(features());
  }

  // ------------------------------------------------------------- the list

  // update takes the active alarms the live channel holds (those within the
  // circle), measures them from the phone and lists them nearest first.
  function update(all) {
    st.alarms = (all ?? []).map((a) => ({
      ...a,
      distance_m: st.position && a.location ? distance(st.position, a.location) : Infinity,
    })).sort((a, b) => a.distance_m - b.distance_m || a.level - b.level);
    render();
  }

  // placeName is the chosen place in the page's language.
  function placeName() {
    const d = st.place?.district && st.districts?.find((x) => x.name === st.place.district);
    if (d) return lang() === 'en' && d.name_en ? d.name_en : d.name;
    return st.place?.district || t('nearPlaceMap');
  }

  function renderChooser() {
    const open = !st.position || st.choosing || st.picking;
    chooser.hidden = !open;
    change.hidden = open || !st.position;
    change.textContent = t('nearChange');
    pickMap.textContent = st.picking ? t('nearPickCancel') : t('nearPickMap');
    pickMap.setAttribute('aria-pressed', String(st.picking));
    useGPS.textContent = t('nearUseLocation');
    useGPS.hidden = !st.place || Boolean(st.error);
    if (open && !st.districts) loadDistricts();
    const first = document.createElement('option');
    first.value = '';
    first.textContent = t('nearPickDistrict');
    const chosen = st.place?.district ?? '';
    district.replaceChildren(first, ...(st.districts ?? []).map((d, i) => {
      const o = document.createElement('option');
      o.value = String(i);
      o.textContent = lang() === 'en' && d.name_en ? d.name_en : d.name;
      o.selected = d.name === chosen;
      return o;
    }));
    district.setAttribute('aria-label', t('nearPickDistrict'));
    district.disabled = !st.districts?.length;
  }

  function render() {
    heading.firstChild.textContent = `${t('nearTitle')} `;
    count.textContent = String(st.alarms.length);
    count.style.background = st.alarms.length ? format.levelColor(Math.min(...st.alarms.map((a) => a.level))) : '';
    renderRadius();
    renderChooser();
    if (st.picking) status.textContent = t('nearPickMapHint');
    else if (st.place) status.textContent = t('nearPlace').replace('{place}', placeName()) + (st.alarms.length ? '' : ` · ${t('nearNone')}`);
    else if (st.error) status.textContent = `${t('nearNoPosition')}${geoErrorText(st.error, t)} · ${t('nearPick')}`;
    else if (!st.position) status.textContent = t('nearLocating');
    else if (st.alarms.length === 0) status.textContent = t('nearNone');
    else status.textContent = '';
    status.classList.toggle('error', Boolean(st.error) && !st.place && !st.picking);
    status.hidden = status.textContent === '';
    list.replaceChildren(...st.alarms.map(row));
  }

  function row(a) {
    const li = document.createElement('li');
    li.className = 'alarm-row near-row';
    li.dataset.id = String(a.id);
    li.dataset.level = String(a.level);
    li.dataset.distance = String(Math.round(a.distance_m));
    li.tabIndex = 0;
    li.style.borderLeftColor = format.levelColor(a.level);
    const badge = document.createElement('span');
    badge.className = 'alarm-badge';
    badge.dataset.level = String(a.level);
    badge.style.background = format.levelColor(a.level);
    badge.textContent = t('alarmLevel').replace('{n}', a.level);
    const what = document.createElement('span');
    what.className = 'alarm-what';
    what.textContent = `${format.domainTitle(a.domain)} · ${a.sensor_code} · ${format.metricTitle(a.metric)}`;
    const dist = document.createElement('span');
    dist.className = 'near-distance';
    dist.textContent = Number.isFinite(a.distance_m) ? km(a.distance_m) : '–';
    const meta = document.createElement('span');
    meta.className = 'alarm-meta';
    meta.textContent = [format.withUnit(a.last_value, a.unit), a.district, format.relative(a.started)].filter(Boolean).join(' · ');
    const ack = document.createElement('button');
    ack.type = 'button';
    ack.className = `near-ack ${a.ack ? 'acked' : ''}`;
    // Whoever may not acknowledge opens the details all the same.
    ack.textContent = a.ack ? `✓ ${t('nearAcked')}` : t(can('alarms.ack') ? 'nearAck' : 'nearDetails');
    ack.addEventListener('click', (e) => {
      e.stopPropagation();
      alarms.open(a.id);
    });
    li.append(badge, what, dist, meta, ack);
    const go = () => map.flyTo({ center: a.location, zoom: Math.max(map.getZoom(), 16), essential: true });
    li.addEventListener('click', go);
    li.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && e.target === li) go();
    });
    return li;
  }

  function renderText() {
    render();
  }

  render();
  return {
    update,
    region,
    renderText,
    click,
    choose,
    get position() { return st.position; },
    get located() { return st.gps; },
    get place() { return st.place; },
    get picking() { return st.picking; },
    get error() { return st.error; },
    get radius() { return st.radius; },
    get alarms() { return st.alarms; },
  };
}
