// Spatial analysis on the map: a tool bar of three modes and a result panel.
//
//   - Nearby: a click on the map (or on a feature) draws rings at 50, 100,
//     300 and 500 m and lists the protective targets and hazards within
//     500 m, nearest first (/api/v1/nearby, /api/v1/features/{id}/nearby).
//   - Valve closure: a click on a gas, water or heating pipe lists the valves
//     that isolate it and what loses supply, and highlights them on the map
//     (POST /api/v1/analysis/valve-closure); a valve marked as failed gives
//     the second closure.
//   - Gas neighbourhood: the underground spaces near gas pipes that no
//     sensor watches, riskiest first (/api/v1/analysis/gas-neighbourhood).
//
// Valve closure and the gas neighbourhood need the permission analysis.run
// (an analyst or a commander); for others their buttons are disabled and
// say so.
//
// The module owns its own sources and layers (ids starting "analysis-"),
// none of which carries "onemap:layer" metadata, so the legend and the
// popups never see them. It draws them again when the style is replaced
// (language switch).

import { api, can, errorText } from '/session.js';

// UI text in both languages, merged into the page's TEXT table.
export const TEXT = {
  zh: {
    analysisTools: '分析工具',
    modeNearby: '周边分析',
    modeValves: '关阀分析',
    modeGas: '燃气相邻空间',
    modeNearbyTitle: '点击地图：500 米内的防护目标和危险源',
    modeValvesTitle: '点击管线：爆管时需关闭的阀门',
    modeGasTitle: '燃气管线 12.5 米内无监测的地下空间',
    closePanel: '关闭（Esc）',
    analysing: '正在分析…',
    hintNearby: '在地图上点击一处位置或一个要素，查看 500 米内的防护目标和危险源。',
    hintValves: '在地图上点击一条燃气、供水或供热管线。',
    fromPoint: '距点击位置 {lon}, {lat}',
    fromFeature: '距要素 {name} 的几何（非中心点）',
    targets: '防护目标',
    hazards: '危险源',
    noneWithin: '500 米内没有',
    ringsNote: '圈层：50、100、300、500 米',
    network: '管网',
    burstPipe: '爆管管线',
    lengthOut: '停运管长',
    isolatedPipes: '隔离管段',
    cutOffPipes: '断供管段',
    buildings: '受影响建筑',
    people: '受影响人数',
    valvesToClose: '需关闭的阀门',
    secondClosure: '二次关阀（{n} 个阀门失效）',
    noValves: '无可关闭的阀门：隔离范围已到管网末端',
    failed: '关阀失败',
    failedOn: '已失效',
    failedTitle: '假设该阀门无法关闭，重新计算二次关阀',
    largeUsers: '大用户与站点',
    buildingList: '停供建筑（按人数）',
    more: '另有 {n} 项',
    gasSummary: '{unmonitored} 处无监测，共 {total} 处相邻空间；按风险排序，前 {n} 处',
    distanceToPipe: '距管线',
    pressure: '压力',
    risk: '风险',
    peopleShort: '人数',
    error: '分析失败：',
    notAPipeHint: '请点击燃气、供水或供热管线。',
    needAnalyst: '请以研判分析员身份登录后使用',
    kind_school: '学校', kind_kindergarten: '幼儿园', kind_hospital: '医院',
    kind_nursing_home: '养老院', kind_market: '市场', kind_mall: '商场',
    kind_metro_station: '地铁站', kind_station: '车站', kind_stadium: '体育场馆',
    kind_residential: '居民区',
    kind_gas_station: '加油站', kind_lpg_station: '液化气站', kind_regulator_station: '调压站',
    kind_chemical_store: '危化品仓库', kind_restaurant: '餐饮', kind_construction_site: '施工工地',
    kind_valve: '阀门', kind_large_user: '大用户', kind_substation: '换热站', kind_regulator: '调压器',
    kind_manhole: '检查井', kind_outfall: '排放口', kind_pump_station: '泵站',
    kind_waterlogging_point: '易涝点', kind_storage_tank: '调蓄池', kind_inlet: '雨水口',
    kind_gas: '燃气舱', kind_power_telecom: '电力通信舱', kind_water_heat: '水热舱', kind_drainage: '排水舱',
    use_residential: '住宅', use_commercial: '商业', use_office: '办公', use_school: '学校',
    use_hospital: '医院', use_industrial: '工业', use_public: '公共建筑', use_warehouse: '仓储',
    pc_high_a: '高压A', pc_high_b: '高压B', pc_subhigh_a: '次高压A', pc_subhigh_b: '次高压B',
    pc_medium_a: '中压A', pc_medium_b: '中压B', pc_low: '低压',
  },
  en: {
    analysisTools: 'Analysis tools',
    modeNearby: 'Nearby',
    modeValves: 'Valve closure',
    modeGas: 'Gas neighbourhood',
    modeNearbyTitle: 'Click the map: protective targets and hazards within 500 m',
    modeValvesTitle: 'Click a pipe: the valves to close if it bursts',
    modeGasTitle: 'Unmonitored underground spaces within 12.5 m of a gas pipe',
    closePanel: 'Close (Esc)',
    analysing: 'Analysing…',
    hintNearby: 'Click a place or a feature on the map to see the protective targets and hazards within 500 m.',
    hintValves: 'Click a gas, water or heating pipe on the map.',
    fromPoint: 'From the point {lon}, {lat}',
    fromFeature: 'From the geometry of {name} (not its centre)',
    targets: 'Protective targets',
    hazards: 'Hazards',
    noneWithin: 'None within 500 m',
    ringsNote: 'Rings: 50, 100, 300, 500 m',
    network: 'Network',
    burstPipe: 'Burst pipe',
    lengthOut: 'Out of service',
    isolatedPipes: 'Isolated pipes',
    cutOffPipes: 'Cut-off pipes',
    buildings: 'Buildings affected',
    people: 'People affected',
    valvesToClose: 'Valves to close',
    secondClosure: 'Second closure ({n} failed)',
    noValves: 'No valve to close: the isolated part reaches the end of the network',
    failed: 'Failed',
    failedOn: 'Failed',
    failedTitle: 'Assume this valve cannot be closed and compute the second closure',
    largeUsers: 'Large users and stations',
    buildingList: 'Buildings without supply (by people)',
    more: '{n} more',
    gasSummary: '{unmonitored} unmonitored of {total} adjacent spaces; riskiest first, top {n}',
    distanceToPipe: 'To pipe',
    pressure: 'Pressure',
    risk: 'Risk',
    peopleShort: 'People',
    error: 'Analysis failed: ',
    notAPipeHint: 'Click a gas, water or heating pipe.',
    needAnalyst: 'Log in as an analyst to use this',
    kind_school: 'School', kind_kindergarten: 'Kindergarten', kind_hospital: 'Hospital',
    kind_nursing_home: 'Nursing home', kind_market: 'Market', kind_mall: 'Mall',
    kind_metro_station: 'Metro station', kind_station: 'Station', kind_stadium: 'Stadium',
    kind_residential: 'Housing',
    kind_gas_station: 'Gas station', kind_lpg_station: 'LPG station', kind_regulator_station: 'Regulator station',
    kind_chemical_store: 'Chemical store', kind_restaurant: 'Restaurant', kind_construction_site: 'Construction site',
    kind_valve: 'Valve', kind_large_user: 'Large user', kind_substation: 'Substation', kind_regulator: 'Regulator',
    kind_manhole: 'Manhole', kind_outfall: 'Outfall', kind_pump_station: 'Pump station',
    kind_waterlogging_point: 'Waterlogging point', kind_storage_tank: 'Storage tank', kind_inlet: 'Inlet',
    kind_gas: 'Gas compartment', kind_power_telecom: 'Power and telecom compartment',
    kind_water_heat: 'Water and heat compartment', kind_drainage: 'Drainage compartment',
    use_residential: 'Residential', use_commercial: 'Commercial', use_office: 'Office', use_school: 'School',
    use_hospital: 'Hospital', use_industrial: 'Industrial', use_public: 'Public', use_warehouse: 'Warehouse',
    pc_high_a: 'High A', pc_high_b: 'High B', pc_subhigh_a: 'Sub-high A', pc_subhigh_b: 'Sub-high B',
    pc_medium_a: 'Medium A', pc_medium_b: 'Medium B', pc_low: 'Low',
  },
};

