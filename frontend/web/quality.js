// Data quality (数据质量): the problems of the city's data on the map, for a
// data steward to fix the survey where it is wrong. On the desktop a panel
// (#quality-panel, opened by #quality-button) shows the problems the server
// found when it read its city (GET /api/v1/quality), or those of a report
// file opened from disk (the GeoJSON twin of `onemap import --report` or
// `serve --report`, or the JSON report itself, read in the page and never
// sent): a legend of the kinds with their counts (a click shows or hides a
// kind), a list, and the problems drawn on the map — coloured by kind, an
// error with a dark ring and a "!", a warning with a white ring and a
// dashed line. A click in the list or on the map flies there and opens a
// popup of the problem.

import * as maplibregl from '/vendor/maplibre-gl/maplibre-gl.mjs';
import { can } from '/session.js';
import { el, request, stepErrorText } from '/incident.js';

// At most this many problems are drawn, and this many listed.
export const MAX_DRAWN = 50000;
const MAX_LISTED = 500;
// A report file larger than this is not read.
const MAX_FILE_BYTES = 256 << 20;

// The kinds of problem (city/problems.go, cityimport), in the order a
// summary lists them.
export const KINDS = [
  'unreadable', 'city_missing', 'city_bounds', 'city_center_outside', 'unknown_file',
  'bad_id', 'duplicate_id', 'no_geometry', 'wrong_geometry', 'invalid_geometry', 'bad_coordinates',
  'outside_bounds', 'zero_length', 'missing_attribute', 'unknown_value', 'wrong_type', 'bad_minzoom',
  'unknown_node', 'node_far', 'self_crossing', 'duplicate_geometry', 'dangling_node', 'island',
  'no_field', 'unmapped_value', 'no_features',
];

