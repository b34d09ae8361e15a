// The one map in the browser: the MapLibre map of /style.json, a legend of
// the catalog's groups and layers that switches them on and off, a popup of
// a clicked feature's attributes, a Chinese/English switch, and the analysis
// tools of analysis.js (nearby, valve closure, gas neighbourhood), the
// alarms of alarms.js kept live by live.js, and three views chosen by the
// URL: the analyst's desktop (/), a command centre's big screen
// (/?view=screen, screen.js) and a responder's phone (/?view=phone,
// phone.js).
//
// Everything comes from this server: the style (with its tiles, glyphs and
// sprite), the catalog (/catalog) and MapLibre itself (/vendor/). Who the
// user is and what they may do comes from session.js, which makes every
// request; the legend header names the user (user.js), and the audit log
// (audit.js), the users and the tokens (admin.js) open from there for
// those allowed. The incident loop (incident.js) has its panel on the
// desktop, the warnings in force on every view's map, the inbox (inbox.js)
// for a logged-in user and the responder's tasks on the phone (tasks.js).
// The desktop also charts the alarms (stats.js) and maps the problems of
// the city's data (quality.js).

import * as maplibregl from '/vendor/maplibre-gl/maplibre-gl.mjs';
import { TEXT as ANALYSIS_TEXT, createAnalysis } from '/analysis.js';
import { TEXT as ALARM_TEXT, createAlarms } from '/alarms.js';
import { TEXT as LIVE_TEXT, createLive, createTicker } from '/live.js';
import { createScreen } from '/screen.js';
import { TEXT as PHONE_TEXT, createPhone } from '/phone.js';
import * as session from '/session.js';
import { createUserMenu } from '/user.js';
import { TEXT as AUDIT_TEXT, createAudit } from '/audit.js';
import { TEXT as ADMIN_TEXT, createTokens, createUsers } from '/admin.js';
import { TEXT as INCIDENT_TEXT, createIncidents, createWarningLayer } from '/incident.js';
import { TEXT as INBOX_TEXT, createInbox } from '/inbox.js';
import { TEXT as TASKS_TEXT, createTasks } from '/tasks.js';
import { TEXT as REPLAY_TEXT, createPositionLayer, createReplay } from '/replay.js';
import { TEXT as STATS_TEXT, createStats } from '/stats.js';
import { TEXT as QUALITY_TEXT, createQuality } from '/quality.js';
import { TEXT as SCENE_TEXT, SCENE_LAYERS, createScene3D } from '/scene3d.js';
import { sensorFill } from '/scene-model.js';
import { DOMAIN_COLORS, FAULT_COLOR, LEVEL_COLORS, OFFLINE_COLOR, OTHER_LEVEL } from '/levels.js';
import { sensorColour } from '/channel.js';

// The view: 'desktop', 'screen' or 'phone' (?view=).
const VIEW = { screen: 'screen', phone: 'phone' }[new URLSearchParams(location.search).get('view')] ?? 'desktop';
document.body.dataset.view = VIEW;
// ?mode=3d opens the desktop or the big screen in the 3D view.
const MODE_3D = new URLSearchParams(location.search).get('mode') === '3d';

// The big screen is watched, not handled: it never leaves for the login
// page and keeps trying while the server is away.
session.configure({ quiet: VIEW === 'screen', keepAlive: VIEW === 'screen' });
session.refresh();

// Metadata keys every style layer carries (see mapstyle.Style).
const META_LAYER = 'onemap:layer';
const META_DERIVED = 'onemap:derived'; // on the style layers of derived (analysis) layers
const META_GROUP = 'onemap:group';

// UI text in both languages. Layer, group and field titles come from /catalog.
const TEXT = {
  zh: {
    title: '城市安全风险一张图',
    loading: '正在加载…',
    catalogError: '图层目录加载失败：',
    toggleLegend: '显示或隐藏图例',
    switchLang: 'Switch to English',
    featureId: '要素编号',
    layer: '图层',
    yes: '是',
    no: '否',
    outOfZoom: '放大到 {z} 级以上可见',
    ...ANALYSIS_TEXT.zh,
    ...SCENE_TEXT.zh,
    ...ALARM_TEXT.zh,
    ...LIVE_TEXT.zh,
    ...session.TEXT.zh,
    ...AUDIT_TEXT.zh,
    ...ADMIN_TEXT.zh,
    ...INCIDENT_TEXT.zh,
    ...INBOX_TEXT.zh,
    ...TASKS_TEXT.zh,
    ...REPLAY_TEXT.zh,
    ...STATS_TEXT.zh,
    ...QUALITY_TEXT.zh,
    ...PHONE_TEXT.zh,
    screenWarnings: '生效预警',
    screenNoWarnings: '当前无生效预警',
    screenResponse: '处置任务完成 {done}/{total} · 超时 {overdue}',
  },
  en: {
    title: 'City safety risk map',
    loading: 'Loading…',
    catalogError: 'Could not load the layer catalog: ',
    toggleLegend: 'Show or hide the legend',
    switchLang: '切换到中文',
    featureId: 'Feature id',
    layer: 'Layer',
    yes: 'yes',
    no: 'no',
    outOfZoom: 'Visible from zoom {z}',
    ...ANALYSIS_TEXT.en,
    ...SCENE_TEXT.en,
    ...ALARM_TEXT.en,
    ...LIVE_TEXT.en,
    ...session.TEXT.en,
    ...AUDIT_TEXT.en,
    ...ADMIN_TEXT.en,
    ...INCIDENT_TEXT.en,
    ...INBOX_TEXT.en,
    ...TASKS_TEXT.en,
    ...REPLAY_TEXT.en,
    ...STATS_TEXT.en,
    ...QUALITY_TEXT.en,
    ...PHONE_TEXT.en,
    screenWarnings: 'Warnings in force',
    screenNoWarnings: 'No warnings in force',
    screenResponse: 'Tasks done {done}/{total} · overdue {overdue}',
  },
};