// The rings of the nearby view, in metres; the last is the search radius.
export const RINGS = [50, 100, 300, 500];

// Pipes a valve closure takes: drainage flows by gravity and has no valves.
const VALVE_NETWORKS = ['gas_pipe', 'water_pipe', 'heat_pipe'];

// Rows shown before "n more": a long list is no use on a phone.
const MAX_LIST = 12;

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

const EMPTY = { type: 'FeatureCollection', features: [] };

function collection(features) {
  return { type: 'FeatureCollection', features };
}

function point(coordinates, properties = {}) {
  return { type: 'Feature', geometry: { type: 'Point', coordinates }, properties };
}

// createAnalysis adds the tool bar and the panel to the page and returns the
// hooks the page calls: click (true when the analysis took the click) and
// renderText (after a language switch).
//
// deps: map, t and title (the page's text helpers), layersById (catalog
// layer id → layer), featuresAt (rendered features under a screen point),
// showLayers (switch catalog layers on), closePopup.
export function createAnalysis({ map, t, title, layersById, featuresAt, showLayers, closePopup }) {
  const modes = [
    { id: 'nearby', label: 'modeNearby', tip: 'modeNearbyTitle', icon: '◎' },
    { id: 'valves', label: 'modeValves', tip: 'modeValvesTitle', icon: '⊗', permission: 'analysis.run' },
    { id: 'gas', label: 'modeGas', tip: 'modeGasTitle', icon: '△', permission: 'analysis.run' },
  ];
  const st = {
    mode: '', // '', 'nearby', 'valves' or 'gas'
    seq: 0, // the latest request; older answers are dropped
    abort: null,
    view: null, // what the panel shows: {state, ...} by mode
    selected: '', // the id of the row last flown to
    failed: new Set(), // valve ids marked failed for the current pipe
    valveInfo: new Map(), // valve id → {id, kind, point}, kept across re-runs
    overlay: { rings: EMPTY, ringLabels: EMPTY, highlight: EMPTY, valves: EMPTY, pipes: null },
  };

  // ------------------------------------------------------------ tool bar

  const bar = document.createElement('div');
  bar.id = 'analysis-tools';
  bar.className = 'analysis-tools';
  bar.setAttribute('role', 'toolbar');
  const buttons = new Map();
  for (const m of modes) {
    const b = document.createElement('button');
    b.type = 'button';
    b.id = `analysis-${m.id}`;
    b.className = 'analysis-tool';
    b.dataset.mode = m.id;
    b.setAttribute('aria-pressed', 'false');
    b.addEventListener('click', () => setMode(st.mode === m.id ? '' : m.id));
    buttons.set(m.id, b);
    bar.append(b);
  }
  document.body.append(bar);

  // --------------------------------------------------------------- panel

  const panel = document.createElement('aside');
  panel.id = 'analysis-panel';
  panel.className = 'analysis-panel';
  panel.hidden = true;
  panel.setAttribute('aria-live', 'polite');
  const head = document.createElement('header');
  head.className = 'analysis-head';
  const heading = document.createElement('h2');
  heading.id = 'analysis-title';
  const close = document.createElement('button');
  close.type = 'button';
  close.className = 'legend-button analysis-close';
  close.textContent = '×';
  close.addEventListener('click', () => setMode(''));
  head.append(heading, close);
  const body = document.createElement('div');
  body.className = 'analysis-body';
  panel.append(head, body);
  panel.setAttribute('aria-labelledby', heading.id);
  document.body.append(panel);

  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && st.mode) setMode('');
  });

  function renderText() {
    bar.setAttribute('aria-label', t('analysisTools'));
    for (const m of modes) {
      const b = buttons.get(m.id);
      b.textContent = '';
      const icon = document.createElement('span');
      icon.className = 'analysis-icon';
      icon.setAttribute('aria-hidden', 'true');
      icon.textContent = m.icon;
      b.append(icon, t(m.label));
      const allowed = !m.permission || can(m.permission);
      b.disabled = !allowed;
      b.title = allowed ? t(m.tip) : `${t(m.tip)} — ${t('needAnalyst')}`;
    }
    close.title = t('closePanel');
    close.setAttribute('aria-label', t('closePanel'));
    renderPanel();
  }

  // -------------------------------------------------------------- modes

  // permissionsChanged enables the tools the new session allows and leaves
  // a mode it does not.
  function permissionsChanged() {
    const m = modes.find((x) => x.id === st.mode);
    if (m?.permission && !can(m.permission)) setMode('');
    renderText();
  }

  function setMode(mode) {
    const m = modes.find((x) => x.id === mode);
    if (m?.permission && !can(m.permission)) mode = '';
    if (st.abort) st.abort.abort();
    st.abort = null;
    st.seq++;
    st.mode = mode;
    st.failed.clear();
    st.valveInfo.clear();
    st.selected = '';
    st.overlay = { rings: EMPTY, ringLabels: EMPTY, highlight: EMPTY, valves: EMPTY, pipes: null };
    redraw();
    for (const [id, b] of buttons) b.setAttribute('aria-pressed', String(id === mode));
    document.body.dataset.analysis = mode;
    closePopup();
    if (mode === 'nearby') st.view = { state: 'hint', hint: 'hintNearby' };
    else if (mode === 'valves') st.view = { state: 'hint', hint: 'hintValves' };
    else if (mode === 'gas') {
      showLayers(['gas_pipe', 'gas_adjacent_space']);
      loadGas();
    } else st.view = null;
    renderPanel();
  }

  // click handles a map click in the nearby and valve modes and tells the
  // page to skip its popup.
  function click(e) {
    if (st.mode === 'nearby') {
      runNearby(e);
      return true;
    }
    if (st.mode === 'valves') {
      const features = featuresAt(e.point).filter((f) => f.id !== undefined);
      const pipe = features.find((f) => VALVE_NETWORKS.includes(catalogLayer(f)));
      const pick = pipe ?? features.find((f) => f.layer.type !== 'fill');
      if (!pick) {
        st.view = { state: 'hint', hint: 'hintValves' };
        renderPanel();
        return true;
      }
      st.failed.clear();
      st.valveInfo.clear();
      runValves(Number(pick.id));
      return true;
    }
    return false;
  }

  function catalogLayer(f) {
    return f.layer.metadata?.['onemap:layer'] ?? f.sourceLayer;
  }

  // request fetches JSON for the current mode; it returns null when a newer
  // request or a mode change has made the answer moot, and throws the
  // server's error message on an error status.
  async function request(url, options = {}) {
    if (st.abort) st.abort.abort();
    const abort = new AbortController();
    st.abort = abort;
    const seq = ++st.seq;
    let res;
    try {
      res = await api(url, { ...options, signal: abort.signal });
    } catch (err) {
      if (abort.signal.aborted || seq !== st.seq) return null;
      const e = new Error(errorText({ code: 'network' }, t));
      e.code = 'network';
      throw e;
    }
    const data = await res.json().catch(() => ({}));
    if (seq !== st.seq) return null;
    st.abort = null;
    if (!res.ok) {
      const code = data?.error?.code ?? '';
      const err = new Error(['forbidden', 'csrf', 'unauthorized'].includes(code)
        ? errorText({ code }, t)
        : data?.error?.message ?? `HTTP ${res.status}`);
      err.code = code;
      throw err;
    }
    return data;
  }

  function loading() {
    st.view = { ...st.view, state: 'loading' };
    renderPanel();
  }

  function fail(err) {
    st.view = { state: 'error', message: err.message, code: err.code };
    renderPanel();
  }

  // ------------------------------------------------------------- nearby

  async function runNearby(e) {
    // A feature under the pointer measures from its geometry; districts and
    // water bodies cover everything and count as "anywhere".
    const features = featuresAt(e.point).filter((f) => f.id !== undefined &&
      !['district', 'water', 'label', 'gas_adjacent_space'].includes(catalogLayer(f)));
    const pick = features.find((f) => f.layer.type !== 'fill') ?? features[0];
    const center = pick?.geometry.type === 'Point' ? pick.geometry.coordinates : [e.lngLat.lng, e.lngLat.lat];
    const radius = RINGS[RINGS.length - 1];
    st.overlay.rings = collection(RINGS.map((r) => ({
      type: 'Feature', properties: { radius: r },
      geometry: { type: 'Polygon', coordinates: [circle(center, r)] },
    })));
    st.overlay.ringLabels = collection([
      point(center, { label: '', center: true }),
      ...RINGS.map((r) => point(circle(center, r, 4)[0], { label: `${r} m` })),
    ]);
    st.overlay.highlight = EMPTY;
    redraw();
    const from = pick
      ? { feature: pick.id, name: pick.properties.name || `${title(layersById.get(catalogLayer(pick))?.title, catalogLayer(pick))} #${pick.id}` }
      : { point: center };
    st.view = { state: 'loading', from };
    renderPanel();
    const url = pick
      ? `/api/v1/features/${pick.id}/nearby?radius=${radius}&limit=500`
      : `/api/v1/nearby?lon=${center[0].toFixed(7)}&lat=${center[1].toFixed(7)}&radius=${radius}&limit=500`;
    try {
      const data = await request(url);
      if (!data) return;
      st.view = { state: 'done', from, features: data.features };
      renderPanel();
    } catch (err) {
      fail(err);
    }
  }

  function renderNearby(v) {
    body.append(para(v.from.point
      ? t('fromPoint').replace('{lon}', v.from.point[0].toFixed(5)).replace('{lat}', v.from.point[1].toFixed(5))
      : t('fromFeature').replace('{name}', v.from.name), 'analysis-note'));
    body.append(para(t('ringsNote'), 'analysis-note'));
    if (v.state !== 'done') return;
    const groups = [
      ['targets', v.features.filter((f) => f.layer === 'protective_target')],
      ['hazards', v.features.filter((f) => f.layer === 'hazard')],
    ];
    for (const [key, list] of groups) {
      body.append(section(`${t(key)} (${list.length})`, `analysis-${key}`));
      if (list.length === 0) {
        body.append(para(t('noneWithin'), 'analysis-empty'));
        continue;
      }
      const ul = rowList();
      for (const f of list) {
        const name = (lang() === 'en' && f.properties?.name_en) || f.name || `#${f.id}`;
        ul.append(row(f.id, f.closest, [
          cell(name, 'analysis-name'),
          cell(kindTitle(f.kind), 'analysis-kind'),
          cell(metres(f.distance_m), 'analysis-distance', { distance: f.distance_m }),
        ]));
      }
      body.append(ul);
    }
  }

  // -------------------------------------------------------- valve closure

  async function runValves(pipe) {
    st.view = { ...(st.view?.pipe === pipe ? st.view : {}), pipe, state: 'loading' };
    loading();
    try {
      const data = await request('/api/v1/analysis/valve-closure', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ pipe, failed_valves: [...st.failed] }),
      });
      if (!data) return;
      for (const v of data.valves) st.valveInfo.set(v.id, v);
      st.view = { state: 'done', pipe, data };
      const valves = [
        ...data.valves.map((v) => point(v.point, { id: v.id, failed: false })),
        ...[...st.failed].filter((id) => st.valveInfo.has(id))
          .map((id) => point(st.valveInfo.get(id).point, { id, failed: true })),
      ];
      st.overlay.valves = collection(valves);
      st.overlay.pipes = {
        network: data.network,
        isolated: data.isolated_pipes ?? [],
        cutOff: data.cut_off_pipes ?? [],
      };
      st.overlay.highlight = EMPTY;
      redraw();
      renderPanel();
    } catch (err) {
      st.overlay.valves = EMPTY;
      st.overlay.pipes = null;
      redraw();
      fail(err);
    }
  }

  function toggleFailed(id) {
    if (st.failed.has(id)) st.failed.delete(id);
    else st.failed.add(id);
    runValves(st.view.pipe);
  }

  function renderValves(v) {
    // While a re-run with another failed valve loads, the last answer stays.
    if (!v.data) return;
    const d = v.data;
    const dl = document.createElement('dl');
    dl.className = 'analysis-summary';
    const fact = (key, value) => {
      const dt = document.createElement('dt');
      dt.textContent = t(key);
      const dd = document.createElement('dd');
      dd.textContent = value;
      dl.append(dt, dd);
    };
    fact('network', title(layersById.get(d.network)?.title, d.network));
    fact('burstPipe', `#${d.pipe}`);
    fact('lengthOut', metres(d.length_out_of_service_m));
    fact('isolatedPipes', String((d.isolated_pipes ?? []).length));
    fact('cutOffPipes', String((d.cut_off_pipes ?? []).length));
    fact('buildings', number(d.buildings.length));
    fact('people', number(d.people));
    body.append(dl);

    const failed = [...st.failed];
    body.append(section(failed.length
      ? t('secondClosure').replace('{n}', failed.length)
      : t('valvesToClose'), 'analysis-valves'));
    const ul = rowList();
    const closing = new Set(d.valves.map((x) => x.id));
    const rows = [...d.valves.map((x) => ({ ...x, failed: st.failed.has(x.id) })),
      ...failed.filter((id) => st.valveInfo.has(id) && !closing.has(id))
        .map((id) => ({ ...st.valveInfo.get(id), failed: true }))];
    if (d.valves.length === 0) body.append(para(t('noValves'), 'analysis-empty'));
    for (const x of rows) {
      const toggle = document.createElement('button');
      toggle.type = 'button';
      toggle.className = 'analysis-failed';
      toggle.textContent = x.failed ? t('failedOn') : t('failed');
      toggle.title = t('failedTitle');
      toggle.setAttribute('aria-pressed', String(x.failed));
      toggle.addEventListener('click', (e) => {
        e.stopPropagation();
        toggleFailed(x.id);
      });
      const r = row(x.id, x.point, [
        cell(`${kindTitle(x.kind)} #${x.id}`, 'analysis-name'),
        cell(`${x.point[0].toFixed(5)}, ${x.point[1].toFixed(5)}`, 'analysis-kind'),
        toggle,
      ]);
      r.classList.add('analysis-valve');
      r.classList.toggle('failed', x.failed);
      ul.append(r);
    }
    body.append(ul);

    if (d.large_users?.length) {
      body.append(section(t('largeUsers'), 'analysis-large-users'));
      const lu = rowList();
      for (const x of d.large_users) {
        lu.append(row(x.id, x.point, [
          cell(x.name || `${kindTitle(x.kind)} #${x.id}`, 'analysis-name'),
          cell(`${x.point[0].toFixed(5)}, ${x.point[1].toFixed(5)}`, 'analysis-kind'),
        ]));
      }
      body.append(lu);
    }
    if (d.buildings.length) {
      body.append(section(t('buildingList'), 'analysis-buildings'));
      const bl = rowList();
      const sorted = [...d.buildings].sort((a, b) => b.population - a.population);
      for (const b of sorted.slice(0, MAX_LIST)) {
        const li = document.createElement('li');
        li.className = 'analysis-item';
        li.append(cell(b.name || `#${b.id}`, 'analysis-name'),
          cell(t(`use_${b.use}`) === `use_${b.use}` ? b.use : t(`use_${b.use}`), 'analysis-kind'),
          cell(number(b.population), 'analysis-distance'));
        bl.append(li);
      }
      body.append(bl);
      if (sorted.length > MAX_LIST) body.append(para(t('more').replace('{n}', sorted.length - MAX_LIST), 'analysis-note'));
    }
  }

  // ---------------------------------------------------- gas neighbourhood

  async function loadGas() {
    st.view = { state: 'loading' };
    try {
      const data = await request('/api/v1/analysis/gas-neighbourhood?unmonitored=true&limit=100');
      if (!data) return;
      st.view = { state: 'done', data };
      renderPanel();
    } catch (err) {
      fail(err);
    }
  }

  function renderGas(v) {
    if (v.state !== 'done') return;
    const d = v.data;
    body.append(para(t('gasSummary')
      .replace('{unmonitored}', number(d.unmonitored))
      .replace('{total}', number(d.spaces_total))
      .replace('{n}', d.spaces.length), 'analysis-note'));
    const ul = rowList();
    for (const s of d.spaces) {
      const kind = s.kind && t(`kind_${s.kind}`) !== `kind_${s.kind}`
        ? t(`kind_${s.kind}`)
        : title(layersById.get(s.layer)?.title, s.layer);
      const r = row(s.id, s.closest, [
        cell(`${kind} #${s.id}`, 'analysis-name'),
        cell(`${t('distanceToPipe')} ${metres(s.distance_m, 1)} · ${t('pressure')} ${pressureTitle(s.pressure_class)} · ${t('peopleShort')} ${number(s.people)}`, 'analysis-kind'),
        cell(s.risk.toFixed(3), 'analysis-risk', { risk: s.risk }),
      ]);
      r.title = `${t('risk')} ${s.risk}`;
      ul.append(r);
    }
    body.append(ul);
  }

  // -------------------------------------------------------- panel parts

  function renderPanel() {
    const v = st.view;
    panel.hidden = !st.mode;
    body.replaceChildren();
    if (!st.mode || !v) return;
    panel.dataset.mode = st.mode;
    panel.dataset.state = v.state;
    // The feature a nearby search measures from, for tests and styles.
    panel.dataset.from = v.from?.feature ?? '';
    heading.textContent = t(modes.find((m) => m.id === st.mode).label);
    if (v.state === 'hint') body.append(para(t(v.hint), 'analysis-note'));
    if (v.state === 'error') {
      const p = para(t('error') + v.message, 'analysis-error');
      p.setAttribute('role', 'alert');
      body.append(p);
      if (v.code === 'not_a_pipe') body.append(para(t('notAPipeHint'), 'analysis-note'));
      return;
    }
    if (st.mode === 'nearby' && v.from) renderNearby(v);
    if (st.mode === 'valves') renderValves(v);
    if (st.mode === 'gas') renderGas(v);
    if (v.state === 'loading') body.append(para(t('analysing'), 'analysis-note analysis-loading'));
  }

  function para(text, className) {
    const p = document.createElement('p');
    p.className = className;
    p.textContent = text;
    return p;
  }

  function section(text, className) {
    const h = document.createElement('h3');
    h.className = className;
    h.textContent = text;
    return h;
  }

  function rowList() {
    const ul = document.createElement('ul');
    ul.className = 'analysis-list';
    return ul;
  }

  function cell(text, className, data = {}) {
    const span = document.createElement('span');
    span.className = className;
    span.textContent = text;
    Object.assign(span.dataset, data);
    return span;
  }

  // row is a list entry that flies to where and highlights it on a click or
  // Enter.
  function row(id, where, cells) {
    const li = document.createElement('li');
    li.className = 'analysis-row';
    li.dataset.id = String(id);
    li.tabIndex = 0;
    li.classList.toggle('selected', li.dataset.id === st.selected);
    li.append(...cells);
    const go = () => flyTo(where, id);
    li.addEventListener('click', go);
    li.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && e.target === li) go();
    });
    return li;
  }

  // flyTo centres where in the part of the map the panel leaves free: above
  // the bottom sheet on a phone, left of the panel on a desktop.
  function flyTo(where, id) {
    st.overlay.highlight = collection([point(where, { id })]);
    st.selected = String(id);
    redraw();
    for (const li of body.querySelectorAll('.analysis-row')) {
      li.classList.toggle('selected', li.dataset.id === st.selected);
    }
    const r = panel.getBoundingClientRect();
    const c = map.getContainer().getBoundingClientRect();
    // An offset, not padding: MapLibre keeps padding for later moves.
    const offset = r.left <= c.left
      ? [0, -Math.max(0, c.bottom - r.top) / 2]
      : [-Math.max(0, c.right - r.left) / 2, 0];
    map.flyTo({ center: where, zoom: Math.max(map.getZoom(), 17), offset, essential: true });
  }

  function lang() {
    return document.documentElement.lang === 'en' ? 'en' : 'zh';
  }

  function number(v) {
    return Number(v).toLocaleString(lang() === 'en' ? 'en' : 'zh-CN', { maximumFractionDigits: 0 });
  }

  function metres(v, digits = 0) {
    return `${Number(v).toLocaleString(lang() === 'en' ? 'en' : 'zh-CN', { maximumFractionDigits: digits })} m`;
  }

  function kindTitle(kind) {
    if (!kind) return '';
    const s = t(`kind_${kind}`);
    return s === `kind_${kind}` ? kind : s;
  }

  function pressureTitle(pc) {
    if (!pc) return '–';
    const s = t(`pc_${pc}`);
    return s === `pc_${pc}` ? pc : s;
  }

  // ------------------------------------------------------------ overlays

  // redraw shows st.overlay on the map. Before the style has loaded there
  // is nothing to draw on; the styledata handler below draws then.
  function redraw() {
    try {
      drawOverlays();
    } catch (err) {
      console.warn('analysis overlays:', err.message);
    }
  }

  // drawOverlays makes the map show st.overlay, adding the sources and
  // layers it lacks (at first use and after the style was replaced).
  function drawOverlays() {
    if (!map.getStyle()) return;
    for (const key of ['rings', 'ringLabels', 'highlight', 'valves']) {
      const src = map.getSource(SRC[key]);
      if (src) src.setData(st.overlay[key]);
      else map.addSource(SRC[key], { type: 'geojson', data: st.overlay[key] });
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
    const p = st.overlay.pipes;
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

  renderText();
  return { click, renderText, setMode, permissionsChanged, get mode() { return st.mode; } };
}
