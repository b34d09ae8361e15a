// The live channel: one WebSocket to GET /ws (docs/websocket.md) that
// pushes the sensors' states, the active alarms and the risk-zone layer's
// version for a region — the map's viewport, or a circle around a phone.
//
//   - Sensors: each sensor's metrics are kept; its colour is the most severe
//     non-zero level over them and "offline" or "fault" when any metric is,
//     handed to alarms.js (setSensorStates), which sets the feature-state
//     the sensor layer reads.
//   - Alarms: the active alarms are kept and handed to alarms.js (update),
//     whose polling stops while the socket is open and starts again while it
//     is lost.
//   - Risk zones: the style draws the live layers (risk_zone) from a source
//     of their own, "onemap-live"; its tile URL gets the layer's version
//     (?v=), so a new version reloads those tiles and no others.
//   - Warnings: the warnings in force ({incident, state, standing, warning,
//     versions}) are kept by incident, one not standing dropped, and handed
//     to onWarnings.
//
// The socket reconnects by itself, 0.5 s after a loss and doubling up to
// 10 s, and resumes from the last seq it saw; it sends {"type":"ping"} when
// the server has been silent for heartbeat_s and reconnects after twice that.
// window.onemap.live holds the state for tests.

import { pageToken } from '/session.js';
import { ROMAN, levelBadge } from '/incident.js';
import { newestAlarms, worstLevel } from '/levels.js';
import { BACKOFF_MIN, nextBackoff, sensorColour, subscribeMessage, watchdog as watch } from '/channel.js';

// The feature-state keys and the sensor source are alarms.js's; the style
// gives the live layers this source (mapstyle.StyleLiveSource).
const RISK_SOURCE = 'onemap-live';

// UI text in both languages, merged into the page's TEXT table: the ticker,
// the connection's state and the big-screen and phone views.
export const TEXT = {
  zh: {
    live_connecting: '正在连接…',
    live_live: '实时',
    live_reconnecting: '连接中断，正在重新连接…',
    tickerTitle: '最新报警',
    tickerEmpty: '当前无报警',
    tickerWarning: '预警',
    tickerMute: '静音',
    tickerUnmute: '打开声音',
    tickerMuteTitle: '新的一级、二级报警时提示音',
    tickerSoundOn: '♪ 提示音开',
    tickerSoundOff: '♪ 提示音关',
    screenTitle: '城市安全风险监测预警',
    screenActive: '当前报警',
    screenByLevel: '按级别',
    screenByDomain: '按专项',
    screenByDistrict: '按街道',
    screenTrend: '近一小时报警数',
    screenTrendActive: '当前报警',
    screenTrendRaised: '新增报警',
    screenNone: '无',
    nearTitle: '附近报警',
    nearRadius: '范围',
    nearLocating: '正在定位…',
    nearNoPosition: '无法获取位置：',
    nearNone: '范围内没有报警',
    nearAck: '确认',
    nearDetails: '详情',
    nearAcked: '已确认',
    nearMe: '我的位置',
    distanceM: '{n} 米',
    distanceKm: '{n} 公里',
  },
  en: {
    live_connecting: 'Connecting…',
    live_live: 'Live',
    live_reconnecting: 'Connection lost, reconnecting…',
    tickerTitle: 'Latest alarms',
    tickerEmpty: 'No active alarms',
    tickerWarning: 'Warning',
    tickerMute: 'Mute',
    tickerUnmute: 'Sound on',
    tickerMuteTitle: 'A tone for each new level 1 or 2 alarm',
    tickerSoundOn: '♪ Sound on',
    tickerSoundOff: '♪ Sound off',
    screenTitle: 'City safety risk monitoring',
    screenActive: 'Active alarms',
    screenByLevel: 'By level',
    screenByDomain: 'By domain',
    screenByDistrict: 'By district',
    screenTrend: 'Alarms over the last hour',
    screenTrendActive: 'Active',
    screenTrendRaised: 'Raised',
    screenNone: 'None',
    nearTitle: 'Alarms near me',
    nearRadius: 'Radius',
    nearLocating: 'Finding your position…',
    nearNoPosition: 'No position: ',
    nearNone: 'No alarms within the radius',
    nearAck: 'Acknowledge',
    nearDetails: 'Details',
    nearAcked: 'Acknowledged',
    nearMe: 'My position',
    distanceM: '{n} m',
    distanceKm: '{n} km',
  },
};

const DEBOUNCE = 250;