// The state of the page.
const state = {
  lang: initialLang(),
  catalog: null, // {groups, layers} from /catalog
  layersById: new Map(), // catalog layer id → catalog layer
  hidden: new Set(), // catalog layer ids switched off
  styleLayers: new Map(), // catalog layer id → its style layers' ids
  colors: new Map(), // catalog layer id → a colour of its style, for the legend
  keys: new Map(), // catalog layer id → {field, entries: [[value, colour]]} of its colour match
  minzoom: new Map(), // catalog layer id → the lowest zoom any of its style layers draws at
  defaultsApplied: false, // the layers off by default are off (once, on the first style)
  popup: null,
};
// The 3D view (the desktop and the big screen), made once the map is.
let scene3d = null;

// The page language: ?lang=, then the last choice, then Chinese.
function initialLang() {
  const q = new URLSearchParams(location.search).get('lang');
  if (q === 'zh' || q === 'en') return q;
  const saved = localStorage.getItem('onemap.lang');
  return saved === 'en' ? 'en' : 'zh';
}

function t(key) {
  return TEXT[state.lang][key] ?? key;
}

// title picks the current language of a {zh, en} title, falling back to
// the other language or a default.
function title(text, fallback = '') {
  if (!text) return fallback;
  return text[state.lang] || text.zh || text.en || fallback;
}

// styleURL is the style in a language; the big screen's is dark
// (mapstyle's theme=dark: the same layers on a dark ground).
function styleURL(lang) {
  const q = new URLSearchParams();
  if (lang === 'en') q.set('lang', 'en');
  if (VIEW === 'screen') q.set('theme', 'dark');
  const qs = q.toString();
  return qs ? `/style.json?${qs}` : '/style.json';
}

// ---------------------------------------------------------------- the map

const map = new maplibregl.Map({
  container: 'map',
  style: styleURL(state.lang),
  // The style's center and zoom frame the city; nothing here overrides them.
  // Chinese characters are drawn from the browser's own fonts; the server
  // serves glyphs for Latin text only.
  localIdeographFontFamily: '"PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "Noto Sans SC", sans-serif',
  attributionControl: { compact: true },
  maxPitch: 0,
  // The big screen is watched, not handled.
  interactive: VIEW !== 'screen',
  // A view token of the page's URL goes with the style, tiles and glyphs;
  // the session's cookie goes by itself.
  transformRequest: (url) => {
    const auth = session.authHeader(url);
    return auth ? { url, headers: { Authorization: auth } } : { url };
  },
});
map.touchZoomRotate.disableRotation();
if (VIEW !== 'screen') map.addControl(new maplibregl.NavigationControl({ visualizePitch: false }), 'top-right');
map.addControl(new maplibregl.ScaleControl({ unit: 'metric', maxWidth: 120 }), 'bottom-left');

// ready resolves once the map has drawn its first complete frame: at its
// first idle, or at a frame with every tile loaded, since blinking alarms
// may keep the map from ever being idle.
const ready = new Promise((resolve) => {
  const done = () => {
    map.off('idle', done);
    map.off('render', frame);
    resolve();
  };
  const frame = () => {
    if (map.isStyleLoaded() && map.areTilesLoaded()) done();
  };
  map.on('idle', done);
  map.on('render', frame);
});
window.onemap = { map, ready };

map.on('error', (e) => console.warn('map:', e.error?.message ?? e));

