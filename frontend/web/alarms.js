// Alarms on the map: sensors coloured by their state, active alarms as
// blinking icons, a list of the active alarms and an alarm's details with
// its changes, an acknowledgement form and the sensor's curve.
//
//   - Sensors: the sensor style layers of the "onemap" source read the
//     feature-state of each sensor (its MVT id is the sensor id): "level"
//     1 red, 2 orange, 3 yellow; "health" offline grey, fault purple;
//     otherwise their usual colour by domain.
//   - Alarms: a GeoJSON source of the active alarms, drawn at every zoom as
//     an icon (level colour, domain letter) over a halo that blinks, level 1
//     fast and level 3 slowly.
//   - The list (#alarm-list): most severe first, then newest; a row flies to
//     the alarm and opens its details (#alarm-detail).
//   - The details: the alarm's fields and changes (GET /api/v1/alarms/{id}),
//     acknowledgement (POST /api/v1/alarms/{id}/ack, for users with the
//     permission alarms.ack; the server names the user), and the curve of the
//     alarm's metric over 24 h, 7 d or 30 d
//     (GET /api/v1/sensors/{id}/series), drawn with uPlot: the min–max band,
//     the average line and the alarm's start.
//
// The active alarms come from poll(), which asks GET /api/v1/alarms every few
// seconds, or from the live channel (live.js), which stops the polling while
// its socket is open and calls update() with each new list. The sensors'
// colours come from the alarms until the live channel hands over the
// sensors' own states (setSensorStates).
//
// The module's sources and layers ("alarms-*") carry no "onemap:layer"
// metadata, so the legend and the popups ignore them; they are added again
// when a language switch replaces the style.

import uPlot from '/vendor/uplot/uPlot.esm.js';
import { TEXT as IMPACT_TEXT, createImpact } from '/impact.js';
import { apiJSON, can, current, errorText, loginURL } from '/session.js';

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

// Colours of the sensor states (the guide's levels: level 1 is the most severe;
// offline and fault are states, not danger alarms, and look different).
// The three differ in lightness (dark red, orange, light yellow) so that
// they part for colour-blind eyes too, and the map draws each level in its
// own shape besides: level 1 a disc in a double ring, level 2 a disc in a
// ring, level 3 a smaller plain disc.
export const LEVEL_COLORS = { 1: '#b91c1c', 2: '#f97316', 3: '#fde047' };
const OTHER_LEVEL = '#3b82f6'; // a metric with more than three levels
const OFFLINE_COLOR = '#9ca3af';
const FAULT_COLOR = '#9333ea';

// The domains' colours, as the sensor layer draws them.
const DOMAIN_COLORS = {
  gas: '#db2777', water: '#0284c7', drainage: '#92400e',
  heating: '#ea580c', bridge: '#4b5563', tunnel: '#7c3aed',
};

// The letter of a domain on its alarm icon, per language.
const DOMAIN_MARK = {
  zh: { gas: '燃', water: '水', drainage: '排', heating: '热', bridge: '桥', tunnel: '廊' },
  en: { gas: 'G', water: 'W', drainage: 'D', heating: 'H', bridge: 'B', tunnel: 'T' },
};

// How often the active alarms are asked for, in milliseconds.
export const POLL_INTERVAL = 5000;

// The blink period of each level's halo, in milliseconds; the paint changes
// at most every BLINK_TICK ms, so the map stays idle between ticks.
const BLINK_PERIOD = { 1: 600, 2: 1200, 3: 2400 };
const BLINK_TICK = 60;

// The curve's time ranges: length and bucket step.
const RANGES = {
  '24h': { ms: 24 * 3600e3, step: '1m' },
  '7d': { ms: 7 * 24 * 3600e3, step: '10m' },
  '30d': { ms: 30 * 24 * 3600e3, step: '1h' },
};

// The vector source and source layer of the sensors.
const SENSORS = { source: 'onemap', sourceLayer: 'sensor' };

// The alarm icons' sizes in CSS pixels, by level.
const ICON_PX = { 1: 34, 2: 28, 3: 18 };

const SRC = 'alarms';
const LYR = { halo: 'alarms-halo', icon: 'alarms-icon', label: 'alarms-label', selected: 'alarms-selected' };
const META = { 'onemap:alarms': true };

