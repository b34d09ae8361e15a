// Alarm analysis (报警分析): counts by period from GET /api/v1/stats/alarms
// drawn with uPlot, one line per group; the false-alarm rates of
// /stats/false-alarms; the p50 and p90 times of /stats/durations, in words.
// On the desktop a panel (#stats-panel, opened by #stats-button); on the big
// screen a compact chart of the last 30 days by level (createScreenStats).

import uPlot from '/vendor/uplot/uPlot.esm.js';
import { can } from '/session.js';
import { el, request, stepErrorText } from '/incident.js';

// UI text in both languages, merged into the page's TEXT table.
export const TEXT = {
  zh: {
    stats: '报警分析',
    statsButtonTitle: '显示或隐藏报警分析',
    statsTitle: '报警分析',
    statsGroupBy: '周期',
    statsGroup_day: '按日', statsGroup_month: '按月', statsGroup_year: '按年',
    statsBy: '分组',
    statsBy_domain: '行业', statsBy_district: '区县', statsBy_level: '级别',
    statsCounts: '报警数量（共 {n} 条）',
    statsRates: '误报率',
    statsRatesBy: '按',
    statsRatesBy_sensor_kind: '设备类型', statsRatesBy_rule: '规则',
    statsRateKey: '分组', statsRateAlarms: '报警', statsRateVerified: '已核实', statsRateFalse: '误报', statsRateRate: '误报率',
    statsDurations: '处置时效（中位数 / 90% 分位）',
    statsStep: '环节', statsCount: '事件数', statsP50: '中位数', statsP90: '90% 分位',
    statsStep_verify: '核实', statsStep_publish: '发布预警', statsStep_receipt: '首次回执', statsStep_resolve: '处置完成',
    statsAll: '合计', statsUnknown: '未知',
    statsLoading: '正在加载统计…',
    statsError: '统计加载失败：',
    statsNone: '暂无数据',
    statsLevel: '{n} 级',
    screenStats: '近 30 日报警（按级别）',
    // The sample city's sensor kinds; another kind reads as its code.
    sensorKind_combustible_gas: '可燃气体探测器',
    sensorKind_level_gauge: '液位计',
    sensorKind_pressure_gauge: '压力计',
    sensorKind_env_monitor: '环境监测仪',
    sensorKind_gas_detector: '气体探测器',
    sensorKind_heat_monitor: '热力监测仪',
    sensorKind_ch4_detector: '甲烷探测器',
    sensorKind_hydrant_monitor: '消火栓监测仪',
    sensorKind_flow_meter: '流量计',
    sensorKind_leak_noise_logger: '漏损噪声记录仪',
    sensorKind_water_depth_gauge: '积水深度计',
    sensorKind_strain_gauge: '应变计',
    sensorKind_h2s_detector: '硫化氢探测器',
    sensorKind_pressure_flow: '压力流量计',
    sensorKind_leak_scanner: '泄漏扫描仪',
    sensorKind_deflection_gauge: '挠度计',
    sensorKind_inclinometer: '倾角计',
    sensorKind_rain_gauge: '雨量计',
    sensorKind_accelerometer: '加速度计',
    sensorKind_cable_force_gauge: '索力计',
    sensorKind_vibration: '振动传感器',
    sensorKind_weigh_in_motion: '动态称重仪',
    sensorKind_displacement_gauge: '位移计',
    sensorKind_crack_gauge: '裂缝计',
    sensorKind_river_gauge: '河道水位计',
    sensorKind_anemometer: '风速仪',
    dur_d: '{n} 天', dur_h: '{n} 小时', dur_min: '{n} 分', dur_s: '{n} 秒', durSep: ' ',
  },
  en: {
    stats: 'Alarm analysis',
    statsButtonTitle: 'Show or hide the alarm analysis',
    statsTitle: 'Alarm analysis',
    statsGroupBy: 'Period',
    statsGroup_day: 'By day', statsGroup_month: 'By month', statsGroup_year: 'By year',
    statsBy: 'Group',
    statsBy_domain: 'Domain', statsBy_district: 'District', statsBy_level: 'Level',
    statsCounts: 'Alarms ({n} in all)',
    statsRates: 'False-alarm rates',
    statsRatesBy: 'By',
    statsRatesBy_sensor_kind: 'Sensor kind', statsRatesBy_rule: 'Rule',
    statsRateKey: 'Group', statsRateAlarms: 'Alarms', statsRateVerified: 'Verified', statsRateFalse: 'False', statsRateRate: 'Rate',
    statsDurations: 'Response times (median / 90th percentile)',
    statsStep: 'Step', statsCount: 'Incidents', statsP50: 'Median', statsP90: '90th percentile',
    statsStep_verify: 'Verify', statsStep_publish: 'Publish', statsStep_receipt: 'First receipt', statsStep_resolve: 'Resolve',
    statsAll: 'All', statsUnknown: 'Unknown',
    statsLoading: 'Loading the statistics…',
    statsError: 'The statistics could not be loaded: ',
    statsNone: 'No data',
    statsLevel: 'Level {n}',
    screenStats: 'Alarms in the last 30 days, by level',
    sensorKind_combustible_gas: 'Combustible gas detector',
    sensorKind_level_gauge: 'Level gauge',
    sensorKind_pressure_gauge: 'Pressure gauge',
    sensorKind_env_monitor: 'Environment monitor',
    sensorKind_gas_detector: 'Gas detector',
    sensorKind_heat_monitor: 'Heating monitor',
    sensorKind_ch4_detector: 'Methane detector',
    sensorKind_hydrant_monitor: 'Hydrant monitor',
    sensorKind_flow_meter: 'Flow meter',
    sensorKind_leak_noise_logger: 'Leak noise logger',
    sensorKind_water_depth_gauge: 'Water depth gauge',
    sensorKind_strain_gauge: 'Strain gauge',
    sensorKind_h2s_detector: 'H₂S detector',
    sensorKind_pressure_flow: 'Pressure and flow meter',
    sensorKind_leak_scanner: 'Leak scanner',
    sensorKind_deflection_gauge: 'Deflection gauge',
    sensorKind_inclinometer: 'Inclinometer',
    sensorKind_rain_gauge: 'Rain gauge',
    sensorKind_accelerometer: 'Accelerometer',
    sensorKind_cable_force_gauge: 'Cable force gauge',
    sensorKind_vibration: 'Vibration sensor',
    sensorKind_weigh_in_motion: 'Weigh-in-motion',
    sensorKind_displacement_gauge: 'Displacement gauge',
    sensorKind_crack_gauge: 'Crack gauge',
    sensorKind_river_gauge: 'River gauge',
    sensorKind_anemometer: 'Anemometer',
    dur_d: '{n} d', dur_h: '{n} h', dur_min: '{n} min', dur_s: '{n} s', durSep: ' ',
  },
};