// Each time a style loads (first load, language switch), index its layers by
// catalog layer, re-apply what the user switched off and redraw the legend
// with the style's colours.
map.on('style.load', () => {
  indexStyleLayers();
  // On the desktop the derived areas (risk zones, metres wide around every
  // alarm and gas main) start switched off, one click away in the legend,
  // so that they do not cover the blocks the alarms are in.
  if (!state.defaultsApplied && VIEW === 'desktop') {
    for (const layer of map.getStyle().layers) {
      if (layer.metadata?.[META_DERIVED] && layer.type === 'fill') state.hidden.add(layer.metadata[META_LAYER]);
    }
  }
  state.defaultsApplied = true;
  applyVisibility();
  renderLegend();
  scene3d?.restyle();
});
map.on('zoomend', updateZoomHints);

// indexStyleLayers groups the style's layers by their catalog layer and
// notes a representative colour of each.
function indexStyleLayers() {
  state.styleLayers.clear();
  state.colors.clear();
  state.keys.clear();
  state.minzoom.clear();
  for (const layer of map.getStyle().layers) {
    const id = layer.metadata?.[META_LAYER];
    if (!id) continue;
    if (!state.styleLayers.has(id)) state.styleLayers.set(id, []);
    state.styleLayers.get(id).push(layer.id);
    const color = layerColor(layer);
    if (color && !state.colors.has(id)) state.colors.set(id, color);
    const key = layerKey(layer);
    if (key && !state.keys.has(id)) state.keys.set(id, key);
    const z = layer.minzoom ?? 0;
    if (!state.minzoom.has(id) || z < state.minzoom.get(id)) state.minzoom.set(id, z);
  }
}

// layerKey is the colour match of a style layer on a field, as
// {field, entries: [[value, colour], ..., ['', fallback colour]]}, for the
// legend to explain; casings and labels have none.
function layerKey(layer) {
  if (layer.id.endsWith('-casing') || layer.id.endsWith('-edge') || layer.type === 'symbol') return null;
  for (const key of ['line-color', 'fill-color', 'circle-color']) {
    const v = layer.paint?.[key];
    if (!Array.isArray(v) || v[0] !== 'match' || !Array.isArray(v[1]) || v[1][0] !== 'get') continue;
    const entries = [];
    for (let i = 2; i + 1 < v.length; i += 2) entries.push([v[i], v[i + 1]]);
    return { field: v[1][1], entries };
  }
  return null;
}

// layerColor is a style layer's constant colour or the first output of its
// colour match; casings (white halos) have none worth showing.
function layerColor(layer) {
  if (layer.id.endsWith('-casing') || layer.id.endsWith('-edge')) return '';
  for (const key of ['line-color', 'fill-color', 'circle-color', 'text-color']) {
    const v = layer.paint?.[key];
    if (typeof v === 'string') return v;
    if (Array.isArray(v) && v[0] === 'match' && typeof v[3] === 'string') return v[3];
  }
  return '';
}

// applyVisibility shows or hides every style layer of every catalog layer
// as the legend says; in 3D the layers the scene draws are hidden.
function applyVisibility() {
  for (const [id, styleIds] of state.styleLayers) {
    const visibility = state.hidden.has(id) || (scene3d?.on && SCENE_LAYERS.includes(id)) ? 'none' : 'visible';
    for (const sid of styleIds) {
      if (map.getLayer(sid) && map.getLayoutProperty(sid, 'visibility') !== visibility) {
        map.setLayoutProperty(sid, 'visibility', visibility);
      }
    }
  }
}

// setLang switches the page and the map labels to another language. The new
// style is reloaded with the hidden layers already hidden, so nothing
// flashes on.
function setLang(lang) {
  if (lang === state.lang) return;
  state.lang = lang;
  localStorage.setItem('onemap.lang', lang);
  const url = new URL(location.href);
  if (lang === 'en') url.searchParams.set('lang', 'en');
  else url.searchParams.delete('lang');
  history.replaceState(null, '', url);
  map.setStyle(styleURL(lang), {
    transformStyle: (_previous, next) => ({
      ...next,
      layers: next.layers.map((l) =>
        state.hidden.has(l.metadata?.[META_LAYER])
          ? { ...l, layout: { ...l.layout, visibility: 'none' } }
          : l),
    }),
  });
  closePopup();
  renderText();
  renderLegend();
}

// ------------------------------------------------------------- the legend

const legend = document.getElementById('legend');
const legendBody = document.getElementById('legend-body');

// renderText puts the current language into the page's fixed text.
function renderText() {
  document.documentElement.lang = state.lang === 'en' ? 'en' : 'zh-CN';
  document.title = t('title');
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
  const sw = document.getElementById('lang-switch');
  sw.textContent = state.lang === 'en' ? '中文' : 'EN';
  sw.lang = state.lang === 'en' ? 'zh-CN' : 'en';
  sw.title = t('switchLang');
  analysis.renderText();
  alarms.renderText();
  ticker.renderText();
  screen?.renderText();
  phone?.renderText();
  userMenu.render();
  incidents?.renderText();
  inbox?.renderText();
  tasks?.renderText();
  replay?.renderText();
  stats?.renderText();
  quality?.renderText();
  scene3d?.renderText();
  audit?.renderText();
  users?.renderText();
  tokens?.renderText();
  renderScreenLogin();
}

