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
// The overlays on the map are analysis-map.js's, the text analysis-text.js's.

import { api, can, errorText } from '/session.js';
import { EMPTY, circle, collection, createOverlays, point } from '/analysis-map.js';
import { TEXT } from '/analysis-text.js';

export { TEXT };

// The rings of the nearby view, in metres; the last is the search radius.
export const RINGS = [50, 100, 300, 500];

// Pipes a valve closure takes: drainage flows by gravity and has no valves.
const VALVE_NETWORKS = ['gas_pipe', 'water_pipe', 'heat_pipe'];

// Rows shown before "n more": a long list is no use on a phone.
const MAX_LIST = 12;

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
  const overlays = createOverlays(map);
  const st = {
    mode: '', // '', 'nearby', 'valves' or 'gas'
    seq: 0, // the latest request; older answers are dropped
    abort: null,
    view: null, // what the panel shows: {state, ...} by mode
    selected: '', // the id of the row last flown to
    failed: new Set(), // valve ids marked failed for the current pipe
    valveInfo: new Map(), // valve id → {id, kind, point}, kept across re-runs
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
    overlays.clear();
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
    overlays.data.rings = collection(RINGS.map((r) => ({
      type: 'Feature', properties: { radius: r },
      geometry: { type: 'Polygon', coordinates: [circle(center, r)] },
    })));
    overlays.data.ringLabels = collection([
      point(center, { label: '', center: true }),
      ...RINGS.map((r) => point(circle(center, r, 4)[0], { label: `${r} m` })),
    ]);
    overlays.data.highlight = EMPTY;
    overlays.redraw();
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
      overlays.data.valves = collection(valves);
      overlays.data.pipes = {
        network: data.network,
        isolated: data.isolated_pipes ?? [],
        cutOff: data.cut_off_pipes ?? [],
      };
      overlays.data.highlight = EMPTY;
      overlays.redraw();
      renderPanel();
    } catch (err) {
      overlays.data.valves = EMPTY;
      overlays.data.pipes = null;
      overlays.redraw();
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
    overlays.data.highlight = collection([point(where, { id })]);
    st.selected = String(id);
    overlays.redraw();
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

  renderText();
  return { click, renderText, setMode, permissionsChanged, get mode() { return st.mode; } };
}
