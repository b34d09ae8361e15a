// Alarms in the page: a list of the active alarms and an alarm's details
// with its changes, an acknowledgement form and the sensor's curve; the map
// draws them (alarm-map.js).
//
//   - The list (#alarm-list): most severe first, then newest; a row flies to
//     the alarm and opens its details (#alarm-detail).
//   - The details: the alarm's fields and changes (GET /api/v1/alarms/{id}),
//     acknowledgement (POST /api/v1/alarms/{id}/ack, for users with the
//     permission alarms.ack; the server names the user), the curve of the
//     alarm's metric (alarm-chart.js) and its impact (impact.js).
//
// The active alarms come from poll(), which asks GET /api/v1/alarms every few
// seconds, or from the live channel (live.js), which stops the polling while
// its socket is open and calls update() with each new list. The sensors'
// colours come from the alarms until the live channel hands over the
// sensors' own states (setSensorStates).

import { TEXT as IMPACT_TEXT, createImpact } from '/impact.js';
import { apiJSON, can, current, errorText, loginURL } from '/session.js';
import { createAlarmChart } from './alarm-chart.js';
import { createAlarmMap } from './alarm-map.js';
import { createFormat } from './format.js';
import { FAULT_COLOR, LEVEL_COLORS, OFFLINE_COLOR, ackName, levelColor, sensorLevels, sortAlarms } from './levels.js';