// renderLegend builds one fieldset per catalog group, a checkbox for the
// group and one per layer. Checkbox ids are stable: toggle-group-<group>
// and toggle-<layer>.
function renderLegend() {
  if (!state.catalog) return;
  legendBody.replaceChildren();
  for (const group of state.catalog.groups) {
    const members = state.catalog.layers.filter((l) => l.group === group.id);
    if (members.length === 0) continue;

    const fieldset = document.createElement('fieldset');
    fieldset.className = 'legend-group';
    fieldset.append(checkboxLabel(`toggle-group-${group.id}`, title(group.title, group.id), (on) => {
      for (const l of members) setHidden(l.id, !on);
      syncCheckboxes();
    }));

    const list = document.createElement('ul');
    for (const layer of members) {
      const item = document.createElement('li');
      item.dataset.layer = layer.id;
      const label = checkboxLabel(`toggle-${layer.id}`, title(layer.title, layer.id), (on) => {
        setHidden(layer.id, !on);
        syncCheckboxes();
      });
      label.insertBefore(swatch(layer), label.lastChild);
      item.append(label);
      const key = colourKey(layer);
      if (key) item.append(key);
      list.append(item);
    }
    fieldset.append(list);
    legendBody.append(fieldset);
  }
  syncCheckboxes();
  updateZoomHints();
}

function checkboxLabel(id, text, onChange) {
  const label = document.createElement('label');
  const box = document.createElement('input');
  box.type = 'checkbox';
  box.id = id;
  box.addEventListener('change', () => onChange(box.checked));
  const span = document.createElement('span');
  span.textContent = text;
  label.append(box, span);
  return label;
}

// swatch is a small sample of a layer's colour, shaped by its geometry.
function swatch(layer) {
  const el = document.createElement('span');
  el.className = `legend-swatch ${{ LineString: 'line', Point: 'point' }[layer.geometry] ?? 'fill'}`;
  el.style.background = state.colors.get(layer.id) ?? '';
  el.setAttribute('aria-hidden', 'true');
  return el;
}

// colourKey explains what a layer's colours mean, one line per colour its
// style matches a field's values to (values of one colour on one line), as
// the catalog names the values: 红 未监测 / 绿 已监测. Only for the layers
// coloured by an enumeration the catalog names, with a few colours.
function colourKey(layer) {
  const key = state.keys.get(layer.id);
  const field = key && layer.fields?.find((f) => f.name === key.field);
  if (!field?.value_titles) return null;
  const byColour = new Map();
  for (const [value, colour] of key.entries) {
    const name = field.value_titles[value];
    if (!name) continue;
    if (!byColour.has(colour)) byColour.set(colour, []);
    byColour.get(colour).push(title(name, value));
  }
  if (byColour.size < 2 || byColour.size > 6) return null;
  const list = document.createElement('ul');
  list.className = 'legend-key';
  list.dataset.field = key.field;
  for (const [colour, names] of byColour) {
    const li = document.createElement('li');
    const sw = swatch(layer);
    sw.style.background = colour;
    const text = document.createElement('span');
    text.textContent = names.join(' / ');
    li.append(sw, text);
    list.append(li);
  }
  return list;
}

function setHidden(id, hidden) {
  if (hidden) state.hidden.add(id);
  else state.hidden.delete(id);
  applyVisibility();
}

// syncCheckboxes makes every checkbox show the state: a group is checked
// when all its layers are on, indeterminate when some are.
function syncCheckboxes() {
  for (const group of state.catalog.groups) {
    const members = state.catalog.layers.filter((l) => l.group === group.id);
    for (const l of members) {
      const box = document.getElementById(`toggle-${l.id}`);
      if (box) box.checked = !state.hidden.has(l.id);
    }
    const box = document.getElementById(`toggle-group-${group.id}`);
    if (!box) continue;
    const on = members.filter((l) => !state.hidden.has(l.id)).length;
    box.checked = on === members.length;
    box.indeterminate = on > 0 && on < members.length;
  }
}

// updateZoomHints mutes the layers that are not drawn at the current zoom.
function updateZoomHints() {
  const z = map.getZoom();
  for (const item of legendBody.querySelectorAll('li[data-layer]')) {
    const layer = state.layersById.get(item.dataset.layer);
    // The style may draw a layer from further in than its tiles carry it.
    const minzoom = layer && Math.max(layer.minzoom, state.minzoom.get(layer.id) ?? 0);
    const out = layer && z < minzoom;
    item.classList.toggle('out-of-zoom', Boolean(out));
    item.title = out ? t('outOfZoom').replace('{z}', minzoom) : '';
  }
}

