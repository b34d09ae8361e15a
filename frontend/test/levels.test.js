import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LEVEL_COLORS, OTHER_LEVEL, OFFLINE_COLOR, FAULT_COLOR, domainMark, levelColor, levelInk, sortAlarms, ackName, sensorLevels, sensorPaint, newestAlarms, worstLevel } from '../web/levels.js';

test('each level has its own colour and a level past 3 the other colour', () => {
  const colours = [1, 2, 3].map(levelColor);
  assert.equal(new Set(colours).size, 3);
  assert.equal(levelColor(1), LEVEL_COLORS[1]);
  assert.equal(levelColor(4), OTHER_LEVEL);
  assert.equal(levelColor(undefined), OTHER_LEVEL);
  assert.ok(!colours.includes(OFFLINE_COLOR) && !colours.includes(FAULT_COLOR));
});

// relativeLuminance is WCAG's luminance of a #rrggbb colour.
function relativeLuminance(hex) {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255)
    .map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function contrast(a, b) {
  const [hi, lo] = [relativeLuminance(a), relativeLuminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

test('the levels part by lightness, for colour-blind eyes too', () => {
  const l = [1, 2, 3].map((n) => relativeLuminance(levelColor(n)));
  assert.ok(l[0] < l[1] && l[1] < l[2], `luminance ${l} not rising from level 1 to 3`);
  assert.ok(contrast(levelColor(1), levelColor(3)) > 3, 'level 1 and level 3 too close in lightness');
});

test('text on a level reads: contrast at least 3:1', () => {
  for (const n of [1, 2, 3]) {
    const c = contrast(levelColor(n), levelInk(n));
    assert.ok(c >= 3, `level ${n}: contrast ${c.toFixed(2)}`);
  }
});

test('a domain mark is the language letter, or the first letter of an unknown domain', () => {
  assert.equal(domainMark('zh', 'gas'), '燃');
  assert.equal(domainMark('en', 'drainage'), 'D');
  assert.equal(domainMark('fr', 'gas'), 'G');
  assert.equal(domainMark('zh', 'lift'), 'L');
  assert.equal(domainMark('zh', ''), '?');
});

test('alarms sort most severe first, then newest, then by id, without changing the input', () => {
  const alarms = [
    { id: 1, level: 2, started: '2026-12-01T08:00:00Z' },
    { id: 2, level: 1, started: '2026-12-01T07:00:00Z' },
    { id: 3, level: 2, started: '2026-12-01T09:00:00Z' },
    { id: 4, level: 1, started: '2026-12-01T07:00:00Z' },
  ];
  const before = alarms.map((a) => a.id);
  assert.deepEqual(sortAlarms(alarms).map((a) => a.id), [4, 2, 3, 1]);
  assert.deepEqual(alarms.map((a) => a.id), before);
});

test('who acknowledged: the name, else the login, else nothing', () => {
  assert.equal(ackName({ name: '张伟', by: 'duty' }), '张伟');
  assert.equal(ackName({ by: 'duty' }), 'duty');
  assert.equal(ackName(undefined), '');
});

test("a sensor's level is its most severe alarm", () => {
  const levels = sensorLevels([
    { sensor: 7, level: 3 }, { sensor: 7, level: 1 }, { sensor: 7, level: 2 },
    { sensor: 9, level: 2 },
  ]);
  assert.deepEqual([...levels.entries()].sort(), [[7, 1], [9, 2]]);
});

test('the sensor paint lets an alarm level win over health and health over the base colour', () => {
  const paint = sensorPaint('#000000');
  assert.equal(paint[0], 'case');
  assert.equal(paint.at(-1), '#000000');
  const outputs = paint.slice(2, -1).filter((_, i) => i % 2 === 0);
  assert.deepEqual(outputs, [LEVEL_COLORS[1], LEVEL_COLORS[2], LEVEL_COLORS[3], OTHER_LEVEL, FAULT_COLOR, OFFLINE_COLOR]);
});

test('the ticker shows the most recently changed alarms first, at most max', () => {
  const alarms = [
    { id: 1, started: '2026-12-01T08:00:00Z', updated: '2026-12-01T10:00:00Z' },
    { id: 2, started: '2026-12-01T09:00:00Z' },
    { id: 3, started: '2026-12-01T09:30:00Z', updated: '2026-12-01T09:30:00Z' },
    { id: 4, started: '2026-12-01T09:30:00Z' },
  ];
  assert.deepEqual(newestAlarms(alarms, 10).map((a) => a.id), [1, 4, 3, 2]);
  assert.deepEqual(newestAlarms(alarms, 2).map((a) => a.id), [1, 4]);
  assert.deepEqual(newestAlarms([], 5), []);
});

test('only levels 1 and 2 sound, the worst of them', () => {
  assert.equal(worstLevel([{ level: 3 }, { level: 2 }, { level: 1 }]), 1);
  assert.equal(worstLevel([{ level: 3 }, { level: 2 }]), 2);
  assert.equal(worstLevel([{ level: 3 }, { level: 4 }]), 0);
  assert.equal(worstLevel([]), 0);
});