// UI text in both languages, merged into the page's TEXT table.
export const TEXT = {
  zh: {
    quality: '数据质量',
    qualityButtonTitle: '显示或隐藏城市数据的质量问题',
    qualityTitle: '数据质量',
    qualitySourceServer: '本服务器读入城市数据时发现的问题',
    qualitySourceFile: '报告文件：{name}',
    qualityBackToServer: '显示服务器的问题',
    qualityOpenFile: '打开报告文件…',
    qualityOpenFileHint: '打开 onemap import 或 serve --report 写出的报告（.geojson 或 .json），只在本页读取，不会上传',
    qualityErrors: '{n} 个错误', qualityErrors1: '{n} 个错误',
    qualityWarnings: '{n} 个警告', qualityWarnings1: '{n} 个警告',
    qualityCountsSep: '，',
    qualityNone: '没有发现问题',
    qualityLoading: '正在加载…',
    qualityReading: '正在读取文件…',
    qualityError: '数据质量加载失败：',
    qualityKinds: '问题类型（点击显示或隐藏）',
    qualityList: '问题列表',
    qualityListMore: '只列出前 {n} 个，共 {total} 个；点击类型可筛选',
    qualityDrawnMax: '问题太多：只在地图上绘制了前 {n} 个（共 {total} 个）',
    qualityNoPlace: '{n} 个问题在地图上没有位置（整个文件的问题，或坐标无法绘制）',
    qualityNoPlaceJSON: '此 JSON 报告中的问题没有几何，无法绘制；打开同名的 .geojson 文件可在地图上查看',
    qualityWholeFile: '整个文件',
    qualityFeature: '第 {i} 个要素',
    qualityFeatureId: '第 {i} 个要素（编号 {id}）',
    qualityFlyTitle: '在地图上查看',
    // Messages for a file that is not a report.
    qualityBadJSON: '无法读取此文件：它不是有效的 JSON。请打开 onemap 写出的报告（.geojson 或 .json）。',
    qualityNotReport: '此文件不是 onemap 的数据质量报告：其中没有可识别的问题。',
    qualityTooLarge: '文件太大（{mb} MB），无法在浏览器中读取；最大 256 MB。',
    qualityReadFailed: '无法读取此文件。',
    qualityBadType: '请选择 .geojson 或 .json 文件。',
    // The popup's rows.
    qualityKind: '问题类型',
    qualitySeverity: '级别',
    qualityFile: '文件',
    qualityLayer: '图层',
    qualityWhere: '要素',
    qualityAttribute: '属性',
    qualityReason: '原因',
    qualitySuggestion: '建议',
    qualityCause: '可能的原因',
    severity_error: '错误',
    severity_warning: '警告',
    cause_projected: '坐标是投影坐标系的米，当作经纬度读取（缺少 --srid？）',
    cause_swapped: '经度与纬度位置颠倒',
    cause_reversed: '管线的起点与终点节点颠倒',
    kind_unreadable: '文件无法读取',
    kind_city_missing: 'city.json 缺少内容',
    kind_city_bounds: '城市范围有误',
    kind_city_center_outside: '城市中心在范围之外',
    kind_unknown_file: '未知文件',
    kind_bad_id: '编号无效',
    kind_duplicate_id: '编号重复',
    kind_no_geometry: '缺少几何',
    kind_wrong_geometry: '几何类型不符',
    kind_invalid_geometry: '几何无效',
    kind_bad_coordinates: '坐标无效',
    kind_outside_bounds: '超出城市范围',
    kind_zero_length: '长度为零的线',
    kind_missing_attribute: '缺少必填属性',
    kind_unknown_value: '取值不在枚举中',
    kind_wrong_type: '属性类型错误',
    kind_bad_minzoom: '最小缩放级别无效',
    kind_unknown_node: '节点不存在',
    kind_node_far: '管线端点远离节点',
    kind_self_crossing: '线自相交',
    kind_duplicate_geometry: '几何重复',
    kind_dangling_node: '悬空节点',
    kind_island: '管网孤岛',
    kind_no_field: '源数据缺少字段',
    kind_unmapped_value: '源取值未映射',
    kind_no_features: '源数据没有要素',
  },
  en: {
    quality: 'Data quality',
    qualityButtonTitle: 'Show or hide the problems of the city’s data',
    qualityTitle: 'Data quality',
    qualitySourceServer: 'Problems this server found when it read the city',
    qualitySourceFile: 'Report file: {name}',
    qualityBackToServer: 'Show the server’s problems',
    qualityOpenFile: 'Open a report file…',
    qualityOpenFileHint: 'Open a report written by onemap import or serve --report (.geojson or .json); it is read in this page and never uploaded',
    qualityErrors: '{n} errors', qualityErrors1: '{n} error',
    qualityWarnings: '{n} warnings', qualityWarnings1: '{n} warning',
    qualityCountsSep: ', ',
    qualityNone: 'No problems found',
    qualityLoading: 'Loading…',
    qualityReading: 'Reading the file…',
    qualityError: 'The data quality could not be loaded: ',
    qualityKinds: 'Kinds of problem (click to show or hide)',
    qualityList: 'Problems',
    qualityListMore: 'The first {n} of {total} are listed; click a kind to filter',
    qualityDrawnMax: 'Too many problems: the first {n} of {total} are drawn on the map',
    qualityNoPlace: '{n} problems have no place on the map (a whole file’s, or coordinates that cannot be drawn)',
    qualityNoPlaceJSON: 'The problems of this JSON report have no geometry to draw; open the .geojson file of the same name to see them on the map',
    qualityWholeFile: 'whole file',
    qualityFeature: 'feature {i}',
    qualityFeatureId: 'feature {i} (id {id})',
    qualityFlyTitle: 'Show on the map',
    qualityBadJSON: 'This file cannot be read: it is not valid JSON. Open a report written by onemap (.geojson or .json).',
    qualityNotReport: 'This file is not an onemap data quality report: it holds no problems that can be recognised.',
    qualityTooLarge: 'The file is too large ({mb} MB) to read in the browser; at most 256 MB.',
    qualityReadFailed: 'This file could not be read.',
    qualityBadType: 'Choose a .geojson or .json file.',
    qualityKind: 'Kind',
    qualitySeverity: 'Severity',
    qualityFile: 'File',
    qualityLayer: 'Layer',
    qualityWhere: 'Feature',
    qualityAttribute: 'Attribute',
    qualityReason: 'Reason',
    qualitySuggestion: 'Suggestion',
    qualityCause: 'Likely cause',
    severity_error: 'Error',
    severity_warning: 'Warning',
    cause_projected: 'metres of a projected CRS read as degrees (a missing --srid?)',
    cause_swapped: 'longitude and latitude in each other’s place',
    cause_reversed: 'the pipe’s from and to nodes in each other’s place',
    kind_unreadable: 'Unreadable file',
    kind_city_missing: 'city.json incomplete',
    kind_city_bounds: 'Bad city bounds',
    kind_city_center_outside: 'City centre outside its bounds',
    kind_unknown_file: 'Unknown file',
    kind_bad_id: 'Bad id',
    kind_duplicate_id: 'Duplicate id',
    kind_no_geometry: 'No geometry',
    kind_wrong_geometry: 'Wrong geometry type',
    kind_invalid_geometry: 'Invalid geometry',
    kind_bad_coordinates: 'Bad coordinates',
    kind_outside_bounds: 'Outside the city’s bounds',
    kind_zero_length: 'Zero-length line',
    kind_missing_attribute: 'Missing attribute',
    kind_unknown_value: 'Value not in the enumeration',
    kind_wrong_type: 'Wrong attribute type',
    kind_bad_minzoom: 'Bad minzoom',
    kind_unknown_node: 'Unknown node',
    kind_node_far: 'Pipe end far from its node',
    kind_self_crossing: 'Line crossing itself',
    kind_duplicate_geometry: 'Drawn twice',
    kind_dangling_node: 'Dangling node',
    kind_island: 'Network island',
    kind_no_field: 'Field missing in the source',
    kind_unmapped_value: 'Source value not mapped',
    kind_no_features: 'No features in the sources',
  },
};

