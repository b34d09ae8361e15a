// How numbers, times and names are written in the page's language. Pure:
// no page, no map, so that `node --test` can check it.

import { levelColor } from './levels.js';

// createFormat makes the formats of a page whose text helper is t (a key →
// the current language's string, the key itself when missing) and whose
// language is lang() ('zh' or 'en'). The list, the ticker and the other
// views all write with it.
export function createFormat({ t, lang }) {
  function locale() {
    return lang() === 'en' ? 'en' : 'zh-CN';
  }

  // number writes a value with as many decimals as its size deserves: one
  // from 100, two from 1, three below; '–' for no number.
  function number(v) {
    if (typeof v !== 'number' || !Number.isFinite(v)) return '–';
    const digits = Math.abs(v) >= 100 ? 1 : Math.abs(v) >= 1 ? 2 : 3;
    return v.toLocaleString(locale(), { maximumFractionDigits: digits });
  }

  function withUnit(v, unit) {
    return unit ? `${number(v)} ${unit}` : number(v);
  }

  // dateTime writes a time on a 24-hour clock; '' for no time.
  function dateTime(s) {
    const d = new Date(s);
    if (Number.isNaN(d.getTime())) return '';
    return d.toLocaleString(locale(), { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
  }

  // relative says how long before now (ms, by default the clock's) a time
  // was: "3 分钟前", "3 minutes ago".
  function relative(s, now = Date.now()) {
    const secs = (now - Date.parse(s)) / 1000;
    if (!Number.isFinite(secs)) return '';
    if (secs < 45) return t('alarmJustNow');
    const rtf = new Intl.RelativeTimeFormat(locale(), { numeric: 'auto' });
    if (secs < 3600) return rtf.format(-Math.max(1, Math.round(secs / 60)), 'minute');
    if (secs < 86400) return rtf.format(-Math.round(secs / 3600), 'hour');
    return rtf.format(-Math.round(secs / 86400), 'day');
  }

  // titled is the page's title of a name under a prefix, else the name.
  const titled = (prefix) => (name) => {
    const s = t(`${prefix}_${name}`);
    return s === `${prefix}_${name}` ? name : s;
  };

  return {
    levelColor,
    domainTitle: titled('domain'),
    metricTitle: titled('metric'),
    withUnit,
    number,
    dateTime,
    relative,
    locale,
  };
}

// rfc3339 writes a Date as the server reads times, to the second in UTC.
export function rfc3339(d) {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