// wsURL is the socket's address on this server.
export function wsURL() {
  const u = new URL('/ws', location.href);
  u.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const tk = pageToken();
  if (tk) u.searchParams.set('token', tk);
  return u.toString();
}

// createLive opens the live channel.
//
// deps: map; alarms (alarms.js's hooks); region() returning the
// subscription's region, {bbox, zoom} or {circle, zoom}, or null while
// there is none yet (a phone before its position); topics; onStatus(state)
// with 'connecting', 'live' or 'reconnecting'; onAlarms(change) with
// {kind: 'snapshot'|'delta', alarms, added, escalated} after each message
// that carried alarms; onWarnings(list) with the warnings in force after
// each message that carried warnings.
export function createLive({ map, alarms, region, topics = ['sensors', 'alarms', 'risk_zones', 'warnings'], onStatus = () => {}, onAlarms = () => {}, onWarnings = () => {} }) {
  // What this channel feeds: a page may open one channel for the sensors of
  // its viewport and another for the alarms of the whole city.
  const feeds = { sensors: topics.includes('sensors'), alarms: topics.includes('alarms'), risk: topics.includes('risk_zones'), warnings: topics.includes('warnings') };
  const st = {
    connected: false, // a hello came on the open socket
    status: 'connecting',
    seq: 0,
    heartbeat: 25,
    sensors: new Map(), // sensor id → Map metric → {level, health, value, unit, time, code}
    alarms: new Map(), // alarm id → alarm, the active ones
    riskVersion: 0,
    warnings: new Map(), // incident id → the warning in force
    messages: 0,
    lastMessageAt: 0,
    connects: 0, // sockets that reached hello
    snapshots: 0,
    resumed: 0,
    errors: [], // the server's error messages, the last few
    subscribed: null, // the last subscription sent: its region's key
  };
  let ws = null;
  let backoff = BACKOFF_MIN;
  let retryTimer = 0;
  let moveTimer = 0;
  let pinged = 0;

  function setStatus(s) {
    if (st.status === s) return;
    st.status = s;
    onStatus(s);
  }

  function connect() {
    clearTimeout(retryTimer);
    let sock;
    try {
      sock = new WebSocket(wsURL());
    } catch (err) {
      retry();
      return;
    }
    ws = sock;
    sock.onmessage = (e) => {
      if (ws !== sock) return;
      st.messages++;
      st.lastMessageAt = Date.now();
      let msg;
      try {
        msg = JSON.parse(e.data);
      } catch {
        return;
      }
      handle(msg);
    };
    sock.onclose = () => {
      if (ws !== sock) return;
      ws = null;
      lost();
    };
    sock.onerror = () => {}; // onclose follows
  }

  // lost marks the socket gone: polling takes the alarms over meanwhile, and
  // a new socket is tried after the backoff.
  function lost() {
    st.connected = false;
    setStatus('reconnecting');
    if (feeds.alarms) alarms.setPolling(true);
    retry();
  }

  function retry() {
    clearTimeout(retryTimer);
    const wait = backoff;
    backoff = nextBackoff(backoff);
    retryTimer = setTimeout(connect, wait);
  }

  function send(msg) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
  }

  function handle(msg) {
    switch (msg.type) {
      case 'hello':
        st.connected = true;
        st.connects++;
        st.heartbeat = msg.heartbeat_s > 0 ? msg.heartbeat_s : 25;
        backoff = BACKOFF_MIN;
        pinged = 0;
        if (feeds.alarms) alarms.setPolling(false);
        setStatus('live');
        subscribe(true);
        // What changed while the channel was down is fetched again.
        if (st.connects > 1) for (const what of ['inbox', 'tasks']) poke(what);
        break;
      case 'poke':
        poke(msg.what);
        break;
      case 'snapshot':
        st.seq = Math.max(st.seq, msg.seq ?? 0);
        st.snapshots++;
        applySnapshot(msg);
        break;
      case 'delta':
        st.seq = Math.max(st.seq, msg.seq ?? 0);
        if (msg.resumed) st.resumed++;
        applyDelta(msg);
        break;
      case 'error':
        st.errors = [...st.errors.slice(-9), `${msg.code}: ${msg.message}`];
        console.warn('live:', msg.code, msg.message);
        break;
      default: // pong, resync (a snapshot follows)
    }
  }

  // poke tells the page that the login's inbox or tasks changed, for the
  // parts that show them to fetch them again.
  function poke(what) {
    window.dispatchEvent(new CustomEvent('onemap:poke', { detail: what }));
  }

  // subscribe sends the current region; after a reconnect with the same
  // region it resumes from the last seq.
  function subscribe(afterHello = false) {
    if (!st.connected) return;
    const r = region();
    if (!r) return;
    const { msg, key } = subscribeMessage(r, topics, { afterHello, seq: st.seq, subscribed: st.subscribed });
    st.subscribed = key;
    send(msg);
  }

  // ------------------------------------------------------------ messages

  // putWarnings keeps the warnings of a message; a snapshot replaces them.
  function putWarnings(list, replace) {
    if (!feeds.warnings || (!replace && !list?.length)) return;
    if (replace) st.warnings = new Map();
    for (const w of list ?? []) {
      if (!w?.incident) continue;
      if (w.standing === false) st.warnings.delete(w.incident);
      else st.warnings.set(w.incident, w);
    }
    onWarnings([...st.warnings.values()]);
  }

  function applySnapshot(msg) {
    putWarnings(msg.warnings, true);
    st.sensors = new Map();
    for (const s of msg.sensors ?? []) putSensor(s);
    const levels = new Map();
    const health = new Map();
    for (const [id, metrics] of st.sensors) {
      const c = sensorColour(metrics);
      levels.set(id, c.level);
      health.set(id, c.health);
    }
    if (feeds.sensors) alarms.setSensorStates(levels, health, { replace: true });
    if (!feeds.alarms) {
      if (msg.risk_zones) setRiskVersion(msg.risk_zones.version);
      return;
    }

    const before = st.alarms;
    st.alarms = new Map();
    const added = [];
    for (const a of msg.alarms ?? []) {
      if (a.state === 'cleared') continue;
      st.alarms.set(a.id, a);
      if (!before.has(a.id)) added.push(a);
    }
    alarms.update([...st.alarms.values()]);
    onAlarms({ kind: 'snapshot', alarms: [...st.alarms.values()], added, escalated: [] });

    if (msg.risk_zones) setRiskVersion(msg.risk_zones.version);
  }

  function applyDelta(msg) {
    putWarnings(msg.warnings, false);
    if (msg.sensors?.length) {
      const touched = new Set();
      for (const s of msg.sensors) touched.add(putSensor(s));
      const levels = new Map();
      const health = new Map();
      for (const id of touched) {
        const c = sensorColour(st.sensors.get(id) ?? new Map());
        levels.set(id, c.level);
        health.set(id, c.health);
      }
      alarms.setSensorStates(levels, health);
    }
    if (feeds.alarms && msg.alarms?.length) {
      const added = [];
      const escalated = [];
      for (const a of msg.alarms) {
        const old = st.alarms.get(a.id);
        if (a.state === 'cleared') {
          st.alarms.delete(a.id);
          continue;
        }
        const next = old ? { ...old, ...a } : a;
        st.alarms.set(a.id, next);
        if (!old) added.push(next);
        else if (next.level > 0 && next.level < old.level) escalated.push(next);
      }
      alarms.update([...st.alarms.values()]);
      onAlarms({ kind: 'delta', alarms: [...st.alarms.values()], added, escalated });
    }
    if (msg.risk_zones) setRiskVersion(msg.risk_zones.version);
  }

  // putSensor keeps one sensor metric's state and returns the sensor's id.
  function putSensor(s) {
    let metrics = st.sensors.get(s.id);
    if (!metrics) {
      metrics = new Map();
      st.sensors.set(s.id, metrics);
    }
    const old = metrics.get(s.metric) ?? {};
    metrics.set(s.metric, { ...old, ...s });
    return s.id;
  }

  // ----------------------------------------------------------- risk zones

  // riskTiles is the live source's tile URL as the style gives it, with
  // the version the channel announced.
  function riskTiles(base) {
    const url = base.replace(/\?v=\d+$/, '');
    return [st.riskVersion ? `${url}?v=${st.riskVersion}` : url];
  }

  function setRiskVersion(v) {
    if (!v || v === st.riskVersion) return;
    st.riskVersion = v;
    applyRiskVersion();
  }

  // applyRiskVersion puts the version in the live source's URL, also after
  // a new style (a language switch) brought the source back without it.
  function applyRiskVersion() {
    const src = map.getSource(RISK_SOURCE);
    if (!src || !st.riskVersion || !src.tiles?.length) return;
    const tiles = riskTiles(src.tiles[0]);
    if (tiles[0] !== src.tiles[0]) src.setTiles(tiles);
  }
  if (feeds.risk) map.on('styledata', applyRiskVersion);

  // -------------------------------------------------------------- watchdog

  // Every second: a ping after heartbeat_s of silence, a new socket after
  // twice that.
  const watchdog = setInterval(() => {
    if (!ws || !st.connected) return;
    const now = Date.now();
    const act = watch(now - st.lastMessageAt, st.heartbeat, now - pinged);
    if (act === 'reconnect') {
      const sock = ws;
      ws = null;
      try { sock.close(); } catch { /* already closing */ }
      lost();
    } else if (act === 'ping') {
      pinged = now;
      send({ type: 'ping' });
    }
  }, 1000);

  // ------------------------------------------------------------- region

  // The viewport's region is sent again after the map stops moving.
  function regionChanged() {
    clearTimeout(moveTimer);
    moveTimer = setTimeout(() => subscribe(), DEBOUNCE);
  }

  connect();
  return {
    regionChanged,
    subscribe: () => subscribe(),
    // drop closes the socket as a lost network would: the channel
    // reconnects and resumes.
    drop() {
      ws?.close();
    },
    close() {
      clearInterval(watchdog);
      clearTimeout(retryTimer);
      const sock = ws;
      ws = null;
      sock?.close();
    },
    topics,
    get connected() { return st.connected; },
    get status() { return st.status; },
    get seq() { return st.seq; },
    get sensors() { return st.sensors; },
    get alarms() { return st.alarms; },
    get riskVersion() { return st.riskVersion; },
    get warnings() { return st.warnings; },
    get messages() { return st.messages; },
    get lastMessageAt() { return st.lastMessageAt; },
    get connects() { return st.connects; },
    get snapshots() { return st.snapshots; },
    get resumed() { return st.resumed; },
    get errors() { return st.errors; },
    get heartbeat() { return st.heartbeat; },
  };
}