// The legend starts collapsed on a phone, where it would cover the map.
const narrow = window.matchMedia('(max-width: 640px)');
function setCollapsed(collapsed) {
  legend.classList.toggle('collapsed', collapsed);
  document.getElementById('legend-toggle').setAttribute('aria-expanded', String(!collapsed));
}
setCollapsed(narrow.matches || VIEW === 'phone');
narrow.addEventListener('change', (e) => setCollapsed(e.matches || VIEW === 'phone'));
document.getElementById('legend-toggle').addEventListener('click', () => {
  setCollapsed(!legend.classList.contains('collapsed'));
});
document.getElementById('lang-switch').addEventListener('click', () => {
  setLang(state.lang === 'en' ? 'zh' : 'en');
});

// -------------------------------------------------------------- the popup

// Clicks look a few pixels around the point, so that a thin pipe or a small
// node can be hit with a finger.
const HIT_TOLERANCE = 6;

function visibleStyleLayerIds() {
  const ids = [];
  for (const [id, styleIds] of state.styleLayers) {
    if (!state.hidden.has(id)) ids.push(...styleIds.filter((sid) => map.getLayer(sid)));
  }
  return ids;
}

function featuresAt(point) {
  const layers = visibleStyleLayerIds();
  if (layers.length === 0) return [];
  const box = [
    [point.x - HIT_TOLERANCE, point.y - HIT_TOLERANCE],
    [point.x + HIT_TOLERANCE, point.y + HIT_TOLERANCE],
  ];
  return map.queryRenderedFeatures(box, { layers });
}

map.on('click', (e) => {
  // While the phone chooses a place, a tap is the place.
  if (phone?.click(e)) return;
  // In the nearby and valve modes a click is a question for the analysis.
  if (analysis.click(e)) return;
  // In 3D a click picks from the scene.
  if (scene3d?.click(e)) return;
  // A click on a data quality problem opens it (the desktop).
  if (quality?.click(e)) return;
  // A click on an alarm icon opens the alarm's details.
  if (alarms.click(e)) return;
  // A click on a warning area opens its incident (the desktop).
  if (warnings.click(e)) return;
  // The topmost feature wins; districts and other areas only when nothing
  // smaller is under the pointer.
  const features = featuresAt(e.point);
  const pick = features.find((f) => f.layer.type !== 'fill') ?? features[0];
  if (!pick) {
    closePopup();
    return;
  }
  showPopup(pick, e.lngLat);
});

// The pointer becomes a hand over anything clickable; looked up at most once
// a frame.
let hoverPoint = null;
map.on('mousemove', (e) => {
  if (hoverPoint === null) {
    requestAnimationFrame(() => {
      map.getCanvas().style.cursor = featuresAt(hoverPoint).length > 0 ? 'pointer' : '';
      hoverPoint = null;
    });
  }
  hoverPoint = e.point;
});

// showFeature opens the details of a feature picked in 3D, as a click on
// it in 2D does.
async function showFeature(id, lngLat) {
  try {
    const f = await session.apiJSON(`/api/v1/features/${id}`);
    showPopup({ id: f.id, properties: f.properties ?? {}, sourceLayer: f.layer, layer: { metadata: { [META_LAYER]: f.layer } } }, lngLat);
  } catch (err) {
    console.warn('feature:', err);
  }
}

function closePopup() {
  state.popup?.remove();
  state.popup = null;
}

// showPopup lists a feature's attributes under their titles in the current
// language, in the catalog's field order, then any others by name.
function showPopup(feature, lngLat) {
  const layerId = feature.layer.metadata?.[META_LAYER] ?? feature.sourceLayer;
  const layer = state.layersById.get(layerId);
  const props = { ...feature.properties };

  const root = document.createElement('div');
  const heading = document.createElement('h2');
  const name = (state.lang === 'en' && props.name_en) || props.name;
  const layerTitle = title(layer?.title, layerId);
  heading.textContent = name ? `${name} ` : layerTitle;
  if (name) {
    const small = document.createElement('span');
    small.className = 'popup-layer';
    small.textContent = `· ${layerTitle}`;
    heading.append(small);
  }
  root.append(heading);

  const table = document.createElement('table');
  const row = (key, value) => {
    const tr = table.insertRow();
    const th = document.createElement('th');
    th.scope = 'row';
    th.textContent = key;
    const td = tr.insertCell();
    td.textContent = value;
    tr.prepend(th);
  };
  if (feature.id !== undefined) row(t('featureId'), String(feature.id));
  row(t('layer'), layerTitle);
  for (const field of layer?.fields ?? []) {
    if (!(field.name in props)) continue;
    row(title(field.title, field.name), formatValue(props[field.name], field.name));
    delete props[field.name];
  }
  for (const key of Object.keys(props).sort()) row(key, formatValue(props[key], key));
  root.append(table);

  closePopup();
  state.popup = new maplibregl.Popup({ className: 'onemap-popup', maxWidth: '340px', focusAfterOpen: false })
    .setLngLat(lngLat)
    .setDOMContent(root)
    .addTo(map);
  state.popup.on('close', () => { state.popup = null; });
}

