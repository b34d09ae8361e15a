// The big screen of a command centre (/?view=screen): the whole city on the
// map, and beside it the active alarms counted by level, by domain and by
// district, the trend of the last hour and the connection's state in large
// type. Nothing needs a hand: the live channel reconnects by itself and a
// banner says so meanwhile.
//
// The published warnings are counted by level (I–IV) and listed with their
// headlines, from the live channel's "warnings" topic and GET
// /api/v1/incidents every 15 s; the response of each (GET
// /api/v1/incidents/{id}/response, left out while the server does not serve
// it) gives the tasks done of all and those overdue.

import uPlot from '/vendor/uplot/uPlot.esm.js';
import { createScreenStats } from '/stats.js';
import { api } from '/session.js';
import { ROMAN, STANDING, levelBadge, levelText, request } from '/incident.js';

const HOUR = 3600e3;
const MINUTE = 60e3;
const DOMAINS = ['gas', 'water', 'drainage', 'heating', 'bridge', 'tunnel'];
const INCIDENT_POLL = 15e3;

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
    live: new Map(), // incident → the warning as the live channel last said (standing or not)
    polled: new Map(), // incident → the warning of an incident whose warning stands, as last polled
    responses: new Map(), // incident → {done, total, overdue}
    responseServed: true,
  };

  const panel = document.createElement('aside');
  panel.id = 'screen-panel';
  panel.className = 'screen-panel';
  panel.innerHTML = `
    <header class="screen-head"><h1 id="screen-title"></h1><time id="screen-clock"></time></header>
    <section class="screen-total"><h2 data-k="screenActive"></h2><output id="screen-total">0</output></section>
    <section><h2 data-k="screenByLevel"></h2><ul id="screen-levels" class="screen-counts"></ul></section>
    <section id="screen-warnings-box" class="screen-warnings-box"><h2 data-k="screenWarnings"></h2>
      <ul id="screen-warn-levels" class="screen-counts screen-warn-levels"></ul>
      <ul id="screen-warn-list" class="screen-warn-list"></ul>
      <p id="screen-response" class="screen-response" hidden></p></section>
    <section><h2 data-k="screenByDomain"></h2><ul id="screen-domains" class="screen-counts"></ul></section>
    <section><h2 data-k="screenByDistrict"></h2><ul id="screen-districts" class="screen-counts"></ul></section>
    <div class="screen-charts">
      <section class="screen-trend-box"><h2 data-k="screenTrend"></h2><div id="screen-trend" class="screen-trend"></div></section>
      <section class="screen-stats-box"><h2 data-k="screenStats"></h2><div id="screen-stats" class="screen-stats"></div></section>
    </div>`;
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
    renderWarnings();
  }

  // ------------------------------------------------------------ warnings

  // warnings are the warnings in force: the live channel's, and those polled
  // that the channel has not spoken of.
  function warnings() {
    const out = [];
    for (const w of st.live.values()) if (w.standing !== false) out.push(w);
    for (const [id, w] of st.polled) if (!st.live.has(id)) out.push(w);
    return out.sort((a, b) => a.warning.level - b.warning.level || String(b.warning.issued).localeCompare(String(a.warning.issued)));
  }

  function renderWarnings() {
    const all = warnings();
    const by = new Map();
    for (const w of all) by.set(w.warning.level, (by.get(w.warning.level) ?? 0) + 1);
    const levels = $('screen-warn-levels');
    levels.replaceChildren(...[1, 2, 3, 4].map((l) => {
      const li = document.createElement('li');
      li.dataset.key = String(l);
      li.dataset.count = String(by.get(l) ?? 0);
      li.classList.toggle('zero', !by.get(l));
      const badge = levelBadge(l, t, '', ROMAN[l]);
      badge.title = levelText(l, t);
      const name = document.createElement('span');
      name.className = 'screen-name';
      name.textContent = levelText(l, t);
      const num = document.createElement('span');
      num.className = 'screen-num';
      num.textContent = String(by.get(l) ?? 0);
      li.append(badge, name, num);
      return li;
    }));
    const list = $('screen-warn-list');
    const en = format.locale() === 'en';
    list.replaceChildren(...all.slice(0, 6).map((w) => {
      const li = document.createElement('li');
      li.dataset.incident = w.incident;
      li.dataset.level = String(w.warning.level);
      const badge = levelBadge(w.warning.level, t, '', ROMAN[w.warning.level] ?? '?');
      const head = document.createElement('span');
      head.className = 'screen-warn-headline';
      head.textContent = (en ? w.warning.headline_en || w.warning.headline : w.warning.headline) || w.warning.location || w.incident;
      li.append(badge, head);
      return li;
    }));
    if (all.length === 0) {
      const li = document.createElement('li');
      li.className = 'zero';
      li.textContent = t('screenNoWarnings');
      list.append(li);
    }
    // The response: tasks done of all, and those overdue.
    const resp = $('screen-response');
    let done = 0, total = 0, overdue = 0, known = 0;
    for (const w of all) {
      const r = st.responses.get(w.incident);
      if (!r) continue;
      known++;
      done += r.done;
      total += r.total;
      overdue += r.overdue;
    }
    resp.hidden = known === 0;
    resp.dataset.done = String(done);
    resp.dataset.total = String(total);
    resp.dataset.overdue = String(overdue);
    resp.textContent = t('screenResponse').replace('{done}', done).replace('{total}', total).replace('{overdue}', overdue);
    resp.classList.toggle('overdue', overdue > 0);
  }

  // updateWarnings takes the live channel's warnings in force.
  function updateWarnings(list) {
    const next = new Map();
    for (const w of list ?? []) if (w?.incident && w.warning) next.set(w.incident, w);
    // A warning the channel dropped stays dropped until a poll sees it
    // stand again.
    for (const [id, w] of st.live) if (!next.has(id)) next.set(id, { ...w, standing: false });
    st.live = next;
    renderWarnings();
    pollResponses();
  }

  // pollIncidents asks for the incidents whose warning stands.
  let pollTimer = 0;
  async function pollIncidents() {
    clearTimeout(pollTimer);
    try {
      const body = await request(`/api/v1/incidents?state=${[...STANDING].join(',')}&limit=200`, { optional: true, quiet: true });
      const polled = new Map();
      for (const i of body?.incidents ?? []) {
        const w = i.versions?.[i.versions.length - 1];
        if (!w) continue;
        polled.set(i.id, { incident: i.id, state: i.state, standing: true, warning: w, versions: i.versions.length });
        // Standing again (a re-issue the channel missed): trust the poll.
        if (st.live.get(i.id)?.standing === false && Date.parse(i.updated) > Date.parse(st.live.get(i.id).warning?.issued ?? 0)) st.live.delete(i.id);
      }
      st.polled = polled;
      renderWarnings();
      await pollResponses();
    } catch {
      // The next poll tries again.
    }
    pollTimer = setTimeout(pollIncidents, INCIDENT_POLL);
  }

  let responding = false;
  async function pollResponses() {
    if (!st.responseServed || responding) return;
    responding = true;
    try {
      for (const w of warnings()) {
        const r = await request(`/api/v1/incidents/${encodeURIComponent(w.incident)}/response`, { optional: true, quiet: true }).catch(() => undefined);
        if (r === null) {
          st.responseServed = false;
          break;
        }
        if (!r) continue;
        const tasks = (r.response?.tasks ?? []).filter((x) => x.state !== 'cancelled');
        st.responses.set(w.incident, {
          done: tasks.filter((x) => x.state === 'done').length,
          total: tasks.length,
          overdue: tasks.filter((x) => x.overdue && x.state !== 'done').length,
        });
      }
    } finally {
      responding = false;
    }
    renderWarnings();
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
    stats?.renderText();
  }

  const stats = createScreenStats({ box: $('screen-stats'), t, format });
  renderText();
  history();
  pollIncidents();
  return {
    update,
    updateWarnings,
    get warnings() { return warnings(); },
    setStatus,
    renderText,
    get chart() { return st.chart; },
    get trend() { return trendData(); },
    get stats() { return stats; },
  };
}
