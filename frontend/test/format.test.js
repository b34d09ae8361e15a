import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createFormat, rfc3339 } from '../web/format.js';

const TEXT = {
  zh: { alarmJustNow: '刚刚', domain_gas: '燃气', metric_pressure: '压力' },
  en: { alarmJustNow: 'just now', domain_gas: 'Gas', metric_pressure: 'Pressure' },
};

function format(lang) {
  return createFormat({ t: (k) => TEXT[lang][k] ?? k, lang: () => lang });
}

test('numbers get as many decimals as their size deserves', () => {
  const f = format('en');
  assert.equal(f.number(1234.567), '1,234.6');
  assert.equal(f.number(3.14159), '3.14');
  assert.equal(f.number(0.012345), '0.012');
  assert.equal(f.number(-0.5), '-0.5');
});

test('no number is a dash, never NaN or Infinity', () => {
  const f = format('zh');
  for (const v of [NaN, Infinity, -Infinity, null, undefined, '3']) assert.equal(f.number(v), '–');
});

test('a value with its unit, and without when there is none', () => {
  const f = format('zh');
  assert.equal(f.withUnit(0.35, 'MPa'), '0.35 MPa');
  assert.equal(f.withUnit(12, ''), '12');
});

test('how long ago, in the language of the page', () => {
  const now = Date.parse('2026-12-01T12:00:00Z');
  const zh = format('zh');
  const en = format('en');
  assert.equal(zh.relative('2026-12-01T11:59:30Z', now), '刚刚');
  assert.equal(en.relative('2026-12-01T11:59:30Z', now), 'just now');
  assert.equal(zh.relative('2026-12-01T11:57:00Z', now), '3分钟前');
  assert.equal(en.relative('2026-12-01T11:57:00Z', now), '3 minutes ago');
  assert.equal(en.relative('2026-12-01T09:00:00Z', now), '3 hours ago');
  assert.equal(en.relative('2026-11-28T12:00:00Z', now), '3 days ago');
  assert.equal(zh.relative('not a time', now), '');
});

test('date and time on a 24-hour clock; nothing for no time', () => {
  const s = format('en').dateTime('2026-12-01T15:04:05Z');
  assert.match(s, /\d{2}:\d{2}:\d{2}/);
  assert.doesNotMatch(s, /AM|PM/);
  assert.equal(format('zh').dateTime('yesterday'), '');
});

test('domain and metric titles from the page, their own names when the page has none', () => {
  const zh = format('zh');
  assert.equal(zh.domainTitle('gas'), '燃气');
  assert.equal(zh.domainTitle('lift'), 'lift');
  assert.equal(zh.metricTitle('pressure'), '压力');
  assert.equal(format('en').metricTitle('tilt'), 'tilt');
  assert.equal(zh.locale(), 'zh-CN');
  assert.equal(format('en').locale(), 'en');
});

test('times go to the server to the second in UTC', () => {
  assert.equal(rfc3339(new Date(Date.UTC(2026, 11, 1, 8, 30, 15, 999))), '2026-12-01T08:30:15Z');
});