// durationText is a number of seconds in words, its two largest units:
// "3 分 20 秒", "3 min 20 s"; never raw seconds.
export function durationText(seconds, t) {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) return '–';
  let s = Math.round(seconds);
  const units = [['d', 86400], ['h', 3600], ['min', 60], ['s', 1]];
  const parts = [];
  for (const [u, n] of units) {
    const v = Math.floor(s / n);
    s -= v * n;
    if (v > 0 || (parts.length > 0 && parts.length < 2)) parts.push(t(`dur_${u}`).replace('{n}', String(v)));
    if (parts.length === 2) break;
  }
  if (parts.length === 0) return t('dur_s').replace('{n}', '0');
  if (parts.length === 2 && parts[1].startsWith('0')) parts.pop();
  return parts.join(t('durSep'));
}

const PALETTE = ['#1d4ed8', '#dc2626', '#059669', '#7c3aed', '#ea580c', '#0891b2', '#ca8a04', '#db2777', '#4b5563'];
const LEVEL_LINE = { 1: '#dc2626', 2: '#f97316', 3: '#facc15', 4: '#3b82f6' };

// groupName is a group's key in words: a domain, a level, a district.
function groupName(key, by, t, format) {
  if (key === 'all') return t('statsAll');
  if (key === 'unknown') return t('statsUnknown');
  if (by === 'level') return t('statsLevel').replace('{n}', key);
  if (by === 'domain') return format.domainTitle?.(key) ?? key;
  if (by === 'sensor_kind') {
    const v = t(`sensorKind_${key}`);
    return v === `sensorKind_${key}` ? key : v;
  }
  return key;
}

// periodStart is a period's key ("2026-12-03", "2026-12", "2026") as the
// seconds of its start, in the page's time.
function periodStart(p) {
  const [y, m = 1, d = 1] = p.split('-').map(Number);
  return new Date(y, m - 1, d).getTime() / 1000;
}

// periodText is a period in the page's language.
function periodText(sec, groupBy, format) {
  const d = new Date(sec * 1000);
  const o = groupBy === 'year' ? { year: 'numeric' } : groupBy === 'month' ? { year: 'numeric', month: 'short' } : { month: 'numeric', day: 'numeric' };
  return d.toLocaleDateString(format.locale(), o);
}

