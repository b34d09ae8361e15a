// The replay of an incident on the map (追溯分析) and the responders'
// positions while it is open, on the desktop (docs/frontend.md).
//
//   - createReplay: GET /api/v1/incidents/{id}/replay laid out under a time
//     slider with play and pause (#replay-panel): at the slider's time the
//     alarms' sensors in the level they had then (from each alarm's
//     changes), the warning areas standing then, coloured by level, the
//     responders' paths and last positions, the actions so far and a chart
//     of the curves with a line at the time. The live map's overlays are
//     hidden meanwhile and come back when the replay ends.
//   - createPositionLayer: the last position of each responder reporting on
//     the open incident (GET /api/v1/incidents/{id}/positions), labelled
//     with the login.

import uPlot from '/vendor/uplot/uPlot.esm.js';
import { levelColor } from './levels.js';
import { ROMAN, WARNING_COLORS, el, request, stateTitle, stepErrorText } from '/incident.js';

// UI text in both languages, merged into the page's TEXT table.
export const TEXT = {
  zh: {
    replayStart: '回放',
    replayStartTitle: '在地图上按时间回放事件（追溯分析）',
    replayTitle: '事件回放 {id}',
    replayClose: '结束回放',
    replayPlay: '播放',
    replayPause: '暂停',
    replaySlider: '回放时间',
    replayLoading: '正在加载回放…',
    replayError: '回放加载失败：',
    replayActions: '处置记录',
    replayNoActions: '此时尚无处置记录',
    replayChart: '监测曲线',
    replayNow: '{at}',
    replayWarnings: '生效预警 {n}',
    replayResponders: '处置人员 {n}',
    replayBy: '{who}（{role}）',
    action_step: '流程',
    action_plan: '处置',
    action_notify: '推送',
    plan_plan_opened: '启动预案', plan_task_assigned: '任务分派', plan_task_accepted: '接收任务',
    plan_task_en_route: '出发', plan_task_arrived: '到场', plan_task_done: '任务完成',
    plan_task_cancelled: '任务取消', plan_task_overdue: '任务超时督办', plan_feedback: '现场反馈',
    notify_queued: '待推送', notify_sent: '已发送', notify_delivered: '已送达', notify_read: '已读',
    notify_replied: '已回复', notify_failed: '推送失败', notify_retry: '重试推送', notify_escalated: '督办',
    positionsLayer: '处置人员位置',
  },
  en: {
    replayStart: 'Replay',
    replayStartTitle: 'Replay the incident on the map over time',
    replayTitle: 'Replay of {id}',
    replayClose: 'End the replay',
    replayPlay: 'Play',
    replayPause: 'Pause',
    replaySlider: 'Replay time',
    replayLoading: 'Loading the replay…',
    replayError: 'The replay could not be loaded: ',
    replayActions: 'Actions',
    replayNoActions: 'No actions yet at this time',
    replayChart: 'Curves',
    replayNow: '{at}',
    replayWarnings: 'Warnings in force: {n}',
    replayResponders: 'Responders: {n}',
    replayBy: '{who} ({role})',
    action_step: 'Step',
    action_plan: 'Response',
    action_notify: 'Push',
    plan_plan_opened: 'Plan opened', plan_task_assigned: 'Task assigned', plan_task_accepted: 'Task accepted',
    plan_task_en_route: 'En route', plan_task_arrived: 'Arrived', plan_task_done: 'Task done',
    plan_task_cancelled: 'Task cancelled', plan_task_overdue: 'Task overdue, escalated', plan_feedback: 'Field report',
    notify_queued: 'Queued', notify_sent: 'Sent', notify_delivered: 'Delivered', notify_read: 'Read',
    notify_replied: 'Replied', notify_failed: 'Push failed', notify_retry: 'Retried', notify_escalated: 'Escalated',
    positionsLayer: 'Responders',
  },
};

// The colour of a sensor with no alarm at the time.
const NORMAL_COLOR = '#10b981';

