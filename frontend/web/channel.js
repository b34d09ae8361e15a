// The live channel's rules, apart from its socket so they can be tested on
// their own (docs/websocket.md): how long to wait before the next socket,
// when a subscription resumes, when to ping and when to give up on a quiet
// socket, and a sensor's state over its metrics.

// BACKOFF_MIN and BACKOFF_MAX bound the wait before a new socket, in ms.
export const BACKOFF_MIN = 500;
export const BACKOFF_MAX = 10000;

// nextBackoff is the wait after this one: doubled, up to BACKOFF_MAX.
export function nextBackoff(wait) {
  return Math.min(BACKOFF_MAX, Math.max(BACKOFF_MIN, wait) * 2);
}

// regionKey names a subscription: its area and its topics. A resume is only
// asked for the same key.
export function regionKey(region, topics) {
  return JSON.stringify({ bbox: region.bbox, circle: region.circle, topics });
}

// subscribeMessage is the subscribe message for a region ({bbox, zoom} or
// {circle, zoom}) and the key it subscribes. Right after a hello, with the
// same key as before and a seq seen, it resumes from that seq, so the server
// sends what was missed instead of a snapshot.
export function subscribeMessage(region, topics, { afterHello = false, seq = 0, subscribed = '' } = {}) {
  const key = regionKey(region, topics);
  const zoom = Number.isFinite(region.zoom) ? Math.max(0, Math.min(24, region.zoom)) : 0;
  const msg = { type: 'subscribe', topics, zoom };
  if (region.circle) msg.circle = region.circle;
  else msg.bbox = region.bbox;
  if (afterHello && seq > 0 && subscribed === key) msg.resume = seq;
  return { msg, key };
}

// watchdog says what to do with an open socket that has been quiet for
// quietMs, with the server's heartbeat of heartbeatS seconds and the last
// ping sincePingMs ago: 'reconnect' after twice the heartbeat, 'ping' after
// one heartbeat (at most one per heartbeat), else 'wait'.
export function watchdog(quietMs, heartbeatS, sincePingMs) {
  const beat = heartbeatS * 1000;
  if (quietMs > 2 * beat) return 'reconnect';
  if (quietMs > beat && sincePingMs > beat) return 'ping';
  return 'wait';
}

// sensorColour is a sensor's state over its metrics (a Map of {level,
// health}): the most severe non-zero level (1 first, 0 when all are normal)
// and "fault" or "offline" when any metric is ("fault" first), else
// "online".
export function sensorColour(metrics) {
  let level = 0;
  let health = 'online';
  for (const m of metrics.values()) {
    if (m.level > 0 && (level === 0 || m.level < level)) level = m.level;
    if (m.health === 'fault') health = 'fault';
    else if (m.health === 'offline' && health !== 'fault') health = 'offline';
  }
  return { level, health };
}