// drawCounts draws a Counts answer into box: one line per series over
// the periods. opts: dark (the big screen), height.
export function drawCounts(box, counts, { t, format, dark = false, height = 200 }) {
  const xs = (counts.periods ?? []).map(periodStart);
  const by = counts.by;
  const series = counts.series ?? [];
  const axis = dark
    ? { stroke: '#cbd5e1', grid: { stroke: 'rgba(148,163,184,0.2)' }, ticks: { stroke: 'rgba(148,163,184,0.4)' }, font: '13px system-ui, sans-serif' }
    : { stroke: '#6b7280', grid: { stroke: '#f3f4f6' }, ticks: { stroke: '#e5e7eb' } };
  return new uPlot({
    width: Math.max(260, box.clientWidth || 480),
    height,
    tzDate: (ts) => new Date(ts * 1000),
    legend: { show: true, live: false },
    cursor: { show: false },
    scales: { y: { range: (_u, _min, max) => [0, Math.max(4, Math.ceil(max * 1.2))] } },
    axes: [
      { ...axis, values: (_u, splits) => splits.map((s) => periodText(s, counts.group_by, format)) },
      { ...axis, size: 44, values: (_u, vals) => vals.map((v) => (Number.isInteger(v) ? v.toLocaleString(format.locale()) : '')) },
    ],
    series: [{}, ...series.map((s, i) => ({
      label: `${groupName(s.key, by, t, format)} ${s.total.toLocaleString(format.locale())}`,
      stroke: by === 'level' && LEVEL_LINE[s.key] ? LEVEL_LINE[s.key] : PALETTE[i % PALETTE.length],
      width: 2,
      points: { show: xs.length <= 40 },
    }))],
  }, [xs, ...series.map((s) => s.counts)], box);
}