// sensorColour is an alarm level's colour; 0 is normal.
export function sensorColour(level) {
  return level ? levelColor(level) : NORMAL_COLOR;
}

// levelAt is the level an alarm had at time ms, from its changes (raised,
// escalated, de-escalated, cleared: from → to at); 0 before it was raised
// and once cleared.
export function levelAt(alarm, ms) {
  const changes = [...(alarm.changes ?? [])].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  if (changes.length === 0) {
    if (Date.parse(alarm.started) > ms) return 0;
    if (alarm.cleared && Date.parse(alarm.cleared) <= ms) return 0;
    return alarm.level ?? 0;
  }
  let level = changes[0].from ?? 0;
  for (const c of changes) {
    if (Date.parse(c.at) > ms) break;
    level = c.kind === 'cleared' ? 0 : (c.to ?? 0);
  }
  return level;
}

// standingAt tells whether a warning span stands at ms.
export function standingAt(w, ms) {
  const from = Date.parse(w.from);
  const until = w.until ? Date.parse(w.until) : Infinity;
  return Number.isFinite(from) && from <= ms && ms < until;
}

const empty = () => ({ type: 'FeatureCollection', features: [] });

// layerSet keeps a source and its layers on the map across style changes.
function layerSet(map, source, layers) {
  let data = empty();
  let visible = true;
  function add() {
    if (map.getSource(source) || map.getLayersOrder().length === 0) return;
    try {
      map.addSource(source, { type: 'geojson', data });
      for (const l of layers()) map.addLayer({ ...l, source, layout: { ...(l.layout ?? {}), visibility: visible ? 'visible' : 'none' } });
    } catch {
      // The style is not ready yet; its next styledata event comes.
    }
  }
  map.on('styledata', add);
  map.on('style.load', add);
  return {
    set(d) {
      data = d;
      add();
      map.getSource(source)?.setData(d);
    },
    show(on) {
      visible = on;
      add();
      for (const l of layers()) if (map.getLayer(l.id)) map.setLayoutProperty(l.id, 'visibility', on ? 'visible' : 'none');
    },
    get data() { return data; },
  };
}

const POS_LAYERS = () => [
  { id: 'positions-point', type: 'circle', paint: { 'circle-radius': 7, 'circle-color': '#0f766e', 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 2 } },
  {
    id: 'positions-label', type: 'symbol',
    layout: { 'text-field': ['get', 'login'], 'text-font': ['Go Bold'], 'text-size': 13, 'text-offset': [0, 1.3], 'text-anchor': 'top', 'text-allow-overlap': true },
    paint: { 'text-color': '#0f766e', 'text-halo-color': '#ffffff', 'text-halo-width': 2 },
  },
];

// createPositionLayer draws the responders' last positions on an incident,
// polled every 10 s while watch(id) names an open incident; watch(null)
// stops and clears it.
export function createPositionLayer({ map }) {
  const layer = layerSet(map, 'positions', POS_LAYERS);
  const st = { incident: null, positions: [], timer: 0 };

  async function poll() {
    clearTimeout(st.timer);
    const id = st.incident;
    if (!id) return;
    let list = null;
    try {
      list = await request(`/api/v1/incidents/${encodeURIComponent(id)}/positions`, { optional: true, quiet: true });
    } catch {
      // The last positions stay until the next poll.
    }
    if (st.incident !== id) return;
    if (list === null && st.positions.length === 0) return; // not served: nothing to draw
    if (list) st.positions = list.positions ?? [];
    draw();
    st.timer = setTimeout(poll, 10e3);
  }

  function draw() {
    layer.set({
      type: 'FeatureCollection',
      features: st.positions.filter((p) => p.position).map((p) => ({
        type: 'Feature',
        geometry: { type: 'Point', coordinates: [p.position.lon, p.position.lat] },
        properties: { login: p.login, at: p.at, task: p.task ?? '' },
      })),
    });
  }

  function watch(id) {
    if (id === st.incident) return;
    st.incident = id;
    st.positions = [];
    draw();
    poll();
  }

  return {
    watch,
    show: (on) => layer.show(on),
    get positions() { return st.positions; },
    get incident() { return st.incident; },
  };
}

