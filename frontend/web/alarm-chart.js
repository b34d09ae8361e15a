// The curve of an alarm's metric in its details: 24 h, 7 d or 30 d of the
// sensor's buckets (GET /api/v1/sensors/{id}/series), drawn with uPlot as
// the min–max band, the average line and the alarm's start, with a legend
// that follows the cursor in the page's language.

import uPlot from '/vendor/uplot/uPlot.esm.js';
import { apiJSON, errorText } from '/session.js';
import { RANGES, chartData, tickOptions, xRange } from './curve.js';
import { rfc3339 } from './format.js';

// createAlarmChart makes the curve's part of the details. deps: t, format
// (format.js). section(alarm, range) builds its elements for an alarm,
// show(alarm) writes what changes while it is open, load() asks for the
// curve, destroy() drops it.
export function createAlarmChart({ t, format }) {
  const st = { chart: null, seq: 0, alarm: null, range: '24h' };
  let box = null;
  let status = null;
  let title = null;
  let buttons = new Map();

  function section(alarm, range = '24h') {
    destroy();
    st.alarm = alarm;
    st.range = RANGES[range] ? range : '24h';
    const tools = document.createElement('div');
    tools.className = 'alarm-chart-tools';
    title = document.createElement('span');
    title.className = 'alarm-chart-title';
    tools.append(title);
    buttons = new Map();
    for (const r of Object.keys(RANGES)) {
      const b = document.createElement('button');
      b.type = 'button';
      b.id = `alarm-range-${r}`;
      b.className = 'alarm-range';
      b.textContent = t(`range_${r}`);
      b.addEventListener('click', () => {
        if (st.range === r) return;
        st.range = r;
        load();
      });
      buttons.set(r, b);
      tools.append(b);
    }
    box = document.createElement('div');
    box.id = 'alarm-chart';
    box.className = 'alarm-chart';
    status = document.createElement('p');
    status.className = 'alarm-chart-status';
    return [tools, box, status];
  }

  function pressed() {
    for (const [r, b] of buttons) b.setAttribute('aria-pressed', String(r === st.range));
  }

  // show writes the title and the pressed range for the alarm as it is now.
  function show(alarm) {
    st.alarm = alarm;
    if (title) {
      title.textContent = (alarm.unit ? t('alarmChart') : t('alarmChartNoUnit'))
        .replace('{metric}', format.metricTitle(alarm.metric)).replace('{unit}', alarm.unit);
    }
    pressed();
  }

  // destroy drops the chart, and with it any answer still coming.
  function destroy() {
    st.seq++;
    st.chart?.destroy();
    st.chart = null;
  }

  // load fetches the curve of the alarm's metric for the chosen range and
  // draws it; an answer for an earlier alarm or range is dropped.
  async function load() {
    const a = st.alarm;
    if (!a || !box) return;
    const range = RANGES[st.range];
    pressed();
    const seq = ++st.seq;
    status.className = 'alarm-chart-status';
    status.textContent = t('chartLoading');
    status.hidden = false;
    const to = new Date(Math.max(Date.now(), Date.parse(a.updated) || 0) + 60e3);
    const from = new Date(to.getTime() - range.ms);
    const q = new URLSearchParams({ metric: a.metric, from: rfc3339(from), to: rfc3339(to), step: range.step });
    try {
      const series = await apiJSON(`/api/v1/sensors/${a.sensor}/series?${q}`);
      if (seq !== st.seq) return;
      draw(series, a);
      status.textContent = series.buckets?.length ? '' : t('chartEmpty');
      status.hidden = status.textContent === '';
    } catch (err) {
      if (seq !== st.seq) return;
      status.className = 'alarm-chart-status error';
      status.textContent = t('chartError') + errorText(err, t);
    }
  }

  function draw(series, a) {
    destroy();
    const data = chartData(series);
    const start = Date.parse(a.started) / 1000;
    const from = Date.parse(series.from) / 1000;
    const to = Date.parse(series.to) / 1000;
    const fmt = (_u, v) => (v === null || v === undefined ? '–' : format.number(v));
    const width = Math.max(240, box.clientWidth || 320);
    const opts = {
      width,
      height: 180,
      tzDate: (ts) => new Date(ts * 1000),
      cursor: { drag: { x: true, y: false } },
      legend: { show: true, live: true },
      scales: { x: { time: true, range: (_u, min, max) => xRange(min, max, start, from, to) } },
      axes: [
        { stroke: '#6b7280', grid: { stroke: '#f3f4f6' }, ticks: { stroke: '#e5e7eb' }, values: timeTicks },
        { stroke: '#6b7280', grid: { stroke: '#f3f4f6' }, ticks: { stroke: '#e5e7eb' }, size: 56, values: (_u, vals) => vals.map((v) => format.number(v)) },
      ],
      series: [
        { label: t('chartTime'), value: (_u, v) => (v === null ? '–' : format.dateTime(new Date(v * 1000).toISOString())) },
        { label: t('chartMin'), stroke: 'rgba(37, 99, 235, 0.45)', width: 1, value: fmt },
        { label: t('chartMax'), stroke: 'rgba(37, 99, 235, 0.45)', width: 1, value: fmt },
        { label: t('chartAvg'), stroke: '#1d4ed8', width: 2, value: fmt },
      ],
      bands: [{ series: [2, 1], fill: 'rgba(37, 99, 235, 0.15)' }],
      hooks: { draw: [(u) => startLine(u, start, a)] },
    };
    st.chart = new uPlot(opts, data, box);
    st.chart.root.dataset.points = String(series.buckets?.length ?? 0);
  }

  // startLine marks the alarm's start: a dashed line in the level's colour.
  function startLine(u, start, a) {
    const x = u.valToPos(start, 'x', true);
    const { left, top, width: w, height: h } = u.bbox;
    if (!(x >= left && x <= left + w)) return;
    const ctx = u.ctx;
    const px = devicePixelRatio;
    ctx.save();
    ctx.strokeStyle = format.levelColor(a.max_level || a.level);
    ctx.lineWidth = 2 * px;
    ctx.setLineDash([5 * px, 4 * px]);
    ctx.beginPath();
    ctx.moveTo(x, top);
    ctx.lineTo(x, top + h);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = '#b91c1c';
    ctx.font = `${11 * px}px system-ui, sans-serif`;
    const label = t('chartStart');
    const tw = ctx.measureText(label).width;
    ctx.textBaseline = 'top';
    ctx.fillText(label, x + tw + 6 * px > left + w ? x - tw - 4 * px : x + 4 * px, top + 2 * px);
    ctx.restore();
  }

  // timeTicks labels the time axis in the page's language.
  function timeTicks(u, splits) {
    const opts = tickOptions((u.scales.x.max ?? 0) - (u.scales.x.min ?? 0));
    return splits.map((s) => new Date(s * 1000).toLocaleString(format.locale(), opts));
  }

  return {
    section,
    show,
    load,
    destroy,
    get chart() { return st.chart; },
    get range() { return st.range; },
  };
}