// ackName is who acknowledged an alarm: the user's name, else the login.
export function ackName(ack) {
  return ack?.name || ack?.by || '';
}

export function levelColor(level) {
  return LEVEL_COLORS[level] ?? OTHER_LEVEL;
}

// sortAlarms orders alarms most severe first, then newest first.
export function sortAlarms(alarms) {
  return [...alarms].sort((a, b) => a.level - b.level || Date.parse(b.started) - Date.parse(a.started) || b.id - a.id);
}

// sensorPaint wraps a sensor layer's colour so that feature-state decides
// first: an alarm level, then offline or fault, then the usual colour.
function sensorPaint(base) {
  return [
    'case',
    ['==', ['feature-state', 'level'], 1], LEVEL_COLORS[1],
    ['==', ['feature-state', 'level'], 2], LEVEL_COLORS[2],
    ['==', ['feature-state', 'level'], 3], LEVEL_COLORS[3],
    ['>', ['coalesce', ['feature-state', 'level'], 0], 3], OTHER_LEVEL,
    ['==', ['feature-state', 'health'], 'fault'], FAULT_COLOR,
    ['==', ['feature-state', 'health'], 'offline'], OFFLINE_COLOR,
    base,
  ];
}

// createAlarms adds the alarm panel to the page, wires the button of
// index.html (#alarm-button, #alarm-count) and starts asking for alarms. It
// returns the hooks the page calls: click (true when a map click hit an
// alarm icon) and renderText (after a language switch), and, for tests and
// a later push channel, update, open and the current state.
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
    sensorLevels: new Map(), // sensor id → most severe level of its active alarms
    sensorHealth: new Map(), // sensor id → 'offline' or 'fault', as last seen
    liveSensors: false, // the colours come from setSensorStates, not the alarms
    open: null, // the alarm shown in the details: {id, alarm, sensor, range, ack}
    view: 'list', // 'list' or 'detail'
    panelOpen: false,
    chart: null, // the uPlot of the details
    chartSeq: 0,
    detailSeq: 0,
  };

  const button = document.getElementById('alarm-button');
  const count = document.getElementById('alarm-count');
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
    if (!open) {
      st.open = null;
      st.view = 'list';
      impact.clear();
      destroyChart();
      drawSelected();
    }
    renderPanel();
  }

  function showList() {
    st.view = 'list';
    st.open = null;
    impact.clear();
    destroyChart();
    drawSelected();
    renderPanel();
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
    if (!st.liveSensors) {
      const levels = new Map();
      for (const a of st.alarms) {
        const l = levels.get(a.sensor);
        if (l === undefined || a.level < l) levels.set(a.sensor, a.level);
      }
      applySensorLevels(levels);
    }
    drawAlarms();
    renderCount();
    if (st.open) refreshOpen();
    renderPanel();
  }

  // ------------------------------------------------------ sensor colours

  function sourceReady() {
    return Boolean(map.getSource(SENSORS.source));
  }

  // applySensorLevels sets feature-state "level" on the sensors that alarm
  // and removes it from those that stopped.
  function applySensorLevels(levels) {
    const old = st.sensorLevels;
    st.sensorLevels = levels;
    if (!sourceReady()) return; // style.load applies them
    for (const id of old.keys()) {
      if (!levels.has(id)) map.removeFeatureState({ ...SENSORS, id }, 'level');
    }
    for (const [id, level] of levels) {
      if (old.get(id) !== level) map.setFeatureState({ ...SENSORS, id }, { level });
    }
  }

  // setHealth marks a sensor offline or faulty (or clears the mark).
  function setHealth(id, health) {
    const old = st.sensorHealth.get(id);
    if (health === 'offline' || health === 'fault') st.sensorHealth.set(id, health);
    else st.sensorHealth.delete(id);
    const now = st.sensorHealth.get(id);
    if (!sourceReady() || old === now) return;
    if (now) map.setFeatureState({ ...SENSORS, id }, { health: now });
    else map.removeFeatureState({ ...SENSORS, id }, 'health');
  }

  // setSensorStates hands the sensors' colours to the caller (the live
  // channel), which knows each sensor's own state: levels and health are
  // sensor id → most severe level (1 first) and sensor id → 'offline' or
  // 'fault'. With replace, sensors not named lose their marks (a snapshot);
  // without, only the named ones change (a delta), and a level of 0 or a
  // health of 'online' clears the mark.
  function setSensorStates(levels, health, { replace = false } = {}) {
    st.liveSensors = true;
    const nextLevels = replace ? new Map() : new Map(st.sensorLevels);
    for (const [id, level] of levels) {
      if (level > 0) nextLevels.set(id, level);
      else nextLevels.delete(id);
    }
    applySensorLevels(nextLevels);
    if (replace) {
      for (const id of [...st.sensorHealth.keys()]) if (!health.has(id)) setHealth(id, 'online');
    }
    for (const [id, h] of health) setHealth(id, h);
  }

  // sensorLayers are the ids of the style's circle layers of sensors.
  function sensorLayers() {
    return map.getLayersOrder().filter((id) => {
      const l = map.getLayer(id);
      return l && l.type === 'circle' && l.source === SENSORS.source && l.sourceLayer === SENSORS.sourceLayer;
    });
  }

  // styleSensors makes every sensor style layer read the feature-state,
  // once per style.
  function styleSensors() {
    let changed = false;
    for (const id of sensorLayers()) {
      const base = map.getPaintProperty(id, 'circle-color') ?? '#10b981';
      if (JSON.stringify(base).includes('feature-state')) continue;
      const alarming = ['>', ['coalesce', ['feature-state', 'level'], 0], 0];
      map.setPaintProperty(id, 'circle-color', sensorPaint(base));
      map.setPaintProperty(id, 'circle-stroke-color', ['case', alarming, '#111827', map.getPaintProperty(id, 'circle-stroke-color') ?? '#ffffff']);
      map.setPaintProperty(id, 'circle-stroke-width', ['case', alarming, 2, map.getPaintProperty(id, 'circle-stroke-width') ?? 1.2]);
      changed = true;
    }
    if (!changed || !sourceReady()) return;
    for (const [id, level] of st.sensorLevels) map.setFeatureState({ ...SENSORS, id }, { level });
    for (const [id, health] of st.sensorHealth) map.setFeatureState({ ...SENSORS, id }, { health });
  }

  // ------------------------------------------------------ icons on the map

  function alarmFeatures() {
    return {
      type: 'FeatureCollection',
      features: st.alarms.map((a) => ({
        type: 'Feature',
        id: a.id,
        geometry: { type: 'Point', coordinates: a.location },
        properties: {
          id: a.id, level: a.level, domain: a.domain, code: a.sensor_code,
          icon: `alarm-${lang()}-${a.domain}-${a.level}`,
          // The most severe alarms are drawn on top.
          order: -a.level,
        },
      })),
    };
  }

  function selectedFilter() {
    return ['==', ['get', 'id'], st.open ? st.open.id : -1];
  }

  // addLayers puts the alarm source and layers on top of the style.
  function addLayers() {
    if (map.getSource(SRC)) return;
    map.addSource(SRC, { type: 'geojson', data: alarmFeatures() });
    // Everything here is sized in screen pixels, the same at every zoom:
    // the halo just outside the icon, never a block wide.
    map.addLayer({
      id: LYR.halo, type: 'circle', source: SRC, metadata: META,
      paint: {
        'circle-color': ['match', ['get', 'level'], 1, LEVEL_COLORS[1], 2, LEVEL_COLORS[2], 3, LEVEL_COLORS[3], OTHER_LEVEL],
        'circle-radius': ['match', ['get', 'level'], 1, ICON_PX[1] / 2 + 5, 2, ICON_PX[2] / 2 + 4, ICON_PX[3] / 2 + 3],
        'circle-opacity': 0.4,
        'circle-opacity-transition': { duration: 0, delay: 0 },
        'circle-radius-transition': { duration: 0, delay: 0 },
        'circle-blur': 0.5,
      },
    });
    map.addLayer({
      id: LYR.selected, type: 'circle', source: SRC, metadata: META, filter: selectedFilter(),
      paint: { 'circle-radius': ICON_PX[1] / 2 + 3, 'circle-color': 'rgba(0,0,0,0)', 'circle-stroke-color': '#1d4ed8', 'circle-stroke-width': 3 },
    });
    map.addLayer({
      id: LYR.icon, type: 'symbol', source: SRC, metadata: META,
      layout: {
        'icon-image': ['get', 'icon'],
        'icon-size': 1,
        'icon-allow-overlap': true,
        'icon-ignore-placement': true,
        'symbol-sort-key': ['get', 'order'],
      },
      paint: { 'icon-opacity-transition': { duration: 0, delay: 0 } },
    });
    map.addLayer({
      id: LYR.label, type: 'symbol', source: SRC, metadata: META, minzoom: 15,
      layout: {
        'text-field': ['get', 'code'],
        'text-font': ['Go Regular'],
        'text-size': 11,
        'text-offset': [0, 1.6],
        'text-anchor': 'top',
        'text-optional': true,
      },
      paint: { 'text-color': '#111827', 'text-halo-color': '#ffffff', 'text-halo-width': 1.5 },
    });
  }

  function drawAlarms() {
    const src = map.getSource(SRC);
    if (src) src.setData(alarmFeatures());
    blink();
  }

  function drawSelected() {
    if (map.getLayer(LYR.selected)) map.setFilter(LYR.selected, selectedFilter());
  }

  // alarmIcon draws an icon, shaped by level besides its colour: a disc of
  // the level's colour with the domain's letter, edged in the domain's
  // colour; level 1 inside a double dark ring, level 2 inside one ring,
  // level 3 smaller and plain.
  function alarmIcon(id) {
    const [, lg, domain, levelText] = id.split('-');
    const level = Number(levelText);
    const ratio = 2;
    const px = (ICON_PX[level] ?? ICON_PX[3]) * ratio;
    const rings = { 1: 2, 2: 1 }[level] ?? 0;
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = px;
    const ctx = canvas.getContext('2d');
    const c = px / 2;
    // The rings, outermost first: white, the level's ink, white, ...
    let r = c - 0.5 * ratio;
    for (let i = 0; i < rings; i++) {
      ctx.beginPath();
      ctx.arc(c, c, r - 1.25 * ratio, 0, 2 * Math.PI);
      ctx.lineWidth = 2.5 * ratio;
      ctx.strokeStyle = '#ffffff';
      ctx.stroke();
      ctx.beginPath();
      ctx.arc(c, c, r - 1.25 * ratio, 0, 2 * Math.PI);
      ctx.lineWidth = 1.5 * ratio;
      ctx.strokeStyle = '#111827';
      ctx.stroke();
      r -= 3 * ratio;
    }
    ctx.beginPath();
    ctx.arc(c, c, r - 1.5 * ratio, 0, 2 * Math.PI);
    ctx.fillStyle = levelColor(level);
    ctx.fill();
    ctx.lineWidth = 2.5 * ratio;
    ctx.strokeStyle = DOMAIN_COLORS[domain] ?? '#111827';
    ctx.stroke();
    ctx.beginPath();
    ctx.arc(c, c, r - 0.25 * ratio, 0, 2 * Math.PI);
    ctx.lineWidth = 0.75 * ratio;
    ctx.strokeStyle = '#ffffff';
    ctx.stroke();
    ctx.fillStyle = level === 3 ? '#111827' : '#ffffff';
    ctx.font = `bold ${(level === 3 ? 10 : 12) * ratio}px system-ui, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif`;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    const mark = DOMAIN_MARK[lg]?.[domain] ?? (domain || '?').charAt(0).toUpperCase();
    ctx.fillText(mark, c, c + ratio);
    return { image: ctx.getImageData(0, 0, px, px), ratio };
  }

  map.on('styleimagemissing', (e) => {
    if (!e.id.startsWith('alarm-') || map.hasImage(e.id)) return;
    const { image, ratio } = alarmIcon(e.id);
    map.addImage(e.id, image, { pixelRatio: ratio });
  });

  // The halos blink: their opacity follows a cosine of each level's period.
  // A timer, not every animation frame, so that the map is idle between
  // ticks; it runs only while there are alarms.
  let blinkTimer = 0;
  function blink() {
    if (st.alarms.length === 0 || !map.getLayer(LYR.halo)) {
      clearInterval(blinkTimer);
      blinkTimer = 0;
      return;
    }
    if (blinkTimer) return;
    blinkTimer = setInterval(() => {
      if (!map.getLayer(LYR.halo)) return;
      if (document.hidden) return;
      const now = performance.now();
      const phase = (level) => 0.5 + 0.5 * Math.cos((2 * Math.PI * now) / BLINK_PERIOD[level]);
      const halo = ['match', ['get', 'level'], 1, 0.1 + 0.7 * phase(1), 2, 0.1 + 0.6 * phase(2), 0.1 + 0.5 * phase(3)];
      const icon = ['match', ['get', 'level'], 1, 0.55 + 0.45 * phase(1), 2, 0.7 + 0.3 * phase(2), 0.8 + 0.2 * phase(3)];
      map.setPaintProperty(LYR.halo, 'circle-opacity', halo);
      map.setPaintProperty(LYR.icon, 'icon-opacity', icon);
    }, BLINK_TICK);
  }

  // Each style (first load, language switch, which diffs the style and so
  // drops what the page added): colour the sensors, add the alarm layers
  // again. styledata comes often; both steps do nothing when already done.
  function restyle() {
    if (map.getLayersOrder().length === 0) return;
    try {
      styleSensors();
      if (!map.getSource(SRC)) {
        addLayers();
        drawSelected();
        clearInterval(blinkTimer);
        blinkTimer = 0;
        blink();
      }
    } catch (err) {
      // The new style is not ready yet; its next styledata event comes.
    }
  }
  map.on('style.load', restyle);
  map.on('styledata', restyle);

  // click opens the details of an alarm icon under the pointer.
  function click(e) {
    if (!map.getLayer(LYR.icon)) return false;
    const r = 10;
    const hits = map.queryRenderedFeatures(
      [[e.point.x - r, e.point.y - r], [e.point.x + r, e.point.y + r]],
      { layers: [LYR.icon] });
    if (hits.length === 0) return false;
    const id = Number(hits[0].properties.id);
    closePopup();
    setPanel(true);
    open(id, { fly: false });
    return true;
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
    st.open = { id, alarm: known, sensor: null, range: st.open?.id === id ? st.open.range : '24h', ack: '' };
    st.view = 'detail';
    if (!st.panelOpen) setPanel(true);
    drawSelected();
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
      if (first || !st.chart) loadChart();
      const sensor = await apiJSON(`/api/v1/sensors/${alarm.sensor}`).catch(() => null);
      if (!sensor || seq !== st.detailSeq || st.open !== o) return;
      o.sensor = sensor;
      const health = (o.sensor.state ?? []).find((s) => s.metric === alarm.metric)?.health;
      setHealth(alarm.sensor, health);
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
  let chartBox = null;
  let chartStatus = null;
  let chartTitle = null;
  let rangeButtons = new Map();

  function renderDetail() {
    destroyChart();
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

    // The curve.
    const tools = document.createElement('div');
    tools.className = 'alarm-chart-tools';
    chartTitle = document.createElement('span');
    chartTitle.className = 'alarm-chart-title';
    tools.append(chartTitle);
    rangeButtons = new Map();
    for (const r of Object.keys(RANGES)) {
      const b = document.createElement('button');
      b.type = 'button';
      b.id = `alarm-range-${r}`;
      b.className = 'alarm-range';
      b.textContent = t(`range_${r}`);
      b.addEventListener('click', () => {
        if (!st.open || st.open.range === r) return;
        st.open.range = r;
        loadChart();
      });
      rangeButtons.set(r, b);
      tools.append(b);
    }
    chartBox = document.createElement('div');
    chartBox.id = 'alarm-chart';
    chartBox.className = 'alarm-chart';
    chartStatus = document.createElement('p');
    chartStatus.className = 'alarm-chart-status';
    detail.append(tools, chartBox, chartStatus);

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
    if (chartTitle) {
      chartTitle.textContent = (a.unit ? t('alarmChart') : t('alarmChartNoUnit'))
        .replace('{metric}', metricTitle(a.metric)).replace('{unit}', a.unit);
    }
    for (const [r, b] of rangeButtons) b.setAttribute('aria-pressed', String(r === o.range));

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

  // --------------------------------------------------------------- curve

  function destroyChart() {
    st.chart?.destroy();
    st.chart = null;
  }

  // loadChart fetches the curve of the open alarm's metric for the chosen
  // range and draws it.
  async function loadChart() {
    const o = st.open;
    if (!o?.alarm || !chartBox) return;
    const a = o.alarm;
    const range = RANGES[o.range];
    for (const [r, b] of rangeButtons) b.setAttribute('aria-pressed', String(r === o.range));
    const seq = ++st.chartSeq;
    chartStatus.className = 'alarm-chart-status';
    chartStatus.textContent = t('chartLoading');
    chartStatus.hidden = false;
    const to = new Date(Math.max(Date.now(), Date.parse(a.updated) || 0) + 60e3);
    const from = new Date(to.getTime() - range.ms);
    const q = new URLSearchParams({ metric: a.metric, from: rfc3339(from), to: rfc3339(to), step: range.step });
    try {
      const series = await apiJSON(`/api/v1/sensors/${a.sensor}/series?${q}`);
      if (seq !== st.chartSeq || st.open !== o) return;
      drawChart(series, a);
      chartStatus.textContent = series.buckets?.length ? '' : t('chartEmpty');
      chartStatus.hidden = chartStatus.textContent === '';
    } catch (err) {
      if (seq !== st.chartSeq || st.open !== o) return;
      chartStatus.className = 'alarm-chart-status error';
      chartStatus.textContent = t('chartError') + errorText(err, t);
    }
  }

  // chartData turns buckets into uPlot's columns (seconds, min, max, avg),
  // with a gap wherever more than one step has no data.
  function chartData(series) {
    const xs = [], mins = [], maxs = [], avgs = [];
    const step = series.step_s || 60;
    let prev = null;
    for (const b of series.buckets ?? []) {
      const x = Date.parse(b.t) / 1000;
      if (prev !== null && x - prev > 1.5 * step) {
        xs.push(prev + step);
        mins.push(null);
        maxs.push(null);
        avgs.push(null);
      }
      xs.push(x);
      mins.push(b.min);
      maxs.push(b.max);
      avgs.push(b.avg);
      prev = x;
    }
    return [xs, mins, maxs, avgs];
  }

  function drawChart(series, a) {
    destroyChart();
    const data = chartData(series);
    const start = Date.parse(a.started) / 1000;
    const from = Date.parse(series.from) / 1000;
    const to = Date.parse(series.to) / 1000;
    const fmt = (_u, v) => (v === null || v === undefined ? '–' : number(v));
    const width = Math.max(240, chartBox.clientWidth || 320);
    const opts = {
      width,
      height: 180,
      tzDate: (ts) => new Date(ts * 1000),
      cursor: { drag: { x: true, y: false } },
      legend: { show: true, live: true },
      scales: {
        x: {
          time: true,
          // The data and the alarm's start, within the asked range.
          range: (_u, min, max) => {
            let lo = Number.isFinite(min) ? Math.min(min, start) : start - 3600;
            let hi = Number.isFinite(max) ? Math.max(max, start) : to;
            lo = Math.max(lo, from);
            hi = Math.min(Math.max(hi, lo + 60), to);
            return [lo, hi];
          },
        },
      },
      axes: [
        { stroke: '#6b7280', grid: { stroke: '#f3f4f6' }, ticks: { stroke: '#e5e7eb' }, values: timeTicks },
        { stroke: '#6b7280', grid: { stroke: '#f3f4f6' }, ticks: { stroke: '#e5e7eb' }, size: 56, values: (_u, vals) => vals.map((v) => number(v)) },
      ],
      series: [
        { value: (_u, v) => (v === null ? '–' : dateTime(new Date(v * 1000).toISOString())) },
        { label: t('chartMin'), stroke: 'rgba(37, 99, 235, 0.45)', width: 1, value: fmt },
        { label: t('chartMax'), stroke: 'rgba(37, 99, 235, 0.45)', width: 1, value: fmt },
        { label: t('chartAvg'), stroke: '#1d4ed8', width: 2, value: fmt },
      ],
      bands: [{ series: [2, 1], fill: 'rgba(37, 99, 235, 0.15)' }],
      hooks: {
        // The alarm's start: a dashed line in the level's colour.
        draw: [(u) => {
          const x = u.valToPos(start, 'x', true);
          const { left, top, width: w, height: h } = u.bbox;
          if (!(x >= left && x <= left + w)) return;
          const ctx = u.ctx;
          ctx.save();
          ctx.strokeStyle = levelColor(a.max_level || a.level);
          ctx.lineWidth = 2 * devicePixelRatio;
          ctx.setLineDash([5 * devicePixelRatio, 4 * devicePixelRatio]);
          ctx.beginPath();
          ctx.moveTo(x, top);
          ctx.lineTo(x, top + h);
          ctx.stroke();
          ctx.setLineDash([]);
          ctx.fillStyle = '#b91c1c';
          ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
          const label = t('chartStart');
          const tw = ctx.measureText(label).width;
          ctx.textBaseline = 'top';
          ctx.fillText(label, x + tw + 6 * devicePixelRatio > left + w ? x - tw - 4 * devicePixelRatio : x + 4 * devicePixelRatio, top + 2 * devicePixelRatio);
          ctx.restore();
        }],
      },
    };
    st.chart = new uPlot(opts, data, chartBox);
    st.chart.root.dataset.points = String(series.buckets?.length ?? 0);
  }

  // timeTicks labels the time axis in the page's language, on a 24-hour
  // clock: times within two days, dates beyond.
  function timeTicks(u, splits) {
    const span = (u.scales.x.max ?? 0) - (u.scales.x.min ?? 0);
    const opts = span > 2 * 86400
      ? { month: '2-digit', day: '2-digit' }
      : { hour: '2-digit', minute: '2-digit', hour12: false };
    return splits.map((s) => new Date(s * 1000).toLocaleString(locale(), opts));
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

  function locale() {
    return lang() === 'en' ? 'en' : 'zh-CN';
  }

  function number(v) {
    if (typeof v !== 'number' || !Number.isFinite(v)) return '–';
    const digits = Math.abs(v) >= 100 ? 1 : Math.abs(v) >= 1 ? 2 : 3;
    return v.toLocaleString(locale(), { maximumFractionDigits: digits });
  }

  function withUnit(v, unit) {
    return unit ? `${number(v)} ${unit}` : number(v);
  }

  function dateTime(s) {
    const d = new Date(s);
    if (Number.isNaN(d.getTime())) return '';
    return d.toLocaleString(locale(), { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
  }

  // relative says how long ago a time was: "3 分钟前", "3 minutes ago".
  function relative(s) {
    const secs = (Date.now() - Date.parse(s)) / 1000;
    if (!Number.isFinite(secs)) return '';
    if (secs < 45) return t('alarmJustNow');
    const rtf = new Intl.RelativeTimeFormat(locale(), { numeric: 'auto' });
    if (secs < 3600) return rtf.format(-Math.max(1, Math.round(secs / 60)), 'minute');
    if (secs < 86400) return rtf.format(-Math.round(secs / 3600), 'hour');
    return rtf.format(-Math.round(secs / 86400), 'day');
  }

  function domainTitle(d) {
    const s = t(`domain_${d}`);
    return s === `domain_${d}` ? d : s;
  }

  function metricTitle(m) {
    const s = t(`metric_${m}`);
    return s === `metric_${m}` ? m : s;
  }

  function rfc3339(d) {
    return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  // renderText puts the current language into the button and the panel.
  function renderText() {
    if (button) button.title = t('alarmsButtonTitle');
    drawAlarms(); // the icons carry the domain's letter in the language
    renderPanel();
    if (st.view === 'detail' && st.open?.alarm) {
      const range = st.open.range;
      renderDetail();
      st.open.range = range;
      loadChart();
    }
  }

  poll();
  return {
    click,
    renderText,
    update,
    poll,
    setPolling,
    get polling() { return polling; },
    open,
    ack,
    setHealth,
    setSensorStates,
    setPanel,
    permissionsChanged,
    // The formats of the list, for the ticker and the other views.
    format: { levelColor, domainTitle, metricTitle, withUnit, number, dateTime, relative, locale },
    get alarms() { return st.alarms; },
    get sensorLevels() { return st.sensorLevels; },
    get chart() { return st.chart; },
    get openAlarm() { return st.open?.alarm ?? null; },
    impact,
  };
}