// ------------------------------------------------------------------ ticker

const TICKER_MAX = 30;
const MUTE_KEY = 'onemap.mute';

// createTicker adds the alarm ticker to the page: a strip of the warnings
// in force (level, headline) and then the active alarms, the most recently
// changed first (level, domain, sensor, metric, value, time), the
// connection's state and a mute toggle kept on the device. Each new level 1
// or 2 alarm sounds a short tone (WebAudio, no files); the browser allows
// sound only after a gesture on the page, and until then the tone is
// skipped without a word.
//
// deps: t (the page's text helper), format (alarms.js's formats), onPick(id)
// when an item is chosen.
export function createTicker({ t, format, onPick = () => {} }) {
  const st = {
    items: [], // the active alarms, newest first
    warnings: [], // the warnings in force, most severe first
    muted: localStorage.getItem(MUTE_KEY) === '1',
    played: 0,
    blocked: 0,
    status: 'connecting',
  };

  const root = document.createElement('section');
  root.id = 'alarm-ticker';
  root.className = 'ticker';
  const status = document.createElement('span');
  status.id = 'live-status';
  status.className = 'live-status';
  status.setAttribute('role', 'status');
  const heading = document.createElement('h2');
  heading.className = 'ticker-title';
  const list = document.createElement('ol');
  list.id = 'ticker-list';
  list.className = 'ticker-list';
  list.setAttribute('aria-live', 'polite');
  const mute = document.createElement('button');
  mute.type = 'button';
  mute.id = 'ticker-mute';
  mute.className = 'legend-button ticker-mute';
  mute.addEventListener('click', () => {
    st.muted = !st.muted;
    localStorage.setItem(MUTE_KEY, st.muted ? '1' : '0');
    renderMute();
  });
  root.append(status, heading, list, mute);
  document.body.append(root);

  // The audio context is made in the first gesture, so that the browser
  // lets it play.
  let audio = null;
  const unlock = () => {
    try {
      audio ??= new AudioContext();
      if (audio.state === 'suspended') audio.resume().catch(() => {});
    } catch {
      audio = null;
    }
  };
  for (const ev of ['pointerdown', 'keydown', 'touchstart']) {
    window.addEventListener(ev, unlock, { capture: true, passive: true });
  }

  // tone plays two short beeps for level 1, one for level 2.
  function tone(level) {
    if (st.muted) return;
    if (!audio || audio.state !== 'running') {
      st.blocked++;
      return;
    }
    try {
      const now = audio.currentTime;
      const beeps = level === 1 ? [0, 0.22] : [0];
      for (const at of beeps) {
        const osc = audio.createOscillator();
        const gain = audio.createGain();
        osc.type = 'sine';
        osc.frequency.value = level === 1 ? 880 : 660;
        gain.gain.setValueAtTime(0.0001, now + at);
        gain.gain.exponentialRampToValueAtTime(0.25, now + at + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, now + at + 0.18);
        osc.connect(gain).connect(audio.destination);
        osc.start(now + at);
        osc.stop(now + at + 0.2);
      }
      st.played++;
    } catch {
      st.blocked++;
    }
  }

  // update shows the active alarms, the most recently changed first, so the
  // strip always agrees with the alarms on the map; fresh are the alarms
  // just raised or escalated, which sound (level 1 or 2) when sound is set.
  function update(active, { fresh = [], sound = false } = {}) {
    st.items = newestAlarms(active, TICKER_MAX);
    const worst = worstLevel(fresh);
    if (sound && worst) tone(worst);
    renderList();
  }

  // setWarnings shows the warnings in force ({incident, warning}) at the
  // head of the strip, most severe first.
  function setWarnings(list) {
    st.warnings = (list ?? []).filter((w) => w?.warning && w.standing !== false)
      .sort((a, b) => (a.warning.level ?? 9) - (b.warning.level ?? 9) || String(b.warning.issued ?? '').localeCompare(String(a.warning.issued ?? '')));
    renderList();
  }

  function warningItem(w) {
    const li = document.createElement('li');
    li.className = 'ticker-item ticker-warning';
    li.dataset.incident = w.incident;
    li.dataset.level = String(w.warning.level);
    const badge = levelBadge(w.warning.level, t, '', `${t('tickerWarning')} ${ROMAN[w.warning.level] ?? '?'}`);
    const what = document.createElement('span');
    what.className = 'ticker-what';
    const en = format.locale() === 'en';
    what.textContent = (en ? w.warning.headline_en || w.warning.headline : w.warning.headline) || w.warning.location || w.incident;
    li.append(badge, what);
    return li;
  }

  function item(a) {
    const li = document.createElement('li');
    li.className = 'ticker-item';
    li.dataset.id = String(a.id);
    li.dataset.level = String(a.level);
    li.tabIndex = 0;
    const badge = document.createElement('span');
    badge.className = 'alarm-badge';
    badge.dataset.level = String(a.level);
    badge.style.background = format.levelColor(a.level);
    badge.textContent = t('alarmLevel').replace('{n}', a.level);
    const what = document.createElement('span');
    what.className = 'ticker-what';
    what.textContent = `${format.domainTitle(a.domain)} · ${a.sensor_code ?? a.sensor} · ${format.metricTitle(a.metric)}`;
    const value = document.createElement('span');
    value.className = 'ticker-value';
    value.textContent = format.withUnit(a.last_value, a.unit);
    const when = document.createElement('time');
    when.className = 'ticker-time';
    const at = a.updated ?? a.started;
    when.dateTime = at;
    when.textContent = new Date(at).toLocaleTimeString(format.locale(), { hour12: false });
    li.append(badge, what, value, when);
    li.addEventListener('click', () => onPick(a.id));
    li.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') onPick(a.id);
    });
    return li;
  }

  function renderList() {
    if (st.items.length === 0 && st.warnings.length === 0) {
      const li = document.createElement('li');
      li.className = 'ticker-empty';
      li.textContent = t('tickerEmpty');
      list.replaceChildren(li);
      return;
    }
    list.replaceChildren(...st.warnings.map(warningItem), ...st.items.map(item));
  }

  function renderMute() {
    mute.setAttribute('aria-pressed', String(st.muted));
    mute.textContent = st.muted ? t('tickerSoundOff') : t('tickerSoundOn');
    mute.title = `${st.muted ? t('tickerUnmute') : t('tickerMute')} — ${t('tickerMuteTitle')}`;
    mute.setAttribute('aria-label', st.muted ? t('tickerUnmute') : t('tickerMute'));
  }

  function setStatus(s) {
    st.status = s;
    status.dataset.state = s;
    root.dataset.state = s;
    status.textContent = t(`live_${s}`);
  }

  function renderText() {
    heading.textContent = t('tickerTitle');
    setStatus(st.status);
    renderMute();
    renderList();
  }

  renderText();
  return {
    update,
    setWarnings,
    setStatus,
    renderText,
    get items() { return st.items; },
    get warnings() { return st.warnings; },
    get muted() { return st.muted; },
    get sounds() { return { played: st.played, blocked: st.blocked }; },
  };
}