// Fields whose numbers are ids or years: shown as they are, never grouped
// in thousands.
const PLAIN_NUMBER = /^(asset|building|from_node|to_node|.*_year|installed)$/;

function formatValue(v, name = '') {
  if (v === true) return t('yes');
  if (v === false) return t('no');
  if (typeof v === 'number' && PLAIN_NUMBER.test(name)) return String(v);
  if (typeof v === 'number') {
    return v.toLocaleString(state.lang === 'en' ? 'en' : 'zh-CN', { maximumFractionDigits: 3 });
  }
  return v === null || v === undefined ? '' : String(v);
}

// ----------------------------------------------------------- the analysis

// The analysis tool bar and panel (analysis.js). Its modes switch layers on
// through the legend, so the checkboxes stay true.
const analysis = createAnalysis({
  map,
  t,
  title,
  layersById: { get: (id) => state.layersById.get(id) },
  featuresAt,
  showLayers: (ids) => {
    for (const id of ids) setHidden(id, false);
    if (state.catalog) syncCheckboxes();
  },
  closePopup,
});
window.onemap.analysis = analysis;

// ------------------------------------------------------------- the alarms

// Sensors coloured by state, active alarms as icons, the alarm list and an
// alarm's details (alarms.js).
// The incident panel (the desktop), made after the alarms, whose details
// show an alarm's incident.
let incidents = null;
const alarms = createAlarms({
  map,
  t,
  lang: () => state.lang,
  layerTitle: (id) => title(state.layersById.get(id)?.title, id),
  closePopup,
  incidentSection: (a) => incidents?.alarmSection(a) ?? null,
});
window.onemap.alarms = alarms;

// ------------------------------------------------------------ incidents

// The warnings in force on the map, from the live channel; on the desktop a
// click on one opens its incident.
// On the desktop, the responders' positions on the open incident and its
// replay in time (replay.js).
const positions = VIEW === 'desktop' ? createPositionLayer({ map }) : null;
const replay = VIEW === 'desktop' ? createReplay({ map, t, lang: () => state.lang, format: alarms.format, positions }) : null;
incidents = VIEW === 'desktop'
  ? createIncidents({ map, t, lang: () => state.lang, format: alarms.format, onOpen: () => { inbox?.setOpen(false); stats?.setOpen(false); quality?.setOpen(false); }, replay, positions })
  : null;
// The alarm analysis (stats.js), on the right of the map like the incidents.
const stats = VIEW === 'desktop' ? createStats({ t, format: alarms.format, onOpen: () => { inbox?.setOpen(false); incidents?.setOpen(false); quality?.setOpen(false); } }) : null;
// The problems of the city's data (quality.js), in the same place.
const quality = VIEW === 'desktop'
  ? createQuality({
    map, t, lang: () => state.lang, layerTitle: (id) => title(state.layersById.get(id)?.title, id), closePopup,
    onOpen: () => { inbox?.setOpen(false); incidents?.setOpen(false); stats?.setOpen(false); },
  })
  : null;
window.onemap.quality = quality;
window.onemap.replay = replay;
window.onemap.positions = positions;
window.onemap.stats = stats;
const warnings = createWarningLayer({ map, onPick: incidents ? (id) => incidents.open(id) : null });
window.onemap.incidents = incidents;
window.onemap.warnings = warnings;
// The inbox of a logged-in user, on the desktop and the phone.
// The incident panel and the inbox share the right of the map: one at a time.
const inbox = VIEW !== 'screen' ? createInbox({ t, lang: () => state.lang, format: alarms.format, onOpen: () => { incidents?.setOpen(false); stats?.setOpen(false); quality?.setOpen(false); } }) : null;
window.onemap.inbox = inbox;
let inboxTimer = 0;
function onWarnings(list) {
  warnings.update(list);
  incidents?.warningsChanged(list);
  screen?.updateWarnings(list);
  ticker.setWarnings(list);
  tasks?.updateWarnings(list);
  // A warning published or changed brings messages.
  clearTimeout(inboxTimer);
  inboxTimer = setTimeout(() => inbox?.refresh(), 1000);
}

// ------------------------------------------------------------- live views

// The ticker of the newest alarms, in every view; a click opens the alarm.
const ticker = createTicker({ t, format: alarms.format, onPick: (id) => alarms.open(id) });
window.onemap.ticker = ticker;

