import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RANGES, chartData, xRange, tickOptions } from '../web/curve.js';

const bucket = (t, v) => ({ t, min: v - 1, max: v + 1, avg: v });

test('buckets become columns of seconds, min, max and avg', () => {
  const [xs, mins, maxs, avgs] = chartData({ step_s: 60, buckets: [bucket('2026-12-01T00:00:00Z', 5), bucket('2026-12-01T00:01:00Z', 6)] });
  const t0 = Date.parse('2026-12-01T00:00:00Z') / 1000;
  assert.deepEqual(xs, [t0, t0 + 60]);
  assert.deepEqual(mins, [4, 5]);
  assert.deepEqual(maxs, [6, 7]);
  assert.deepEqual(avgs, [5, 6]);
});

test('a hole of more than a step breaks the line', () => {
  const [xs, , , avgs] = chartData({ step_s: 60, buckets: [bucket('2026-12-01T00:00:00Z', 5), bucket('2026-12-01T00:10:00Z', 6)] });
  const t0 = Date.parse('2026-12-01T00:00:00Z') / 1000;
  assert.deepEqual(xs, [t0, t0 + 60, t0 + 600]);
  assert.deepEqual(avgs, [5, null, 6]);
});

test('no buckets, no points', () => {
  assert.deepEqual(chartData({}), [[], [], [], []]);
});

test('the time axis holds the data and the start, within the range asked', () => {
  assert.deepEqual(xRange(1000, 2000, 1500, 0, 5000), [1000, 2000]);
  assert.deepEqual(xRange(1000, 2000, 500, 0, 5000), [500, 2000]);
  assert.deepEqual(xRange(1000, 2000, 500, 800, 5000), [800, 2000]);
  assert.deepEqual(xRange(1000, 1010, 1000, 0, 5000), [1000, 1060], 'at least a minute');
  assert.deepEqual(xRange(undefined, undefined, 7200, 0, 9000), [3600, 9000], 'no data: an hour before the start to the end');
});

test('times within two days, dates beyond', () => {
  assert.equal(tickOptions(86400).hour12, false);
  assert.ok(tickOptions(7 * 86400).day);
  assert.deepEqual(Object.keys(RANGES), ['24h', '7d', '30d']);
  assert.ok(RANGES['24h'].ms < RANGES['7d'].ms && RANGES['7d'].ms < RANGES['30d'].ms);
});
