import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BACKOFF_MIN, BACKOFF_MAX, nextBackoff, regionKey, subscribeMessage, watchdog, sensorColour } from '../web/channel.js';

test('the wait before a new socket doubles from 0.5 s up to 10 s', () => {
  const waits = [BACKOFF_MIN];
  for (let i = 0; i < 8; i++) waits.push(nextBackoff(waits.at(-1)));
  assert.deepEqual(waits, [500, 1000, 2000, 4000, 8000, 10000, 10000, 10000, 10000]);
  assert.equal(nextBackoff(0), 2 * BACKOFF_MIN);
  assert.equal(nextBackoff(BACKOFF_MAX * 3), BACKOFF_MAX);
});

const topics = ['sensors', 'alarms'];
const here = { bbox: [116.3, 39.9, 116.4, 40.0], zoom: 14 };

test('a first subscribe asks for a snapshot, not a resume', () => {
  const { msg, key } = subscribeMessage(here, topics);
  assert.deepEqual(msg, { type: 'subscribe', topics, zoom: 14, bbox: here.bbox });
  assert.equal(key, regionKey(here, topics));
});

test('after a reconnect with the same region it resumes from the last seq', () => {
  const key = regionKey(here, topics);
  assert.equal(subscribeMessage(here, topics, { afterHello: true, seq: 42, subscribed: key }).msg.resume, 42);
});

test('no resume for another region, other topics, no seq, or a move while connected', () => {
  const key = regionKey(here, topics);
  const there = { ...here, bbox: [116.4, 39.9, 116.5, 40.0] };
  assert.equal(subscribeMessage(there, topics, { afterHello: true, seq: 42, subscribed: key }).msg.resume, undefined);
  assert.equal(subscribeMessage(here, ['sensors'], { afterHello: true, seq: 42, subscribed: key }).msg.resume, undefined);
  assert.equal(subscribeMessage(here, topics, { afterHello: true, seq: 0, subscribed: key }).msg.resume, undefined);
  assert.equal(subscribeMessage(here, topics, { afterHello: false, seq: 42, subscribed: key }).msg.resume, undefined);
});

test('a circle is sent as a circle and the zoom is kept within 0 to 24', () => {
  const circle = { circle: { center: [116.35, 39.95], radius_m: 2000 }, zoom: 30 };
  const { msg } = subscribeMessage(circle, topics);
  assert.deepEqual(msg.circle, circle.circle);
  assert.equal(msg.bbox, undefined);
  assert.equal(msg.zoom, 24);
  assert.equal(subscribeMessage({ ...here, zoom: -3 }, topics).msg.zoom, 0);
  assert.equal(subscribeMessage({ ...here, zoom: NaN }, topics).msg.zoom, 0);
});

test('a quiet socket is pinged after a heartbeat and dropped after two', () => {
  assert.equal(watchdog(10_000, 25, Infinity), 'wait');
  assert.equal(watchdog(26_000, 25, Infinity), 'ping');
  assert.equal(watchdog(30_000, 25, 4_000), 'wait', 'one ping per heartbeat');
  assert.equal(watchdog(51_000, 25, 4_000), 'reconnect');
});

test("a sensor's state: its most severe level, fault over offline over online", () => {
  const m = (...ms) => new Map(ms.map((x, i) => [i, x]));
  assert.deepEqual(sensorColour(m()), { level: 0, health: 'online' });
  assert.deepEqual(sensorColour(m({ level: 0, health: 'online' }, { level: 2, health: 'online' }, { level: 1, health: 'online' })), { level: 1, health: 'online' });
  assert.deepEqual(sensorColour(m({ level: 3, health: 'offline' }, { level: 0, health: 'online' })), { level: 3, health: 'offline' });
  assert.deepEqual(sensorColour(m({ level: 0, health: 'offline' }, { level: 0, health: 'fault' }, { level: 0, health: 'offline' })), { level: 0, health: 'fault' });
});