// UI text in both languages, merged into the page's TEXT table.
export const TEXT = {
  zh: {
    alarms: '报警',
    alarmsTitle: '当前报警',
    alarmsButtonTitle: '显示或隐藏报警列表',
    alarmsNone: '当前没有报警',
    alarmsLoading: '正在加载报警…',
    alarmsError: '报警加载失败：',
    alarmsBack: '返回列表',
    alarmLevel: '{n} 级',
    alarmKeyOffline: '离线',
    alarmKeyFault: '故障',
    alarmKeyNormal: '正常',
    alarmAcked: '已确认',
    alarmNotAcked: '未确认',
    alarmJustNow: '刚刚',
    alarmDetailLoading: '正在加载详情…',
    alarmDetailError: '详情加载失败：',
    alarmField_id: '报警编号',
    alarmField_level: '级别',
    alarmField_max_level: '最高级别',
    alarmField_state: '状态',
    alarmField_domain: '专项',
    alarmField_metric: '监测指标',
    alarmField_sensor: '传感器',
    alarmField_asset: '所属设施',
    alarmField_district: '街道',
    alarmField_location: '位置',
    alarmField_first: '首次值',
    alarmField_last: '最新值',
    alarmField_peak: '峰值',
    alarmField_started: '开始时间',
    alarmField_updated: '更新时间',
    alarmField_cleared: '解除时间',
    alarmField_incident: '事件',
    alarmField_health: '传感器状态',
    alarmState_active: '报警中',
    alarmState_cleared: '已解除',
    health_online: '在线',
    health_offline: '离线',
    health_fault: '故障',
    alarmChanges: '变化记录',
    change_raised: '报警',
    change_escalated: '升级',
    'change_de-escalated': '降级',
    change_cleared: '解除',
    alarmAck: '确认报警',
    alarmAckNote: '备注',
    alarmAckSubmit: '确认',
    alarmAckSending: '正在提交…',
    alarmAckDone: '{by} 于 {at} 确认',
    alarmAckError: '确认失败：',
    alarmAckLogin: '登录后可确认报警',
    alarmAckLoginLink: '登录',
    alarmAckNoRight: '当前账号无确认报警的权限（需值班员）',
    alarmChart: '{metric}曲线（{unit}）',
    alarmChartNoUnit: '{metric}曲线',
    range_24h: '24 小时',
    range_7d: '7 天',
    range_30d: '30 天',
    chartTime: '时间',
    chartMin: '最小',
    chartMax: '最大',
    chartAvg: '平均',
    chartStart: '报警开始',
    chartLoading: '正在加载曲线…',
    chartEmpty: '该时段没有数据',
    chartError: '曲线加载失败：',
    domain_gas: '燃气', domain_water: '供水', domain_drainage: '排水',
    domain_heating: '供热', domain_bridge: '桥梁', domain_tunnel: '综合管廊',
    metric_acceleration: '加速度', metric_battery: '电池电量', metric_cable_force: '索力',
    metric_ch4_lel: '可燃气体浓度', metric_ch4_vol: '甲烷浓度', metric_crack_width: '裂缝宽度',
    metric_deflection: '挠度', metric_displacement: '位移', metric_flow: '流量',
    metric_h2s: '硫化氢', metric_humidity: '相对湿度', metric_leak_noise: '漏水噪声',
    metric_leak_scan: '激光甲烷扫描', metric_level: '液位', metric_o2: '氧气',
    metric_pressure: '压力', metric_rainfall: '雨强', metric_river_level: '河道水位（超警戒）',
    metric_strain: '应变', metric_temperature: '温度', metric_tilt: '倾角',
    metric_vehicle_weight: '车辆总重', metric_vibration: '管线上方振动', metric_water_depth: '路面积水深度',
    metric_wind_speed: '风速',
    ...IMPACT_TEXT.zh,
  },
  en: {
    ...IMPACT_TEXT.en,
    alarms: 'Alarms',
    alarmsTitle: 'Active alarms',
    alarmsButtonTitle: 'Show or hide the alarm list',
    alarmsNone: 'No active alarms',
    alarmsLoading: 'Loading alarms…',
    alarmsError: 'Could not load the alarms: ',
    alarmsBack: 'Back to the list',
    alarmLevel: 'Level {n}',
    alarmKeyOffline: 'Offline',
    alarmKeyFault: 'Fault',
    alarmKeyNormal: 'Normal',
    alarmAcked: 'Acknowledged',
    alarmNotAcked: 'Not acknowledged',
    alarmJustNow: 'just now',
    alarmDetailLoading: 'Loading the details…',
    alarmDetailError: 'Could not load the details: ',
    alarmField_id: 'Alarm',
    alarmField_level: 'Level',
    alarmField_max_level: 'Highest level',
    alarmField_state: 'State',
    alarmField_domain: 'Domain',
    alarmField_metric: 'Metric',
    alarmField_sensor: 'Sensor',
    alarmField_asset: 'Asset',
    alarmField_district: 'District',
    alarmField_location: 'Location',
    alarmField_first: 'First value',
    alarmField_last: 'Latest value',
    alarmField_peak: 'Peak',
    alarmField_started: 'Started',
    alarmField_updated: 'Updated',
    alarmField_cleared: 'Cleared',
    alarmField_incident: 'Incident',
    alarmField_health: 'Sensor state',
    alarmState_active: 'Active',
    alarmState_cleared: 'Cleared',
    health_online: 'Online',
    health_offline: 'Offline',
    health_fault: 'Fault',
    alarmChanges: 'Changes',
    change_raised: 'Raised',
    change_escalated: 'Escalated',
    'change_de-escalated': 'De-escalated',
    change_cleared: 'Cleared',
    alarmAck: 'Acknowledge',
    alarmAckNote: 'Note',
    alarmAckSubmit: 'Acknowledge',
    alarmAckSending: 'Sending…',
    alarmAckDone: 'Acknowledged by {by} at {at}',
    alarmAckError: 'Could not acknowledge: ',
    alarmAckLogin: 'Log in to acknowledge the alarm',
    alarmAckLoginLink: 'Log in',
    alarmAckNoRight: 'Your account may not acknowledge alarms (an operator may)',
    alarmChart: '{metric} ({unit})',
    alarmChartNoUnit: '{metric}',
    range_24h: '24 h',
    range_7d: '7 d',
    range_30d: '30 d',
    chartTime: 'Time',
    chartMin: 'Min',
    chartMax: 'Max',
    chartAvg: 'Avg',
    chartStart: 'Alarm start',
    chartLoading: 'Loading the curve…',
    chartEmpty: 'No data in this period',
    chartError: 'Could not load the curve: ',
    domain_gas: 'Gas', domain_water: 'Water', domain_drainage: 'Drainage',
    domain_heating: 'Heating', domain_bridge: 'Bridge', domain_tunnel: 'Utility tunnel',
    metric_acceleration: 'Acceleration', metric_battery: 'Battery', metric_cable_force: 'Cable force',
    metric_ch4_lel: 'Combustible gas', metric_ch4_vol: 'Methane', metric_crack_width: 'Crack width',
    metric_deflection: 'Deflection', metric_displacement: 'Displacement', metric_flow: 'Flow',
    metric_h2s: 'Hydrogen sulphide', metric_humidity: 'Humidity', metric_leak_noise: 'Leak noise',
    metric_leak_scan: 'Methane leak scan', metric_level: 'Water level', metric_o2: 'Oxygen',
    metric_pressure: 'Pressure', metric_rainfall: 'Rainfall', metric_river_level: 'River level over warning',
    metric_strain: 'Strain', metric_temperature: 'Temperature', metric_tilt: 'Tilt',
    metric_vehicle_weight: 'Vehicle weight', metric_vibration: 'Vibration over a pipe',
    metric_water_depth: 'Waterlogging depth', metric_wind_speed: 'Wind speed',
  },
};

