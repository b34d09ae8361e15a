// The big screen of a command centre (/?view=screen): the whole city on the
// map, and beside it the active alarms counted by level, by domain and by
// district, the trend of the last hour and the connection's state in large
// type. Nothing needs a hand: the live channel reconnects by itself and a
// banner says so meanwhile.

import uPlot from '/vendor/uplot/uPlot.esm.js';
import { api } from '/session.js';

const HOUR = 3600e3;
const MINUTE = 60e3;
const DOMAINS = ['gas', 'water', 'drainage', 'heating', 'bridge', 'tunnel'];

// createScreen builds the panel. deps: t, format (alarms.js's formats).
// It returns update(alarms) for each new list of active alarms, setStatus,
// renderText and its state for tests.
export function createScreen({ t, format }) {
  const st = {
    alarms: [],
    // alarm id → {started, cleared} of every alarm seen in the last hour,
    // for the trend; an alarm that leaves the active list is cleared then.
    seen: new Map(),
    chart: null,
    status: 'connecting',
  };

  const panel = document.createElement('aside');
  panel.id = 'screen-panel';
  panel.className = 'screen-panel';
  panel.innerHTML = `
    <header class="screen-head"><h1 id="screen-title"></h1><time id="screen-clock"></time></header>
    <section class="screen-total"><h2 data-k="screenActive"></h2><output id="screen-total">0</output></section>
    <section><h2 data-k="screenByLevel"></h2><ul id="screen-levels" class="screen-counts"></ul></section>
    <section><h2 data-k="screenByDomain"></h2><ul id="screen-domains" class="screen-counts"></ul></section>
    <section><h2 data-k="screenByDistrict"></h2><ul id="screen-districts" class="screen-counts"></ul></section>
    <section class="screen-trend-box"><h2 data-k="screenTrend"></h2><div id="screen-trend" class="screen-trend"></div></section>`;
  const banner = document.createElement('div');
  banner.id = 'live-banner';
  banner.className = 'live-banner';
  banner.setAttribute('role', 'alert');
  banner.hidden = true;
  document.body.append(panel, banner);
  const $ = (id) => document.getElementById(id);

  function tick() {
    $('screen-clock').textContent = new Date().toLocaleString(format.locale(), { hour12: false });
  }
  setInterval(tick, 1000);

  // counts fills a list with one row per key: a swatch, a title, a count.
  function counts(el, entries) {
    el.replaceChildren(...entries.map(([key, title, n, color]) => {
      const li = document.createElement('li');
      li.dataset.key = key;
      li.dataset.count = String(n);
      const dot = document.createElement('span');
      dot.className = 'screen-dot';
      dot.style.background = color;
      const name = document.createElement('span');
      name.className = 'screen-name';
      name.textContent = title;
      const num = document.createElement('span');
      num.className = 'screen-num';
      num.textContent = String(n);
      li.classList.toggle('zero', n === 0);
      li.append(dot, name, num);
      return li;
    }));
  }

  function tally(key) {
    const m = new Map();
    for (const a of st.alarms) m.set(a[key], (m.get(a[key]) ?? 0) + 1);
    return m;
  }

  function render() {
    $('screen-total').textContent = String(st.alarms.length);
    const levels = tally('level');
    counts($('screen-levels'), [1, 2, 3, 4].filter((l) => l <= 3 || levels.has(l)).map((l) =>
      [String(l), t('alarmLevel').replace('{n}', l), levels.get(l) ?? 0, format.levelColor(l)]));
    const domains = tally('domain');
    const ds = [...new Set([...DOMAINS, ...domains.keys()])];
    counts($('screen-domains'), ds.map((d) => [d, format.domainTitle(d), domains.get(d) ?? 0, '#64748b']));
    const districts = [...tally('district')].sort((a, b) => b[1] - a[1] || String(a[0]).localeCompare(String(b[0])));
    counts($('screen-districts'), districts.length
      ? districts.slice(0, 8).map(([d, n]) => [String(d ?? ''), d || '–', n, '#64748b'])
      : [['', t('screenNone'), 0, '#64748b']]);
    drawTrend();
  }

  // update takes the active alarms.
  function update(alarms) {
    const now = Date.now();
    const active = new Set();
    for (const a of alarms) {
      active.add(a.id);
      st.seen.set(a.id, { started: Date.parse(a.started) || now, cleared: 0 });
    }
    for (const [id, s] of st.seen) {
      if (!active.has(id) && !s.cleared) s.cleared = now;
      if (s.cleared && s.cleared < now - HOUR) st.seen.delete(id);
    }
    st.alarms = alarms;
    render();
  }

  // history takes the alarms active at some time in the last hour, cleared
  // ones too (overlap=true), so the trend starts full.
  async function history() {
    const from = new Date(Date.now() - HOUR).toISOString().replace(/\.\d{3}Z$/, 'Z');
    try {
      const res = await api(`/api/v1/alarms?from=${from}&overlap=true&limit=10000`);
      if (!res.ok) return;
      const body = await res.json();
      for (const a of body.alarms ?? []) {
        if (st.seen.has(a.id) && !a.cleared) continue;
        st.seen.set(a.id, { started: Date.parse(a.started), cleared: a.cleared ? Date.parse(a.cleared) : 0 });
      }
      drawTrend();
    } catch {
      // The trend fills from the live alarms alone.
    }
  }

  // trendData is per minute over the last hour: the alarms active at the end
  // of the minute and those raised within it.
  function trendData() {
    const end = Math.ceil(Date.now() / MINUTE) * MINUTE;
    const xs = [], active = [], raised = [];
    for (let m = end - HOUR; m <= end; m += MINUTE) {
      let a = 0, r = 0;
      for (const s of st.seen.values()) {
        if (s.started <= m && (!s.cleared || s.cleared > m)) a++;
        if (s.started > m - MINUTE && s.started <= m) r++;
      }
      xs.push(m / 1000);
      active.push(a);
      raised.push(r);
    }
    return [xs, active, raised];
  }

  function drawTrend() {
    const box = $('screen-trend');
    const data = trendData();
    const width = Math.max(300, box.clientWidth || 400);
    // Room under the plot for uPlot's legend.
    const height = Math.max(140, (box.clientHeight || 220) - 40);
    if (st.chart && (st.chart.width !== width || st.chart.height !== height)) {
      st.chart.destroy();
      st.chart = null;
    }
    if (st.chart) {
      st.chart.setData(data);
      return;
    }
    const axis = { stroke: '#cbd5e1', grid: { stroke: 'rgba(148,163,184,0.2)' }, ticks: { stroke: 'rgba(148,163,184,0.4)' }, font: '14px system-ui, sans-serif' };
    st.chart = new uPlot({
      width,
      height,
      tzDate: (ts) => new Date(ts * 1000),
      legend: { show: true, live: false },
      cursor: { show: false },
      scales: { y: { range: (_u, _min, max) => [0, Math.max(4, Math.ceil(max * 1.2))] } },
      axes: [
        { ...axis, values: (_u, splits) => splits.map((s) => new Date(s * 1000).toLocaleTimeString(format.locale(), { hour: '2-digit', minute: '2-digit', hour12: false })) },
        { ...axis, size: 48, values: (_u, vals) => vals.map((v) => (Number.isInteger(v) ? String(v) : '')) },
      ],
      series: [
        {},
        { label: t('screenTrendActive'), stroke: '#f87171', width: 3, fill: 'rgba(248,113,113,0.15)' },
        { label: t('screenTrendRaised'), stroke: '#facc15', width: 0, fill: 'rgba(250,204,21,0.7)', paths: uPlot.paths.bars({ size: [0.8, 20] }) },
      ],
    }, data, box);
  }
  setInterval(drawTrend, 30e3);
  window.addEventListener('resize', () => drawTrend());

  function setStatus(s) {
    st.status = s;
    panel.dataset.state = s;
    banner.hidden = s !== 'reconnecting';
    banner.dataset.state = s;
    banner.textContent = t(`live_${s}`);
  }

  function renderText() {
    $('screen-title').textContent = t('screenTitle');
    for (const el of panel.querySelectorAll('[data-k]')) el.textContent = t(el.dataset.k);
    tick();
    st.chart?.destroy();
    st.chart = null;
    setStatus(st.status);
    render();
  }

  renderText();
  history();
  return {
    update,
    setStatus,
    renderText,
    get chart() { return st.chart; },
    get trend() { return trendData(); },
  };
}