// The live overlays hidden while a replay shows its own.
const LIVE_LAYERS = ['warnings-fill', 'warnings-line', 'warnings-label', 'alarms-halo', 'alarms-icon', 'alarms-label', 'alarms-selected'];

// createReplay adds the replay panel. deps: map, t, lang, format
// (alarms.js's formats), positions (createPositionLayer, hidden meanwhile),
// onStop() once a replay ends.
export function createReplay({ map, t, lang, format, positions = null, onStop = () => {} }) {
  const st = { id: null, data: null, at: 0, error: '', playing: false, chart: null, hidden: new Map(), seq: 0 };

  const colour = ['match', ['get', 'level'], 1, WARNING_COLORS[1], 2, WARNING_COLORS[2], 3, WARNING_COLORS[3], WARNING_COLORS[4]];
  const areas = layerSet(map, 'replay-warnings', () => [
    { id: 'replay-warnings-fill', type: 'fill', paint: { 'fill-color': colour, 'fill-opacity': 0.25 } },
    { id: 'replay-warnings-line', type: 'line', paint: { 'line-color': colour, 'line-width': 2.5, 'line-dasharray': [4, 2] } },
    {
      id: 'replay-warnings-label', type: 'symbol',
      layout: { 'text-field': ['get', 'label'], 'text-font': ['Go Bold'], 'text-size': 18, 'text-allow-overlap': true },
      paint: { 'text-color': colour, 'text-halo-color': '#ffffff', 'text-halo-width': 2 },
    },
  ]);
  const paths = layerSet(map, 'replay-paths', () => [
    { id: 'replay-paths', type: 'line', paint: { 'line-color': '#0f766e', 'line-width': 3, 'line-opacity': 0.8 } },
  ]);
  const sensors = layerSet(map, 'replay-sensors', () => [
    { id: 'replay-sensors', type: 'circle', paint: { 'circle-radius': 9, 'circle-color': ['get', 'colour'], 'circle-stroke-color': '#111827', 'circle-stroke-width': 2 } },
  ]);
  const people = layerSet(map, 'replay-positions', () => POS_LAYERS().map((l) => ({ ...l, id: l.id.replace('positions', 'replay-positions') })));
  for (const s of [areas, paths, sensors, people]) s.show(false);

  const panel = el('section', 'replay-panel');
  panel.id = 'replay-panel';
  panel.hidden = true;
  const head = el('header', 'replay-head');
  const title = el('h2');
  title.id = 'replay-title';
  const closeBtn = el('button', 'legend-button');
  closeBtn.type = 'button';
  closeBtn.id = 'replay-close';
  closeBtn.textContent = '×';
  closeBtn.addEventListener('click', () => stop());
  head.append(title, closeBtn);
  const controls = el('div', 'replay-controls');
  const play = el('button', 'incident-action replay-play');
  play.type = 'button';
  play.id = 'replay-play';
  play.addEventListener('click', () => (st.playing ? pause() : start()));
  const slider = el('input', 'replay-slider');
  slider.type = 'range';
  slider.id = 'replay-slider';
  slider.addEventListener('input', () => { pause(); setTime(Number(slider.value)); });
  const when = el('time', 'replay-time');
  when.id = 'replay-time';
  controls.append(play, slider, when);
  const status = el('p', 'alarm-status');
  status.id = 'replay-status';
  status.setAttribute('aria-live', 'polite');
  const summary = el('p', 'replay-summary');
  summary.id = 'replay-summary';
  const grid = el('div', 'replay-grid');
  const chartBox = el('div', 'replay-chart');
  chartBox.id = 'replay-chart';
  const actionsBox = el('div', 'replay-actions-box');
  const actionsHead = el('h3');
  const actions = el('ol', 'replay-actions');
  actions.id = 'replay-actions';
  actionsBox.append(actionsHead, actions);
  grid.append(chartBox, actionsBox);
  panel.append(head, controls, status, summary, grid);
  document.body.append(panel);

  // open loads incident id's replay and shows it at its start.
  async function open(id) {
    const seq = ++st.seq;
    pause();
    st.id = id;
    st.data = null;
    st.error = '';
    panel.hidden = false;
    hideLive(true);
    render();
    try {
      const data = await request(`/api/v1/incidents/${encodeURIComponent(id)}/replay`);
      if (seq !== st.seq) return;
      st.data = data;
      st.from = Date.parse(data.from);
      st.to = Math.max(st.from + 1000, Date.parse(data.to));
      slider.min = String(st.from);
      slider.max = String(st.to);
      slider.step = String(Math.max(1000, Math.floor((st.to - st.from) / 1000 / 1000) * 1000));
      for (const s of [areas, paths, sensors, people]) s.show(true);
      drawChart();
      setTime(st.from);
      fit(data);
    } catch (err) {
      if (seq !== st.seq) return;
      st.error = stepErrorText(err, t);
      render();
    }
  }

  // stop ends the replay: its layers go, the live map comes back.
  function stop() {
    if (!st.id) return;
    st.seq++;
    pause();
    st.id = null;
    st.data = null;
    panel.hidden = true;
    st.chart?.destroy();
    st.chart = null;
    for (const s of [areas, paths, sensors, people]) {
      s.set(empty());
      s.show(false);
    }
    hideLive(false);
    onStop();
  }

  function hideLive(hide) {
    positions?.show(!hide);
    if (hide) {
      for (const id of LIVE_LAYERS) {
        if (!map.getLayer(id)) continue;
        const v = map.getLayoutProperty(id, 'visibility') ?? 'visible';
        if (!st.hidden.has(id)) st.hidden.set(id, v);
        if (v !== 'none') map.setLayoutProperty(id, 'visibility', 'none');
      }
      return;
    }
    for (const [id, v] of st.hidden) if (map.getLayer(id)) map.setLayoutProperty(id, 'visibility', v);
    st.hidden.clear();
  }
  // A style change (the language switch) brings the live layers back
  // visible, each as its module adds it again: hidden again while a replay
  // shows.
  map.on('styledata', () => { if (st.id) hideLive(true); });

  // fit frames the alarms, the areas and the positions.
  function fit(data) {
    const pts = [];
    for (const a of data.alarms ?? []) if (a.location) pts.push(a.location);
    for (const p of data.positions ?? []) if (p.position) pts.push([p.position.lon, p.position.lat]);
    const walk = (c) => { if (typeof c[0] === 'number') pts.push(c); else for (const x of c) walk(x); };
    for (const w of data.warnings ?? []) if (w.area?.coordinates) walk(w.area.coordinates);
    if (pts.length === 0) return;
    const xs = pts.map((p) => p[0]), ys = pts.map((p) => p[1]);
    // The part of the map the replay and the incident panels leave free.
    const c = map.getCanvas().getBoundingClientRect();
    const below = Math.max(0, c.bottom - panel.getBoundingClientRect().top);
    const side = document.getElementById('incident-panel');
    const right = side && !side.hidden ? Math.max(0, c.right - side.getBoundingClientRect().left) : 0;
    const pad = (n, of) => Math.max(20, Math.min(n, of * 0.6));
    map.fitBounds([[Math.min(...xs), Math.min(...ys)], [Math.max(...xs), Math.max(...ys)]], {
      padding: { top: 60, left: pad(340, c.width), right: pad(right + 30, c.width), bottom: pad(below + 30, c.height) },
      maxZoom: 16, animate: false,
    });
  }

  let timer = 0;
  function start() {
    if (!st.data) return;
    if (st.at >= st.to) setTime(st.from);
    st.playing = true;
    const stepMs = (st.to - st.from) / 120;
    clearInterval(timer);
    timer = setInterval(() => {
      const next = Math.min(st.to, st.at + stepMs);
      setTime(next);
      if (next >= st.to) pause();
    }, 250);
    renderControls();
  }

  function pause() {
    clearInterval(timer);
    st.playing = false;
    renderControls();
  }

  // The state at the slider's time, for the map, the list and tests.
  function view(ms) {
    const d = st.data;
    if (!d) return { warnings: [], sensors: [], positions: [], paths: [], actions: [] };
    const warnings = (d.warnings ?? []).filter((w) => w.area && standingAt(w, ms));
    const sensorsAt = (d.alarms ?? []).map((a) => {
      const level = levelAt(a, ms);
      return { alarm: a.id, sensor: a.sensor, code: a.sensor_code, location: a.location, level, colour: sensorColour(level) };
    });
    const upTo = (d.positions ?? []).filter((p) => Date.parse(p.at) <= ms && p.position);
    const byLogin = new Map();
    for (const p of upTo) {
      if (!byLogin.has(p.login)) byLogin.set(p.login, []);
      byLogin.get(p.login).push(p);
    }
    const last = [...byLogin.values()].map((ps) => ps[ps.length - 1]);
    const acts = (d.actions ?? []).filter((a) => Date.parse(a.at) <= ms);
    return { warnings, sensors: sensorsAt, positions: last, paths: [...byLogin.entries()], actions: acts };
  }

  // setTime moves the replay to ms.
  function setTime(ms) {
    if (!st.data) return;
    st.at = Math.max(st.from, Math.min(st.to, ms));
    slider.value = String(st.at);
    const v = view(st.at);
    areas.set({
      type: 'FeatureCollection',
      features: v.warnings.map((w) => ({ type: 'Feature', geometry: w.area, properties: { level: w.level, version: w.version, label: ROMAN[w.level] ?? '?' } })),
    });
    sensors.set({
      type: 'FeatureCollection',
      features: v.sensors.filter((s) => s.location).map((s) => ({ type: 'Feature', geometry: { type: 'Point', coordinates: s.location }, properties: { alarm: s.alarm, level: s.level, colour: s.colour } })),
    });
    paths.set({
      type: 'FeatureCollection',
      features: v.paths.filter(([, ps]) => ps.length > 1).map(([login, ps]) => ({
        type: 'Feature', geometry: { type: 'LineString', coordinates: ps.map((p) => [p.position.lon, p.position.lat]) }, properties: { login },
      })),
    });
    people.set({
      type: 'FeatureCollection',
      features: v.positions.map((p) => ({ type: 'Feature', geometry: { type: 'Point', coordinates: [p.position.lon, p.position.lat] }, properties: { login: p.login, at: p.at } })),
    });
    st.view = v;
    render();
    st.chart?.redraw(false, false);
  }

  function actionText(a) {
    if (a.kind === 'step') return stateTitle(a.what, t);
    const v = t(`${a.kind}_${a.what}`);
    return v === `${a.kind}_${a.what}` ? a.what : v;
  }

  function roleName(r) {
    const v = t(`role_${r}`);
    return v === `role_${r}` ? (r ?? '') : v;
  }

  function renderControls() {
    play.textContent = st.playing ? `❚❚ ${t('replayPause')}` : `▶ ${t('replayPlay')}`;
    play.dataset.playing = String(st.playing);
    play.disabled = !st.data;
  }

  function render() {
    if (!st.id) return;
    title.textContent = t('replayTitle').replace('{id}', st.id);
    closeBtn.title = t('replayClose');
    closeBtn.setAttribute('aria-label', t('replayClose'));
    slider.setAttribute('aria-label', t('replaySlider'));
    actionsHead.textContent = t('replayActions');
    renderControls();
    status.className = st.error ? 'alarm-status error' : 'alarm-status';
    status.textContent = st.error ? t('replayError') + st.error : st.data ? '' : t('replayLoading');
    status.hidden = status.textContent === '';
    if (!st.data) {
      actions.replaceChildren();
      summary.textContent = '';
      return;
    }
    const v = st.view ?? view(st.at);
    when.dateTime = new Date(st.at).toISOString();
    when.textContent = format.dateTime(st.at);
    summary.textContent = [t('replayWarnings').replace('{n}', String(v.warnings.length)), t('replayResponders').replace('{n}', String(v.positions.length))].join(' · ');
    const items = v.actions.slice(-200).reverse().map((a) => {
      const li = el('li', 'replay-action');
      li.dataset.kind = a.kind;
      li.dataset.what = a.what;
      const time = el('time', 'incident-step-time', format.dateTime(a.at));
      time.dateTime = a.at;
      li.append(el('span', 'replay-action-kind', t(`action_${a.kind}`)), el('span', 'incident-step-what', actionText(a)));
      if (a.who) li.append(el('span', 'incident-step-who', a.role ? t('replayBy').replace('{who}', a.who).replace('{role}', roleName(a.role)) : a.who));
      li.append(time);
      if (a.text) li.append(el('span', 'incident-step-reason', a.text));
      return li;
    });
    if (items.length === 0) items.push(el('li', 'alarm-status', t('replayNoActions')));
    actions.replaceChildren(...items);
  }

  // drawChart draws the curves' averages with a line at the slider's time.
  function drawChart() {
    st.chart?.destroy();
    st.chart = null;
    const curves = (st.data?.curves ?? []).filter((c) => c.points?.length);
    chartBox.hidden = curves.length === 0;
    if (curves.length === 0) return;
    const xs = [...new Set(curves.flatMap((c) => c.points.map((p) => Date.parse(p.t) / 1000)))].sort((a, b) => a - b);
    const cols = curves.map((c) => {
      const m = new Map(c.points.map((p) => [Date.parse(p.t) / 1000, p.avg]));
      return xs.map((x) => (m.has(x) ? m.get(x) : null));
    });
    const palette = ['#1d4ed8', '#dc2626', '#059669', '#7c3aed', '#ea580c', '#0891b2'];
    const axis = { stroke: '#6b7280', grid: { stroke: '#f3f4f6' }, ticks: { stroke: '#e5e7eb' } };
    st.chart = new uPlot({
      width: Math.max(260, chartBox.clientWidth || 360),
      height: 150,
      tzDate: (ts) => new Date(ts * 1000),
      legend: { show: true, live: false },
      cursor: { show: false },
      scales: { x: { time: true, range: () => [st.from / 1000, st.to / 1000] } },
      axes: [
        { ...axis, values: (_u, splits) => splits.map((s) => new Date(s * 1000).toLocaleTimeString(format.locale(), { hour: '2-digit', minute: '2-digit', hour12: false })) },
        { ...axis, size: 50, values: (_u, vals) => vals.map((v) => format.number(v)) },
      ],
      series: [{}, ...curves.map((c, i) => ({ label: [c.code, format.metricTitle?.(c.metric) ?? c.metric].filter(Boolean).join(' '), stroke: palette[i % palette.length], width: 2, spanGaps: true }))],
      hooks: {
        draw: [(u) => {
          if (!st.data) return;
          const x = u.valToPos(st.at / 1000, 'x', true);
          const ctx = u.ctx;
          ctx.save();
          ctx.strokeStyle = '#111827';
          ctx.lineWidth = 2 * devicePixelRatio;
          ctx.beginPath();
          ctx.moveTo(x, u.bbox.top);
          ctx.lineTo(x, u.bbox.top + u.bbox.height);
          ctx.stroke();
          ctx.restore();
        }],
      },
    }, [xs, ...cols], chartBox);
  }

  function renderText() {
    if (!st.id) return;
    render();
    if (st.data) drawChart();
  }

  return {
    open,
    stop,
    setTime,
    play: start,
    pause,
    renderText,
    get active() { return st.id; },
    get loaded() { return Boolean(st.data); },
    get at() { return st.at; },
    get data() { return st.data; },
    get chart() { return st.chart; },
    get state() { return st.view ?? view(st.at); },
  };
}