// How often the active alarms are asked for, in milliseconds.
export const POLL_INTERVAL = 5000;

// createAlarms adds the alarm panel to the page, wires the button of
// index.html (#alarm-button, #alarm-count) and starts asking for alarms. It
// returns the hooks the page calls: click (true when a map click hit an
// alarm icon) and renderText (after a language switch), and, for tests and
// the live channel, update, open and the current state.
//
// deps: map, t (the page's text helper), lang (the page's language),
// layerTitle (a catalog layer id's title), closePopup, incidentSection(alarm)
// (optional: the part of the details about the alarm's incident,
// incident.js).
export function createAlarms({ map, t, lang, layerTitle, closePopup, incidentSection = null }) {
  const st = {
    alarms: [], // the active alarms, sorted
    loaded: false, // the first answer came
    error: '', // the last poll's error, if any
    liveSensors: false, // the colours come from setSensorStates, not the alarms
    open: null, // the alarm shown in the details: {id, alarm, sensor, error}
    view: 'list', // 'list' or 'detail'
    panelOpen: false,
    detailSeq: 0,
  };

  const format = createFormat({ t, lang });
  const { domainTitle, metricTitle, withUnit, dateTime, relative } = format;
  const button = document.getElementById('alarm-button');
  const count = document.getElementById('alarm-count');
  const drawn = createAlarmMap({
    map, lang,
    onPick: (id) => {
      closePopup();
      setPanel(true);
      open(id, { fly: false });
    },
  });
  const chart = createAlarmChart({ t, format });
  // The impact view of the open alarm (impact.js).
  const impact = createImpact({ map, t, lang, flyTo: (where) => flyTo(where) });

  // --------------------------------------------------------------- panel

  const panel = document.createElement('aside');
  panel.id = 'alarm-panel';
  panel.className = 'alarm-panel';
  panel.hidden = true;
  const head = document.createElement('header');
  head.className = 'alarm-head';
  const back = document.createElement('button');
  back.type = 'button';
  back.id = 'alarm-back';
  back.className = 'legend-button';
  back.textContent = '‹';
  back.addEventListener('click', () => showList());
  const heading = document.createElement('h2');
  heading.id = 'alarm-title';
  const close = document.createElement('button');
  close.type = 'button';
  close.className = 'legend-button';
  close.textContent = '×';
  close.addEventListener('click', () => setPanel(false));
  head.append(back, heading, close);
  panel.setAttribute('aria-labelledby', heading.id);

  const body = document.createElement('div');
  body.className = 'alarm-body';
  const listView = document.createElement('div');
  listView.className = 'alarm-list-view';
  const key = document.createElement('p');
  key.className = 'alarm-key';
  const status = document.createElement('p');
  status.className = 'alarm-status';
  status.setAttribute('aria-live', 'polite');
  const list = document.createElement('ul');
  list.id = 'alarm-list';
  list.className = 'alarm-list';
  listView.append(key, status, list);
  const detail = document.createElement('section');
  detail.id = 'alarm-detail';
  detail.className = 'alarm-detail';
  detail.hidden = true;
  body.append(listView, detail);
  panel.append(head, body);
  document.body.append(panel);

  button?.addEventListener('click', () => setPanel(!st.panelOpen));
  document.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape' || !st.panelOpen || !panel.contains(document.activeElement)) return;
    if (st.view === 'detail') showList();
    else setPanel(false);
  });

  function setPanel(open) {
    st.panelOpen = open;
    panel.hidden = !open;
    button?.setAttribute('aria-expanded', String(open));
    if (!open) closeDetail();
    renderPanel();
  }

  function showList() {
    closeDetail();
    renderPanel();
  }

  function closeDetail() {
    st.view = 'list';
    st.open = null;
    impact.clear();
    chart.destroy();
    drawn.select(-1);
  }

  // ------------------------------------------------------------ polling

  // poll asks for the active alarms and hands them to update(), then again
  // after POLL_INTERVAL. It is the only code that knows where the alarms come
  // from; a push channel replaces it by calling update() itself.
  let pollTimer = 0;
  let polling = true;
  let pollSeq = 0;
  async function poll() {
    clearTimeout(pollTimer);
    if (!polling) return;
    const seq = ++pollSeq;
    try {
      const body = await apiJSON('/api/v1/alarms?state=active&limit=10000');
      // An answer that comes after the live channel took over is stale.
      if (!polling || seq !== pollSeq) return;
      st.error = '';
      update(body.alarms ?? []);
    } catch (err) {
      if (!polling || seq !== pollSeq) return;
      st.error = errorText(err, t);
      renderPanel();
    }
    if (polling && seq === pollSeq) pollTimer = setTimeout(poll, POLL_INTERVAL);
  }

  // setPolling starts or stops poll(): the live channel stops it while its
  // socket is open and starts it again when the socket is lost.
  function setPolling(on) {
    if (on === polling) return;
    polling = on;
    clearTimeout(pollTimer);
    pollSeq++;
    if (on) poll();
  }

  // update takes the full list of active alarms: it recolours the sensors,
  // redraws the icons, the count, the list and the open details.
  function update(alarms) {
    st.alarms = sortAlarms(alarms);
    st.loaded = true;
    st.error = '';
    if (!st.liveSensors) drawn.setLevels(sensorLevels(st.alarms));
    drawn.draw(st.alarms);
    renderCount();
    if (st.open) refreshOpen();
    renderPanel();
  }

  // setSensorStates hands the sensors' colours to the caller (the live
  // channel), which knows each sensor's own state (alarm-map.js's
  // setStates).
  function setSensorStates(levels, health, opts) {
    st.liveSensors = true;
    drawn.setStates(levels, health, opts);
  }

  // ------------------------------------------------------------- the list

  function renderCount() {
    if (!count) return;
    count.textContent = String(st.alarms.length);
    count.dataset.level = st.alarms.length ? String(st.alarms[0].level) : '';
    count.style.background = st.alarms.length ? levelColor(st.alarms[0].level) : '';
    count.style.color = st.alarms.length && st.alarms[0].level === 3 ? '#111827' : '';
  }

  function renderKey() {
    key.replaceChildren();
    const entries = [
      [LEVEL_COLORS[1], t('alarmLevel').replace('{n}', '1'), 1],
      [LEVEL_COLORS[2], t('alarmLevel').replace('{n}', '2'), 2],
      [LEVEL_COLORS[3], t('alarmLevel').replace('{n}', '3'), 3],
      [OFFLINE_COLOR, t('alarmKeyOffline')],
      [FAULT_COLOR, t('alarmKeyFault')],
    ];
    for (const [color, text, level] of entries) {
      const item = document.createElement('span');
      item.className = 'alarm-key-item';
      const dot = document.createElement('span');
      dot.className = 'alarm-dot';
      if (level) dot.dataset.level = String(level);
      dot.style.background = color;
      item.append(dot, text);
      key.append(item);
    }
  }

  function renderPanel() {
    heading.textContent = st.view === 'detail' ? t('alarms') : `${t('alarmsTitle')} (${st.alarms.length})`;
    back.hidden = st.view !== 'detail';
    back.title = t('alarmsBack');
    back.setAttribute('aria-label', t('alarmsBack'));
    close.title = t('closePanel');
    close.setAttribute('aria-label', t('closePanel'));
    listView.hidden = st.view !== 'list';
    detail.hidden = st.view !== 'detail';
    panel.dataset.view = st.view;
    if (!st.panelOpen) return;
    if (st.view === 'list') renderList();
  }

  function renderList() {
    renderKey();
    status.className = 'alarm-status';
    if (st.error) {
      status.classList.add('error');
      status.textContent = t('alarmsError') + st.error;
    } else if (!st.loaded) {
      status.textContent = t('alarmsLoading');
    } else if (st.alarms.length === 0) {
      status.textContent = t('alarmsNone');
    } else {
      status.textContent = '';
    }
    status.hidden = status.textContent === '';
    const focused = document.activeElement?.closest?.('.alarm-row')?.dataset.id;
    list.replaceChildren(...st.alarms.map(row));
    if (focused) list.querySelector(`.alarm-row[data-id="${focused}"]`)?.focus();
  }

  function row(a) {
    const li = document.createElement('li');
    li.className = 'alarm-row';
    li.dataset.id = String(a.id);
    li.dataset.level = String(a.level);
    li.tabIndex = 0;
    li.style.borderLeftColor = levelColor(a.level);
    const badge = document.createElement('span');
    badge.className = 'alarm-badge';
    badge.dataset.level = String(a.level);
    badge.style.background = levelColor(a.level);
    badge.textContent = t('alarmLevel').replace('{n}', a.level);
    const what = document.createElement('span');
    what.className = 'alarm-what';
    what.textContent = `${domainTitle(a.domain)} · ${a.sensor_code} · ${metricTitle(a.metric)}`;
    const value = document.createElement('span');
    value.className = 'alarm-value';
    value.textContent = withUnit(a.last_value, a.unit);
    const meta = document.createElement('span');
    meta.className = 'alarm-meta';
    meta.textContent = [a.district, relative(a.started)].filter(Boolean).join(' · ');
    meta.title = dateTime(a.started);
    const ack = document.createElement('span');
    ack.className = `alarm-ack-state ${a.ack ? 'acked' : 'unacked'}`;
    ack.textContent = a.ack ? `✓ ${t('alarmAcked')}` : t('alarmNotAcked');
    if (a.ack) ack.title = `${ackName(a.ack)} · ${dateTime(a.ack.at)}`;
    li.append(badge, what, value, meta, ack);
    const go = () => open(a.id);
    li.addEventListener('click', go);
    li.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && e.target === li) go();
    });
    return li;
  }

  // ---------------------------------------------------------- the details

  // open shows an alarm's details, flying to it unless told not to.
  async function open(id, { fly = true } = {}) {
    const known = st.alarms.find((a) => a.id === id) ?? null;
    st.open = { id, alarm: known, sensor: null, range: st.open?.id === id ? chart.range : '24h' };
    st.view = 'detail';
    if (!st.panelOpen) setPanel(true);
    drawn.select(id);
    if (fly && known) flyTo(known.location);
    renderPanel();
    renderDetail();
    await loadDetail();
  }

  // loadDetail fetches the alarm with its changes and the sensor's state.
  async function loadDetail() {
    const o = st.open;
    if (!o) return;
    const seq = ++st.detailSeq;
    try {
      const alarm = await apiJSON(`/api/v1/alarms/${o.id}`);
      if (seq !== st.detailSeq || st.open !== o) return;
      const first = !o.alarm || !o.alarm.changes;
      o.alarm = alarm;
      o.error = '';
      if (first) renderDetail();
      else renderFields();
      if (first || !chart.chart) chart.load();
      const sensor = await apiJSON(`/api/v1/sensors/${alarm.sensor}`).catch(() => null);
      if (!sensor || seq !== st.detailSeq || st.open !== o) return;
      o.sensor = sensor;
      const health = (o.sensor.state ?? []).find((s) => s.metric === alarm.metric)?.health;
      drawn.setHealth(alarm.sensor, health);
      renderFields();
    } catch (err) {
      if (seq !== st.detailSeq || st.open !== o) return;
      o.error = errorText(err, t);
      if (!o.alarm) renderDetail();
    }
  }

  // refreshOpen keeps the open details in step with the latest poll: new
  // values in place, and the alarm's record again once it has cleared.
  function refreshOpen() {
    const o = st.open;
    const now = st.alarms.find((a) => a.id === o.id);
    if (!o.alarm?.changes) return; // still loading
    if (now) {
      const changed = now.level !== o.alarm.level || now.updated !== o.alarm.updated;
      if (changed || (now.ack && !o.alarm.ack)) loadDetail();
    } else if (o.alarm.state === 'active') {
      loadDetail();
    }
  }

  let fieldsEl = null;
  let ackEl = null;
  let changesEl = null;

  function renderDetail() {
    chart.destroy();
    detail.replaceChildren();
    const o = st.open;
    if (!o) return;
    if (!o.alarm) {
      const p = document.createElement('p');
      p.className = o.error ? 'alarm-status error' : 'alarm-status';
      p.textContent = o.error ? t('alarmDetailError') + o.error : t('alarmDetailLoading');
      detail.append(p);
      return;
    }
    const a = o.alarm;
    detail.dataset.id = String(a.id);

    const h = document.createElement('h3');
    h.className = 'alarm-detail-title';
    const badge = document.createElement('span');
    badge.className = 'alarm-badge';
    badge.id = 'alarm-detail-level';
    h.append(badge, document.createTextNode(` ${domainTitle(a.domain)} · ${a.sensor_code} · ${metricTitle(a.metric)}`));
    detail.append(h);

    detail.append(...chart.section(a, o.range));

    fieldsEl = document.createElement('dl');
    fieldsEl.className = 'alarm-fields';
    ackEl = document.createElement('div');
    ackEl.className = 'alarm-ack';
    const changesHead = document.createElement('h4');
    changesHead.textContent = t('alarmChanges');
    changesEl = document.createElement('ol');
    changesEl.className = 'alarm-changes';
    const inc = incidentSection?.(a);
    detail.append(fieldsEl, ackEl, ...(inc ? [inc] : []), impact.section(a), changesHead, changesEl);
    renderFields();
    renderAck();
  }

  // renderFields fills in what changes while the details are open.
  function renderFields() {
    const o = st.open;
    if (!o?.alarm || !fieldsEl) return;
    const a = o.alarm;
    const badge = document.getElementById('alarm-detail-level');
    if (badge) {
      badge.textContent = a.state === 'cleared' ? t('alarmState_cleared') : t('alarmLevel').replace('{n}', a.level);
      badge.dataset.level = String(a.level);
      badge.style.background = a.state === 'cleared' ? OFFLINE_COLOR : levelColor(a.level);
    }
    chart.show(a);

    fieldsEl.replaceChildren();
    const field = (name, value, title = '') => {
      if (value === undefined || value === null || value === '') return;
      const dt = document.createElement('dt');
      dt.textContent = t(`alarmField_${name}`);
      const dd = document.createElement('dd');
      dd.dataset.field = name;
      dd.textContent = value;
      if (title) dd.title = title;
      fieldsEl.append(dt, dd);
    };
    field('id', `#${a.id}`);
    field('state', t(`alarmState_${a.state}`));
    field('level', t('alarmLevel').replace('{n}', a.level));
    if (a.max_level !== a.level) field('max_level', t('alarmLevel').replace('{n}', a.max_level));
    field('domain', domainTitle(a.domain));
    field('metric', `${metricTitle(a.metric)} (${a.metric})`);
    field('sensor', a.sensor_code, String(a.sensor));
    const health = (o.sensor?.state ?? []).find((s) => s.metric === a.metric)?.health;
    if (health) field('health', t(`health_${health}`));
    field('asset', `${layerTitle(a.asset_layer) || a.asset_layer} #${a.asset}`);
    field('district', a.district);
    field('location', a.location ? `${a.location[0].toFixed(6)}, ${a.location[1].toFixed(6)}` : '');
    field('first', withUnit(a.first_value, a.unit));
    field('last', withUnit(a.last_value, a.unit));
    field('peak', withUnit(a.peak_value, a.unit));
    field('started', `${dateTime(a.started)} (${relative(a.started)})`);
    field('updated', dateTime(a.updated));
    if (a.cleared) field('cleared', dateTime(a.cleared));
    if (a.incident && a.incident !== a.id) field('incident', `#${a.incident}`);

    changesEl.replaceChildren();
    for (const c of [...(a.changes ?? [])].reverse()) {
      const li = document.createElement('li');
      li.className = 'alarm-change';
      const what = document.createElement('span');
      const kind = t(`change_${c.kind}`);
      const lvl = (n) => (n ? t('alarmLevel').replace('{n}', n) : t('alarmKeyNormal'));
      what.textContent = `${kind.startsWith('change_') ? c.kind : kind}: ${lvl(c.from)} → ${lvl(c.to)}, ${withUnit(c.value, a.unit)}`;
      const when = document.createElement('time');
      when.dateTime = c.at;
      when.textContent = dateTime(c.at);
      li.append(what, when);
      changesEl.append(li);
    }
    if (a.ack && !ackEl.querySelector('.alarm-ack-done')) renderAck();
  }

  // renderAck shows who acknowledged the alarm and when; else the form to
  // do it for a user who may (alarms.ack), a link to the login page for an
  // anonymous viewer, or a word that the account may not.
  function renderAck() {
    const o = st.open;
    if (!o?.alarm || !ackEl) return;
    const a = o.alarm;
    ackEl.replaceChildren();
    const h = document.createElement('h4');
    h.textContent = t('alarmAck');
    ackEl.append(h);
    if (a.ack) {
      const p = document.createElement('p');
      p.className = 'alarm-ack-done';
      p.id = 'alarm-ack-done';
      p.textContent = `✓ ${t('alarmAckDone').replace('{by}', ackName(a.ack)).replace('{at}', dateTime(a.ack.at))}`;
      if (a.ack.name && a.ack.by && a.ack.name !== a.ack.by) p.title = a.ack.by;
      ackEl.append(p);
      if (a.ack.note) {
        const note = document.createElement('p');
        note.className = 'alarm-ack-note';
        note.textContent = a.ack.note;
        ackEl.append(note);
      }
      return;
    }
    if (!can('alarms.ack')) {
      const p = document.createElement('p');
      p.className = 'alarm-ack-hint';
      p.id = 'alarm-ack-hint';
      if (current().anonymous) {
        const link = document.createElement('a');
        link.href = loginURL();
        link.textContent = t('alarmAckLoginLink');
        p.append(`${t('alarmAckLogin')} · `, link);
      } else {
        p.textContent = t('alarmAckNoRight');
      }
      ackEl.append(p);
      return;
    }
    const form = document.createElement('form');
    form.id = 'alarm-ack-form';
    form.className = 'alarm-ack-form';
    const note = document.createElement('input');
    note.id = 'alarm-ack-note';
    note.name = 'note';
    // The server takes 2,000 bytes: 600 characters of Chinese.
    note.maxLength = 600;
    note.placeholder = t('alarmAckNote');
    note.setAttribute('aria-label', t('alarmAckNote'));
    const submit = document.createElement('button');
    submit.id = 'alarm-ack-submit';
    submit.type = 'submit';
    submit.className = 'alarm-ack-submit';
    submit.textContent = t('alarmAckSubmit');
    const msg = document.createElement('p');
    msg.className = 'alarm-ack-message';
    msg.id = 'alarm-ack-message';
    msg.setAttribute('aria-live', 'polite');
    form.append(note, submit, msg);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      submit.disabled = true;
      msg.className = 'alarm-ack-message';
      msg.textContent = t('alarmAckSending');
      try {
        const answer = await ack(a.id, note.value.trim());
        if (st.open !== o) return;
        o.alarm = { ...o.alarm, ...answer, changes: answer.changes ?? o.alarm.changes };
        renderAck();
        renderFields();
      } catch (err) {
        submit.disabled = false;
        msg.className = 'alarm-ack-message error';
        msg.textContent = t('alarmAckError') + errorText(err, t);
      }
    });
    ackEl.append(form);
  }

  // ack acknowledges an alarm as the logged-in user (POST
  // /api/v1/alarms/{id}/ack), marks the alarm in the list and returns the
  // server's answer; it throws the server's refusal (an ApiError).
  async function ack(id, note = '') {
    const answer = await apiJSON(`/api/v1/alarms/${id}/ack`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ note }),
    });
    const listed = st.alarms.find((x) => x.id === id);
    if (listed) listed.ack = answer.ack;
    renderPanel();
    return answer;
  }

  // permissionsChanged shows the open alarm's acknowledgement as the new
  // session allows.
  function permissionsChanged() {
    if (st.view === 'detail' && st.open?.alarm && !st.open.alarm.ack) renderAck();
  }

  // ----------------------------------------------------------------- help

  // flyTo centres where in the part of the map the panel leaves free: right
  // of it on a desktop, above it on a phone.
  function flyTo(where) {
    const r = panel.getBoundingClientRect();
    const c = map.getContainer().getBoundingClientRect();
    const sheet = r.width >= c.width - 1;
    // An offset, not padding: MapLibre keeps padding for later moves.
    const offset = panel.hidden ? [0, 0] : sheet
      ? [0, -Math.max(0, c.bottom - r.top) / 2]
      : [Math.max(0, r.right - c.left) / 2, 0];
    map.flyTo({ center: where, zoom: Math.max(map.getZoom(), 16), offset, essential: true });
  }

  // renderText puts the current language into the button and the panel.
  function renderText() {
    if (button) button.title = t('alarmsButtonTitle');
    drawn.draw(); // the icons carry the domain's letter in the language
    renderPanel();
    if (st.view === 'detail' && st.open?.alarm) {
      st.open.range = chart.range;
      renderDetail();
      chart.load();
    }
  }

  poll();
  return {
    renderText,
    update,
    poll,
    setPolling,
    get polling() { return polling; },
    open,
    ack,
    setHealth: drawn.setHealth,
    setSensorStates,
    click: drawn.click,
    setPanel,
    permissionsChanged,
    // The formats of the list, for the ticker and the other views.
    format,
    get alarms() { return st.alarms; },
    get sensorLevels() { return drawn.sensorLevels; },
    get chart() { return chart.chart; },
    get openAlarm() { return st.open?.alarm ?? null; },
    impact,
  };
}