// The big screen's counts and trend, the phone's alarms near it.
const screen = VIEW === 'screen' ? createScreen({ t, format: alarms.format }) : null;
const phone = VIEW === 'phone'
  ? createPhone({ map, t, lang: () => state.lang, format: alarms.format, alarms, onRegion: () => live?.subscribe(), onPosition: () => { tasks?.renderText(); tasks?.positionChanged(); } })
  : null;
// The responder's tasks, report form and warnings near the phone.
const tasks = phone ? createTasks({ t, lang: () => state.lang, format: alarms.format, phone, map }) : null;
window.onemap.screen = screen;
window.onemap.phone = phone;
window.onemap.tasks = tasks;

// region is what the live channel subscribes to: the viewport, or the
// phone's circle; with city, the viewport and the whole city (the big
// screen, and the desktop's alarms).
function region(city = Boolean(screen)) {
  if (phone) return phone.region();
  let b = map.getBounds();
  let bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()];
  const c = state.catalog?.city?.bounds;
  if (city && !c) return null; // the catalog comes
  if (city) bbox = [Math.min(bbox[0], c[0]), Math.min(bbox[1], c[1]), Math.max(bbox[2], c[2]), Math.max(bbox[3], c[3])];
  bbox = [Math.max(-180, bbox[0]), Math.max(-90, bbox[1]), Math.min(180, bbox[2]), Math.min(90, bbox[3])];
  return { bbox, zoom: map.getZoom() };
}

let live = null;
let loaded = false;
// The page's state is the worst of its channels'.
const statuses = new Map();
function onStatus(channel, s) {
  statuses.set(channel, s);
  const all = [...statuses.values()];
  const worst = all.includes('reconnecting') ? 'reconnecting' : all.includes('connecting') ? 'connecting' : 'live';
  ticker.setStatus(worst);
  screen?.setStatus(worst);
}
function onAlarms(change) {
  // The ticker shows the active alarms; the first snapshot fills it
  // quietly, after that new alarms and escalations sound.
  const first = change.kind === 'snapshot' && cityAlarms.snapshots <= 1;
  ticker.update(change.alarms, { fresh: [...change.added, ...change.escalated], sound: !first });
  screen?.update(change.alarms);
  phone?.update(change.alarms);
}
// On the desktop the sensors and risk zones follow the viewport, and the
// alarm list, as before, holds the whole city's: two channels. The big
// screen (the city) and the phone (its circle) need one.
let cityAlarms = null;
map.once('load', () => {
  loaded = true;
  if (screen && !MODE_3D) fitCity();
  start3D();
  if (VIEW === 'desktop') {
    const view = createLive({ map, alarms, region: () => region(false), topics: ['sensors', 'risk_zones'], onStatus: (s) => onStatus('view', s) });
    cityAlarms = createLive({ map, alarms, region: () => region(true), topics: ['alarms', 'warnings'], onStatus: (s) => onStatus('city', s), onAlarms, onWarnings });
    live = combine(view, cityAlarms);
    map.on('moveend', () => {
      view.regionChanged();
      cityAlarms.regionChanged();
    });
  } else {
    live = createLive({ map, alarms, region, onStatus: (s) => onStatus('view', s), onAlarms, onWarnings });
    cityAlarms = live;
    if (screen) map.on('moveend', () => live.regionChanged());
  }
  window.onemap.live = live;
});

// combine shows two channels as one: the viewport's sensors and risk zones,
// the city's alarms.
function combine(view, city) {
  return {
    channels: [view, city],
    regionChanged() { view.regionChanged(); city.regionChanged(); },
    subscribe() { view.subscribe(); city.subscribe(); },
    drop() { view.drop(); city.drop(); },
    get connected() { return view.connected && city.connected; },
    get status() { return statuses.get('view') === 'live' ? (statuses.get('city') ?? 'connecting') : (statuses.get('view') ?? 'connecting'); },
    get seq() { return view.seq; },
    get sensors() { return view.sensors; },
    get alarms() { return city.alarms; },
    get riskVersion() { return view.riskVersion; },
    get warnings() { return city.warnings; },
    get messages() { return view.messages + city.messages; },
    get lastMessageAt() { return Math.max(view.lastMessageAt, city.lastMessageAt); },
    get connects() { return Math.min(view.connects, city.connects); },
    get snapshots() { return Math.min(view.snapshots, city.snapshots); },
    get resumed() { return view.resumed + city.resumed; },
    get errors() { return [...view.errors, ...city.errors]; },
  };
}