// Colours for the kinds present, in their order: Okabe and Ito's palette
// for colour-blind readers, then Paul Tol's muted one. Errors and warnings
// differ by their ring and mark too, not by colour alone.
const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#D55E00', '#56B4E9', '#F0E442', '#332288',
  '#88CCEE', '#117733', '#999933', '#882255', '#44AA99', '#AA4499', '#DDCC77', '#661100'];

const SRC = 'quality';
const LYR = {
  fill: 'quality-fill',
  lineError: 'quality-line-error',
  lineWarning: 'quality-line-warning',
  point: 'quality-point',
  mark: 'quality-mark',
  selected: 'quality-selected',
  selectedPoint: 'quality-selected-point',
};
const POINTS = ['match', ['geometry-type'], ['Point', 'MultiPoint'], true, false];
const CLICKABLE = [LYR.point, LYR.lineError, LYR.lineWarning, LYR.fill];

// kindTitle is a kind in words, or its code when it is not known.
export function kindTitle(kind, t) {
  const key = `kind_${kind}`;
  const v = t(key);
  return v === key ? String(kind) : v;
}

// goodCoords reports whether c is a point, or nested lists of points, of
// longitudes and latitudes.
function goodCoords(c, depth) {
  if (!Array.isArray(c)) return false;
  if (depth === 0) {
    return c.length >= 2 && Number.isFinite(c[0]) && Number.isFinite(c[1]) && Math.abs(c[0]) <= 180 && Math.abs(c[1]) <= 90;
  }
  return c.length > 0 && c.every((x) => goodCoords(x, depth - 1));
}

const DEPTH = { Point: 0, MultiPoint: 1, LineString: 1, MultiLineString: 2, Polygon: 2, MultiPolygon: 3 };

// drawable returns a GeoJSON geometry a map can draw, or null.
function drawable(g) {
  if (!g || typeof g !== 'object' || !(g.type in DEPTH)) return null;
  return goodCoords(g.coordinates, DEPTH[g.type]) ? { type: g.type, coordinates: g.coordinates } : null;
}

const str = (v) => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));

// problemOf reads one problem from the properties of a feature of the
// GeoJSON twin or from one entry of the JSON report's problems; null when
// it is no problem.
function problemOf(p, geometry) {
  if (!p || typeof p !== 'object' || typeof p.kind !== 'string' || p.kind === '') return null;
  const index = Number.isInteger(p.index) ? p.index : -1;
  return {
    kind: p.kind,
    severity: p.severity === 'error' ? 'error' : 'warning',
    layer: str(p.layer),
    file: str(p.file),
    index,
    id: typeof p.id === 'number' || typeof p.id === 'string' ? p.id : null,
    attribute: str(p.attribute),
    reason: str(p.reason),
    suggestion: str(p.suggestion),
    cause: str(p.cause),
    geometry: drawable(geometry),
  };
}

// QualityFileError is a report file that cannot be read; key names its
// message.
class QualityFileError extends Error {
  constructor(key, vars = {}) {
    super(key);
    this.key = key;
    this.vars = vars;
  }
}

// parseReport reads a report's text: the GeoJSON twin (a FeatureCollection
// of problems) or the JSON report ({errors, warnings, problems: [...]}).
// It returns {problems, json} or throws a QualityFileError.
export function parseReport(text) {
  let doc;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new QualityFileError('qualityBadJSON');
  }
  let list = null;
  let json = false;
  if (doc && doc.type === 'FeatureCollection' && Array.isArray(doc.features)) {
    list = doc.features.map((f) => (f && typeof f === 'object' ? problemOf(f.properties, f.geometry) : null));
  } else if (doc && typeof doc === 'object' && Array.isArray(doc.problems)) {
    json = true;
    list = doc.problems.map((p) => problemOf(p, p?.geometry));
  } else {
    throw new QualityFileError('qualityNotReport');
  }
  const problems = list.filter(Boolean);
  // A collection of features none of which is a problem is another file.
  if (problems.length === 0 && list.length > 0) throw new QualityFileError('qualityNotReport');
  return { problems, json };
}