// createStats adds the alarm analysis panel to the desktop. deps: t,
// format (alarms.js's formats), onOpen() when it opens.
export function createStats({ t, format, onOpen = () => {} }) {
  const st = { open: false, groupBy: 'day', by: 'level', rateBy: 'sensor_kind', counts: null, rates: null, durations: null, error: '', chart: null, seq: 0 };

  const header = document.querySelector('.legend-head');
  const btn = el('button', 'legend-button incident-button stats-button');
  btn.type = 'button';
  btn.id = 'stats-button';
  btn.setAttribute('aria-controls', 'stats-panel');
  btn.setAttribute('aria-expanded', 'false');
  btn.hidden = true;
  (document.getElementById('incident-button') ?? document.getElementById('alarm-button'))?.after(btn) ?? header?.append(btn);

  const panel = el('aside', 'incident-panel stats-panel');
  panel.id = 'stats-panel';
  panel.hidden = true;
  const head = el('header', 'alarm-head');
  const heading = el('h2');
  heading.id = 'stats-title';
  const close = el('button', 'legend-button', '×');
  close.type = 'button';
  close.id = 'stats-close';
  close.addEventListener('click', () => setOpen(false));
  head.append(heading, close);
  panel.setAttribute('aria-labelledby', heading.id);
  const body = el('div', 'alarm-body stats-body');
  const select = (id, values, onChange) => {
    const s = el('select');
    s.id = id;
    s.dataset.values = values.join(',');
    s.addEventListener('change', () => onChange(s.value));
    return s;
  };
  const groupSel = select('stats-group', ['day', 'month', 'year'], (v) => { st.groupBy = v; loadCounts(); });
  const bySel = select('stats-by', ['level', 'domain', 'district'], (v) => { st.by = v; loadCounts(); });
  const rateSel = select('stats-rates-by', ['sensor_kind', 'rule'], (v) => { st.rateBy = v; loadRates(); });
  const labelled = (sel) => {
    const l = el('label', 'incident-filter');
    l.append(el('span'), sel);
    return l;
  };
  const controls = el('div', 'stats-controls');
  const groupLabel = labelled(groupSel);
  const byLabel = labelled(bySel);
  controls.append(groupLabel, byLabel);
  const status = el('p', 'alarm-status');
  status.id = 'stats-status';
  status.setAttribute('aria-live', 'polite');
  const countsHead = el('h3');
  const chartBox = el('div', 'stats-chart');
  chartBox.id = 'stats-chart';
  const ratesHead = el('h3');
  const rateLabel = labelled(rateSel);
  const rates = el('table', 'stats-table');
  rates.id = 'stats-rates';
  const durHead = el('h3');
  const durations = el('table', 'stats-table');
  durations.id = 'stats-durations';
  body.append(controls, status, countsHead, chartBox, ratesHead, rateLabel, rates, durHead, durations);
  panel.append(head, body);
  document.body.append(panel);
  btn.addEventListener('click', () => setOpen(!st.open));

  function setOpen(open) {
    st.open = open;
    panel.hidden = !open;
    btn.setAttribute('aria-expanded', String(open));
    if (open) {
      onOpen();
      load();
    }
    render();
  }

  async function get(url) {
    try {
      return await request(url);
    } catch (err) {
      st.error = stepErrorText(err, t);
      return null;
    }
  }

  async function loadCounts() {
    const seq = ++st.seq;
    const c = await get(`/api/v1/stats/alarms?group_by=${st.groupBy}&by=${st.by}`);
    if (seq !== st.seq) return;
    st.counts = c;
    render();
  }

  async function loadRates() {
    st.rates = await get(`/api/v1/stats/false-alarms?by=${st.rateBy}`);
    render();
  }

  async function load() {
    st.error = '';
    const [, , d] = await Promise.all([loadCounts(), loadRates(), get('/api/v1/stats/durations')]);
    st.durations = d;
    render();
  }

  function fillSelect(sel, prefix, value) {
    sel.replaceChildren(...sel.dataset.values.split(',').map((v) => {
      const o = el('option', '', t(`${prefix}${v}`));
      o.value = v;
      return o;
    }));
    sel.value = value;
  }

  function table(tbl, headKeys, rows) {
    const thead = el('thead');
    const tr = el('tr');
    for (const k of headKeys) tr.append(el('th', '', t(k)));
    thead.append(tr);
    const tbody = el('tbody');
    for (const r of rows) {
      const row = el('tr');
      row.dataset.key = r.key;
      for (const c of r.cells) row.append(el('td', '', c));
      tbody.append(row);
    }
    tbl.replaceChildren(thead, tbody);
  }

  function pct(v) {
    return typeof v === 'number' ? v.toLocaleString(format.locale(), { style: 'percent', maximumFractionDigits: 1 }) : '–';
  }

  function render() {
    btnText();
    heading.textContent = t('statsTitle');
    close.title = t('closePanel');
    close.setAttribute('aria-label', t('closePanel'));
    if (!st.open) return;
    groupLabel.firstChild.textContent = t('statsGroupBy');
    byLabel.firstChild.textContent = t('statsBy');
    rateLabel.firstChild.textContent = t('statsRatesBy');
    fillSelect(groupSel, 'statsGroup_', st.groupBy);
    fillSelect(bySel, 'statsBy_', st.by);
    fillSelect(rateSel, 'statsRatesBy_', st.rateBy);
    status.className = st.error ? 'alarm-status error' : 'alarm-status';
    status.textContent = st.error ? t('statsError') + st.error : st.counts ? '' : t('statsLoading');
    status.hidden = status.textContent === '';
    const n = (v) => Number(v ?? 0).toLocaleString(format.locale());
    countsHead.textContent = t('statsCounts').replace('{n}', n(st.counts?.total));
    st.chart?.destroy();
    st.chart = null;
    if (st.counts) st.chart = drawCounts(chartBox, st.counts, { t, format });
    ratesHead.textContent = t('statsRates');
    const rr = st.rates ? [...(st.rates.rows ?? []), { ...st.rates.total, key: 'all' }] : [];
    table(rates, ['statsRateKey', 'statsRateAlarms', 'statsRateVerified', 'statsRateFalse', 'statsRateRate'], rr.map((r) => ({
      key: r.key, cells: [groupName(r.key, st.rateBy, t, format), n(r.alarms), n(r.verified), n(r.false), pct(r.rate)],
    })));
    durHead.textContent = t('statsDurations');
    const tot = st.durations?.total;
    table(durations, ['statsStep', 'statsCount', 'statsP50', 'statsP90'], tot ? ['verify', 'publish', 'receipt', 'resolve'].map((k) => ({
      key: k, cells: [t(`statsStep_${k}`), n(tot[k]?.count), tot[k]?.count ? durationText(tot[k].p50_s, t) : '–', tot[k]?.count ? durationText(tot[k].p90_s, t) : '–'],
    })) : []);
  }

  function btnText() {
    btn.textContent = t('stats');
    btn.title = t('statsButtonTitle');
  }

  function permissionsChanged() {
    btn.hidden = !can('alarms.read');
    if (btn.hidden && st.open) setOpen(false);
  }

  render();
  return {
    setOpen,
    renderText: render,
    permissionsChanged,
    get isOpen() { return st.open; },
    get counts() { return st.counts; },
    get rates() { return st.rates; },
    get durations() { return st.durations; },
    get chart() { return st.chart; },
  };
}

// createScreenStats draws the last 30 days' alarms by level into box on
// the big screen, asked for again every 10 minutes.
export function createScreenStats({ box, t, format }) {
  const st = { counts: null, chart: null };
  async function load() {
    try {
      st.counts = await request('/api/v1/stats/alarms?group_by=day&by=level', { optional: true, quiet: true });
    } catch {
      // The chart stays as it was.
    }
    draw();
    setTimeout(load, 600e3);
  }
  function draw() {
    st.chart?.destroy();
    st.chart = null;
    if (!st.counts) return;
    st.chart = drawCounts(box, st.counts, { t, format, dark: true, height: Math.max(110, (box.clientHeight || 150) - 40) });
  }
  load();
  return {
    renderText: draw,
    get counts() { return st.counts; },
    get chart() { return st.chart; },
  };
}