// fitCity frames the whole city in what the panel and the ticker leave of
// the full-bleed map.
function fitCity() {
  const b = state.catalog?.city?.bounds;
  if (!b) return;
  const panel = document.getElementById('screen-panel')?.getBoundingClientRect();
  const strip = document.getElementById('alarm-ticker')?.getBoundingClientRect();
  const w = map.getContainer().clientWidth;
  const h = map.getContainer().clientHeight;
  const right = panel?.width ? w - panel.left + 20 : 30;
  const bottom = strip?.height ? h - strip.top + 20 : 100;
  map.fitBounds([[b[0], b[1]], [b[2], b[3]]], {
    // Never more padding than the map has room for.
    padding: { top: 30, left: 30, right: Math.min(right, w * 0.6), bottom: Math.min(bottom, h * 0.4) },
    animate: false,
  });
}
if (screen && !MODE_3D) window.addEventListener('resize', () => fitCity());

// ------------------------------------------------------------ the 3D view

// A sensor's colour in 3D is its live state's, as on the 2D map.
const SENSOR_COLORS = { levels: LEVEL_COLORS, other: OTHER_LEVEL, fault: FAULT_COLOR, offline: OFFLINE_COLOR };
function sensorColor(sn) {
  const metrics = live?.sensors?.get(sn.id);
  return sensorFill(metrics ? sensorColour(metrics) : null, SENSOR_COLORS, DOMAIN_COLORS[sn.domain] ?? '#6b7280');
}
scene3d = VIEW === 'phone' ? null : createScene3D({
  map,
  t,
  fetchJSON: (url, options) => session.apiJSON(url, options),
  colorOf: (layer) => state.colors.get(layer) ?? '#6b7280',
  sensorColor,
  ground: () => (VIEW === 'screen' ? '#334155' : '#e5e7eb'),
  onPick: (id, _layer, lngLat) => showFeature(id, lngLat),
  onChange: () => {
    closePopup();
    applyVisibility();
  },
  button: VIEW === 'desktop',
});
window.onemap.scene3d = scene3d;

// start3D opens the page in 3D (?mode=3d) once the map and the catalog are
// there; the big screen looks at the city's centre.
function start3D() {
  if (!MODE_3D || !scene3d || scene3d.on || !loaded || !state.catalog) return;
  if (screen) map.jumpTo({ center: state.catalog.city.center });
  scene3d.setOn(true);
}

// ---------------------------------------------------------------- the user

// The audit log, the users and the tokens, on the desktop only, one at a
// time; the user menu in the legend header.
const desktop = VIEW === 'desktop';
const audit = desktop ? createAudit({ t, lang: () => state.lang }) : null;
const users = desktop ? createUsers({ t, lang: () => state.lang, onOpen: () => { audit.close(); tokens.close(); } }) : null;
const tokens = desktop ? createTokens({ t, lang: () => state.lang, onOpen: () => { audit.close(); users.close(); } }) : null;
const userMenu = createUserMenu({
  t,
  onAudit: audit ? () => { users.close(); tokens.close(); audit.open(); } : null,
  onUsers: users ? () => users.open() : null,
  onTokens: tokens ? () => tokens.open() : null,
});
window.onemap.audit = audit;
window.onemap.users = users;
window.onemap.tokens = tokens;

// The big screen's word that it is no longer logged in, while it retries.
const screenLogin = document.createElement('p');
screenLogin.id = 'screen-login';
screenLogin.className = 'screen-login';
screenLogin.setAttribute('role', 'status');
screenLogin.hidden = true;
document.body.append(screenLogin);
function renderScreenLogin() {
  const link = document.createElement('a');
  link.href = session.loginURL();
  link.textContent = t('logIn');
  screenLogin.replaceChildren(t('screenNeedLogin'), link);
  screenLogin.hidden = !(screen && session.current().needLogin);
}

// Each time the session is known anew, the controls follow its
// permissions.
session.onChange((s) => {
  document.body.dataset.user = s.user?.login ?? '';
  userMenu.render();
  analysis.permissionsChanged();
  alarms.permissionsChanged();
  incidents?.permissionsChanged();
  stats?.permissionsChanged();
  quality?.permissionsChanged();
  inbox?.sessionChanged();
  tasks?.sessionChanged();
  phone?.renderText();
  if (audit?.isOpen && !session.can('audit.read')) audit.close();
  if (users?.isOpen && !session.can('users.admin')) users.close();
  if (tokens?.isOpen && !session.can('tokens.admin')) tokens.close();
  renderScreenLogin();
});
window.onemap.session = session;

// ------------------------------------------------------------------ start

// loadCatalog fetches the layers and their titles, then draws the legend.
async function loadCatalog() {
  try {
    state.catalog = await session.apiJSON('/catalog');
    state.layersById = new Map(state.catalog.layers.map((l) => [l.id, l]));
    renderLegend();
    if (screen && loaded && !MODE_3D) fitCity();
    start3D();
    if (loaded) live?.regionChanged();
  } catch (err) {
    const p = document.createElement('p');
    p.className = 'legend-status error';
    p.textContent = t('catalogError') + session.errorText(err, t);
    legendBody.replaceChildren(p);
  }
}

renderText();
loadCatalog();