// createQuality adds the data quality panel to the desktop. deps: map, t,
// lang, layerTitle(id) a layer's title, closePopup() to close the page's
// feature popup, onOpen() when the panel opens.
export function createQuality({ map, t, lang, layerTitle = (id) => id, closePopup = () => {}, onOpen = () => {} }) {
  const st = {
    open: false,
    source: 'server', // 'server' or 'file'
    server: null, // the server's problems, once fetched
    file: null, // {name, problems, json}
    loading: false,
    error: '', // a message, in words
    hidden: new Set(), // kinds switched off
    colours: new Map(), // kind → colour, for the kinds present
    selected: -1, // the index of the problem whose popup is open
    popup: null,
  };

  const header = document.querySelector('.legend-head');
  const btn = el('button', 'legend-button incident-button quality-button');
  btn.type = 'button';
  btn.id = 'quality-button';
  btn.setAttribute('aria-controls', 'quality-panel');
  btn.setAttribute('aria-expanded', 'false');
  btn.hidden = true;
  (document.getElementById('stats-button') ?? document.getElementById('incident-button') ?? document.getElementById('alarm-button'))?.after(btn) ?? header?.append(btn);

  const panel = el('aside', 'incident-panel quality-panel');
  panel.id = 'quality-panel';
  panel.hidden = true;
  const head = el('header', 'alarm-head');
  const heading = el('h2');
  heading.id = 'quality-title';
  const close = el('button', 'legend-button', '×');
  close.type = 'button';
  close.id = 'quality-close';
  close.addEventListener('click', () => setOpen(false));
  head.append(heading, close);
  panel.setAttribute('aria-labelledby', heading.id);

  const body = el('div', 'alarm-body quality-body');
  const sourceLine = el('p', 'quality-source');
  sourceLine.id = 'quality-source';
  const tools = el('div', 'quality-tools');
  const fileLabel = el('label', 'legend-button quality-open');
  const fileText = el('span');
  const input = el('input');
  input.type = 'file';
  input.id = 'quality-file';
  input.accept = '.geojson,.json,application/geo+json,application/json';
  fileLabel.append(fileText, input);
  const back = el('button', 'legend-button');
  back.type = 'button';
  back.id = 'quality-server';
  back.addEventListener('click', () => { st.source = 'server'; st.error = ''; changed(); });
  tools.append(fileLabel, back);
  const status = el('p', 'alarm-status');
  status.id = 'quality-status';
  status.setAttribute('aria-live', 'polite');
  const counts = el('p', 'quality-counts');
  counts.id = 'quality-counts';
  const notes = el('div', 'quality-notes');
  notes.id = 'quality-notes';
  const kindsHead = el('h3');
  const kinds = el('ul', 'quality-kinds');
  kinds.id = 'quality-kinds';
  const listHead = el('h3');
  const list = el('ul', 'alarm-list quality-list');
  list.id = 'quality-list';
  body.append(sourceLine, tools, status, counts, notes, kindsHead, kinds, listHead, list);
  panel.append(head, body);
  document.body.append(panel);
  btn.addEventListener('click', () => setOpen(!st.open));

  input.addEventListener('change', () => {
    const f = input.files?.[0];
    input.value = '';
    if (f) readFile(f);
  });

  // ------------------------------------------------------------- data

  function problems() {
    return (st.source === 'file' ? st.file?.problems : st.server?.problems) ?? [];
  }

  function message(key, vars = {}) {
    let s = t(key);
    for (const [k, v] of Object.entries(vars)) s = s.replace(`{${k}}`, String(v));
    return s;
  }

  async function loadServer() {
    if (st.server || st.loading) return;
    st.loading = true;
    st.error = '';
    render();
    try {
      const q = await request('/api/v1/quality', { optional: true });
      const features = Array.isArray(q?.problems?.features) ? q.problems.features : [];
      st.server = { problems: features.map((f) => problemOf(f?.properties, f?.geometry)).filter(Boolean) };
    } catch (err) {
      st.error = t('qualityError') + stepErrorText(err, t);
    }
    st.loading = false;
    if (st.source === 'server') changed();
    else render();
  }

  function readFile(f) {
    if (!/\.(geo)?json$/i.test(f.name)) {
      st.error = t('qualityBadType');
      render();
      return;
    }
    if (f.size > MAX_FILE_BYTES) {
      st.error = message('qualityTooLarge', { mb: Math.round(f.size / (1 << 20)) });
      render();
      return;
    }
    st.error = '';
    st.loading = true;
    render();
    const reader = new FileReader();
    reader.onerror = () => {
      st.loading = false;
      st.error = t('qualityReadFailed');
      render();
    };
    reader.onload = () => {
      st.loading = false;
      try {
        const { problems: ps, json } = parseReport(String(reader.result ?? ''));
        st.file = { name: f.name, problems: ps, json };
        st.source = 'file';
        st.hidden.clear();
        changed();
        fit();
      } catch (err) {
        st.error = err instanceof QualityFileError ? message(err.key, err.vars) : t('qualityNotReport');
        render();
      }
    };
    reader.readAsText(f);
  }

  // changed follows a new set of problems: colours, the map, the panel.
  function changed() {
    closeProblem();
    st.colours = new Map();
    const present = [...new Set(problems().map((p) => p.kind))];
    present.sort((a, b) => order(a) - order(b));
    present.forEach((k, i) => st.colours.set(k, PALETTE[i % PALETTE.length]));
    draw();
    render();
  }

  function order(kind) {
    const i = KINDS.indexOf(kind);
    return i < 0 ? KINDS.length : i;
  }

  // ------------------------------------------------------------- the map

  function colourExpr() {
    const m = ['match', ['get', 'kind']];
    for (const [k, c] of st.colours) m.push(k, c);
    m.push('#6b7280');
    return st.colours.size > 0 ? m : '#6b7280';
  }

  function features() {
    const fs = [];
    const ps = problems();
    for (let i = 0; i < ps.length && fs.length < MAX_DRAWN; i++) {
      const p = ps[i];
      if (!p.geometry || st.hidden.has(p.kind)) continue;
      fs.push({ type: 'Feature', geometry: p.geometry, properties: { n: i, kind: p.kind, severity: p.severity } });
    }
    return { type: 'FeatureCollection', features: fs };
  }

  function drawnCount() {
    let n = 0;
    for (const p of problems()) if (p.geometry) n++;
    return n;
  }

  function layerDefs() {
    const colour = colourExpr();
    const isError = ['==', ['get', 'severity'], 'error'];
    const lines = ['match', ['geometry-type'], ['LineString', 'MultiLineString', 'Polygon', 'MultiPolygon'], true, false];
    const points = POINTS;
    return [
      { id: LYR.fill, type: 'fill', filter: ['match', ['geometry-type'], ['Polygon', 'MultiPolygon'], true, false], paint: { 'fill-color': colour, 'fill-opacity': 0.18 } },
      // The problem whose popup is open, in a dark glow underneath: no
      // kind's colour.
      { id: LYR.selected, type: 'line', filter: selectedFilter(), paint: { 'line-color': '#111827', 'line-width': 14, 'line-opacity': 0.3 } },
      { id: LYR.selectedPoint, type: 'circle', filter: selectedFilter(LYR.selectedPoint), paint: { 'circle-radius': 17, 'circle-color': 'rgba(17, 24, 39, 0.18)', 'circle-stroke-color': '#111827', 'circle-stroke-width': 2 } },
      { id: LYR.lineWarning, type: 'line', filter: ['all', lines, ['!', isError]], layout: { 'line-cap': 'butt' }, paint: { 'line-color': colour, 'line-width': 4, 'line-dasharray': [2, 1.2] } },
      { id: LYR.lineError, type: 'line', filter: ['all', lines, isError], layout: { 'line-cap': 'round' }, paint: { 'line-color': colour, 'line-width': 5 } },
      {
        id: LYR.point, type: 'circle', filter: points,
        paint: {
          'circle-color': colour,
          'circle-radius': ['case', isError, 9, 7],
          'circle-stroke-color': ['case', isError, '#111827', '#ffffff'],
          'circle-stroke-width': ['case', isError, 3, 2],
        },
      },
      {
        id: LYR.mark, type: 'symbol', filter: ['all', points, isError],
        layout: { 'text-field': '!', 'text-font': ['Go Bold'], 'text-size': 13, 'text-allow-overlap': true, 'text-ignore-placement': true },
        paint: { 'text-color': '#ffffff', 'text-halo-color': '#111827', 'text-halo-width': 1 },
      },
    ];
  }

  function addLayers() {
    if (map.getSource(SRC) || map.getLayersOrder().length === 0) return;
    try {
      map.addSource(SRC, { type: 'geojson', data: features() });
      for (const l of layerDefs()) map.addLayer({ ...l, source: SRC, layout: { ...(l.layout ?? {}), visibility: st.open ? 'visible' : 'none' } });
    } catch {
      // The style is not ready yet; its next styledata event comes.
    }
  }
  map.on('styledata', addLayers);
  map.on('style.load', addLayers);

  function draw() {
    addLayers();
    map.getSource(SRC)?.setData(features());
    const colour = colourExpr();
    for (const id of [LYR.fill, LYR.lineWarning, LYR.lineError]) {
      if (map.getLayer(id)) map.setPaintProperty(id, id === LYR.fill ? 'fill-color' : 'line-color', colour);
    }
    if (map.getLayer(LYR.point)) map.setPaintProperty(LYR.point, 'circle-color', colour);
    for (const id of [LYR.selected, LYR.selectedPoint]) if (map.getLayer(id)) map.setFilter(id, selectedFilter(id));
    show(st.open);
  }

  function show(on) {
    for (const id of Object.values(LYR)) if (map.getLayer(id)) map.setLayoutProperty(id, 'visibility', on ? 'visible' : 'none');
  }

  // fit frames the problems drawn, beside the panel.
  function fit() {
    let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
    const walk = (c) => {
      if (typeof c[0] === 'number') {
        minX = Math.min(minX, c[0]); maxX = Math.max(maxX, c[0]);
        minY = Math.min(minY, c[1]); maxY = Math.max(maxY, c[1]);
      } else for (const x of c) walk(x);
    };
    for (const f of features().features) walk(f.geometry.coordinates);
    if (!Number.isFinite(minX)) return;
    map.fitBounds([[minX, minY], [maxX, maxY]], { padding: padding(), maxZoom: 16, duration: 0 });
  }

  // free is the part of the map's width the legend and the panel leave
  // free, [left, right] in the container's pixels.
  function free() {
    const c = map.getContainer().getBoundingClientRect();
    let left = 0;
    let right = c.width;
    const legend = document.getElementById('legend');
    if (legend && !legend.classList.contains('collapsed')) {
      const l = legend.getBoundingClientRect();
      if (l.right - c.left < c.width / 2) left = Math.max(0, l.right - c.left);
    }
    if (!panel.hidden) {
      const r = panel.getBoundingClientRect();
      if (r.left - c.left > c.width / 2) right = r.left - c.left;
    }
    return [left, right, c.width];
  }

  function padding() {
    const [left, right, width] = free();
    return { top: 60, bottom: 60, left: left + 30, right: width - right + 30 };
  }

  // anchor is a point on a geometry for its popup: a point, or the middle
  // of its first line or ring.
  function anchor(g) {
    let c = g.coordinates;
    while (Array.isArray(c[0]) && Array.isArray(c[0][0])) c = c[0];
    if (typeof c[0] === 'number') return c;
    if (c.length % 2 === 1) return c[(c.length - 1) / 2];
    const a = c[c.length / 2 - 1];
    const b = c[c.length / 2];
    return [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];
  }

  // ------------------------------------------------------------- a problem

  function whereText(p) {
    if (p.index < 0) return t('qualityWholeFile');
    return p.id !== null && p.id !== '' && p.id !== 0
      ? message('qualityFeatureId', { i: p.index, id: p.id })
      : message('qualityFeature', { i: p.index });
  }

  function severityBadge(p) {
    const b = el('span', `quality-severity ${p.severity}`, t(`severity_${p.severity}`));
    b.dataset.severity = p.severity;
    return b;
  }

  function swatch(kind) {
    const s = el('span', 'quality-swatch');
    s.style.background = st.colours.get(kind) ?? '#6b7280';
    s.setAttribute('aria-hidden', 'true');
    return s;
  }

  // openProblem flies to the n-th problem and opens its popup.
  function openProblem(n) {
    const p = problems()[n];
    if (!p?.geometry) return false;
    closePopup();
    select(n);
    const where = anchor(p.geometry);
    // Centred in the part of the map the legend and the panel leave free;
    // an offset, not padding: MapLibre keeps padding for later moves.
    const [left, right, width] = free();
    const offset = [(left + right) / 2 - width / 2, 0];
    map.flyTo({ center: where, zoom: Math.max(map.getZoom(), 16), offset, essential: true });
    showPopup(p, where);
    return true;
  }

  function showPopup(p, where) {
    const old = st.popup;
    st.popup = null;
    old?.remove();
    const root = el('div', 'quality-popup-body');
    const h = el('h2');
    h.append(swatch(p.kind), document.createTextNode(kindTitle(p.kind, t)));
    root.append(h);
    const table = el('table');
    const row = (key, value) => {
      if (value === '' || value === null || value === undefined) return;
      const tr = table.insertRow();
      const th = el('th', '', t(key));
      th.scope = 'row';
      const td = tr.insertCell();
      if (value instanceof Node) td.append(value);
      else td.textContent = value;
      tr.prepend(th);
    };
    row('qualitySeverity', severityBadge(p));
    row('qualityFile', p.file);
    if (p.layer) row('qualityLayer', layerTitle(p.layer));
    row('qualityWhere', whereText(p));
    row('qualityAttribute', p.attribute);
    row('qualityReason', p.reason);
    row('qualitySuggestion', p.suggestion);
    if (p.cause) row('qualityCause', t(`cause_${p.cause}`) === `cause_${p.cause}` ? p.cause : t(`cause_${p.cause}`));
    root.append(table);
    st.popup = new maplibregl.Popup({ className: 'onemap-popup quality-popup', maxWidth: '360px', focusAfterOpen: false })
      .setLngLat(where)
      .setDOMContent(root)
      .addTo(map);
    const mine = st.popup;
    st.popup.on('close', () => {
      if (st.popup !== mine) return;
      st.popup = null;
      select(-1);
    });
  }

  function closeProblem() {
    const old = st.popup;
    st.popup = null;
    old?.remove();
    st.selected = -1;
    for (const id of [LYR.selected, LYR.selectedPoint]) if (map.getLayer(id)) map.setFilter(id, selectedFilter(id));
  }

  // selectedFilter picks the open problem, of points for the ring's circle
  // (a circle layer would ring every vertex of a line).
  function selectedFilter(id = LYR.selected) {
    const f = ['==', ['get', 'n'], st.selected];
    return id === LYR.selectedPoint ? ['all', POINTS, f] : f;
  }

  function select(n) {
    st.selected = n;
    for (const id of [LYR.selected, LYR.selectedPoint]) if (map.getLayer(id)) map.setFilter(id, selectedFilter(id));
    for (const li of list.querySelectorAll('.quality-row')) li.classList.toggle('selected', Number(li.dataset.n) === n);
  }

  // click opens the problem under the pointer; false when there is none.
  function click(e) {
    if (!st.open || !map.getLayer(LYR.point)) return false;
    const tol = 6;
    const box = [[e.point.x - tol, e.point.y - tol], [e.point.x + tol, e.point.y + tol]];
    const hits = map.queryRenderedFeatures(box, { layers: CLICKABLE.filter((id) => map.getLayer(id)) });
    if (hits.length === 0) return false;
    // Points before lines before areas; errors first.
    const rank = (f) => CLICKABLE.indexOf(f.layer.id) * 2 + (f.properties.severity === 'error' ? 0 : 1);
    hits.sort((a, b) => rank(a) - rank(b));
    const n = hits[0].properties.n;
    const p = problems()[n];
    if (!p) return false;
    closePopup();
    select(n);
    showPopup(p, [e.lngLat.lng, e.lngLat.lat]);
    return true;
  }

  // ------------------------------------------------------------- the panel

  function setOpen(open) {
    st.open = open;
    panel.hidden = !open;
    btn.setAttribute('aria-expanded', String(open));
    if (open) {
      onOpen();
      loadServer();
    } else {
      closeProblem();
    }
    draw();
    render();
  }

  function toggleKind(kind) {
    if (st.hidden.has(kind)) st.hidden.delete(kind);
    else st.hidden.add(kind);
    if (st.selected >= 0 && st.hidden.has(problems()[st.selected]?.kind)) closeProblem();
    draw();
    render();
  }

  function render() {
    btn.textContent = t('quality');
    btn.title = t('qualityButtonTitle');
    heading.textContent = t('qualityTitle');
    close.title = t('closePanel');
    close.setAttribute('aria-label', t('closePanel'));
    fileText.textContent = t('qualityOpenFile');
    fileLabel.title = t('qualityOpenFileHint');
    back.textContent = t('qualityBackToServer');
    back.hidden = st.source === 'server';
    if (!st.open) return;
    panel.dataset.source = st.source;
    sourceLine.textContent = st.source === 'file' ? message('qualitySourceFile', { name: st.file?.name ?? '' }) : t('qualitySourceServer');
    status.className = st.error ? 'alarm-status error' : 'alarm-status';
    status.textContent = st.error || (st.loading ? t(st.source === 'file' || st.server ? 'qualityReading' : 'qualityLoading') : '');
    status.hidden = status.textContent === '';

    const ps = problems();
    const ready = st.source === 'file' ? Boolean(st.file) : Boolean(st.server);
    const errors = ps.filter((p) => p.severity === 'error').length;
    const loc = lang() === 'en' ? 'en' : 'zh-CN';
    const num = (n) => n.toLocaleString(loc);
    counts.hidden = !ready;
    counts.dataset.errors = String(errors);
    counts.dataset.warnings = String(ps.length - errors);
    const many = (key, n) => message(n === 1 ? `${key}1` : key, { n: num(n) });
    counts.textContent = ps.length === 0 ? t('qualityNone') : many('qualityErrors', errors) + t('qualityCountsSep') + many('qualityWarnings', ps.length - errors);

    const drawn = drawnCount();
    const noteList = [];
    if (drawn > MAX_DRAWN) noteList.push(message('qualityDrawnMax', { n: num(MAX_DRAWN), total: num(drawn) }));
    if (ready && ps.length > drawn) {
      noteList.push(st.source === 'file' && st.file?.json && drawn === 0 ? t('qualityNoPlaceJSON') : message('qualityNoPlace', { n: num(ps.length - drawn) }));
    }
    notes.replaceChildren(...noteList.map((s) => el('p', 'quality-note', s)));

    // The legend of kinds.
    const byKind = new Map();
    for (const p of ps) {
      const c = byKind.get(p.kind) ?? { n: 0, errors: 0 };
      c.n++;
      if (p.severity === 'error') c.errors++;
      byKind.set(p.kind, c);
    }
    kindsHead.textContent = t('qualityKinds');
    kindsHead.hidden = byKind.size === 0;
    kinds.replaceChildren(...[...byKind.keys()].sort((a, b) => order(a) - order(b)).map((k) => {
      const c = byKind.get(k);
      const li = el('li');
      const b = el('button', 'quality-kind');
      b.type = 'button';
      b.dataset.kind = k;
      b.dataset.count = String(c.n);
      b.setAttribute('aria-pressed', String(!st.hidden.has(k)));
      const name = el('span', 'quality-kind-name', kindTitle(k, t));
      const n = el('span', 'quality-kind-count', num(c.n));
      b.append(swatch(k), name, n);
      b.title = `${kindTitle(k, t)} (${k})`;
      b.addEventListener('click', () => toggleKind(k));
      li.append(b);
      return li;
    }));

    // The list, of the kinds shown.
    listHead.textContent = t('qualityList');
    listHead.hidden = ps.length === 0;
    const shown = [];
    let total = 0;
    ps.forEach((p, n) => {
      if (st.hidden.has(p.kind)) return;
      total++;
      if (shown.length < MAX_LISTED) shown.push(n);
    });
    const rows = shown.map((n) => {
      const p = ps[n];
      const li = el('li', 'alarm-row quality-row');
      li.dataset.n = String(n);
      li.dataset.kind = p.kind;
      li.dataset.severity = p.severity;
      if (n === st.selected) li.classList.add('selected');
      const title = el('span', 'quality-row-title');
      title.append(swatch(p.kind), document.createTextNode(kindTitle(p.kind, t)));
      const meta = el('span', 'alarm-meta quality-row-where', `${p.file} · ${whereText(p)}${p.attribute ? ` · ${p.attribute}` : ''}`);
      const reason = el('span', 'quality-row-reason', p.reason);
      li.append(title, severityBadge(p), meta, reason);
      if (p.geometry) {
        li.tabIndex = 0;
        li.setAttribute('role', 'button');
        li.title = t('qualityFlyTitle');
        li.addEventListener('click', () => openProblem(n));
        li.addEventListener('keydown', (e) => {
          if (e.key === 'Enter' || e.key === ' ') {
            e.preventDefault();
            openProblem(n);
          }
        });
      } else {
        li.classList.add('no-place');
      }
      return li;
    });
    if (total > shown.length) rows.push(el('li', 'quality-more', message('qualityListMore', { n: num(shown.length), total: num(total) })));
    list.replaceChildren(...rows);
  }

  // renderText puts the page's language into the panel and the open popup.
  function renderText() {
    render();
    const p = problems()[st.selected];
    if (st.popup && p) showPopup(p, st.popup.getLngLat().toArray());
  }

  function permissionsChanged() {
    btn.hidden = !can('map.view');
    if (btn.hidden && st.open) setOpen(false);
  }

  render();
  return {
    setOpen,
    renderText,
    permissionsChanged,
    click,
    openProblem,
    get isOpen() { return st.open; },
    get source() { return st.source; },
    get problems() { return problems(); },
    get error() { return st.error; },
    get hidden() { return [...st.hidden]; },
    get selected() { return st.selected; },
    get drawn() { return map.getSource(SRC) ? features().features.length : 0; },
  };
}
