// The data of an alarm's curve: the time ranges a user picks and the
// columns uPlot draws from the server's buckets. Pure: no page, so that
// `node --test` can check it.

// RANGES are the curve's time ranges: length in ms and bucket step.
export const RANGES = {
  '24h': { ms: 24 * 3600e3, step: '1m' },
  '7d': { ms: 7 * 24 * 3600e3, step: '10m' },
  '30d': { ms: 30 * 24 * 3600e3, step: '1h' },
};

// chartData turns a series' buckets (GET /api/v1/sensors/{id}/series) into
// uPlot's columns (seconds, min, max, avg), with a gap wherever more than
// one step has no data.
export function chartData(series) {
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

// xRange is the time axis's span in seconds: the data and the alarm's
// start, within the asked range [from, to], at least a minute.
export function xRange(min, max, start, from, to) {
  let lo = Number.isFinite(min) ? Math.min(min, start) : start - 3600;
  let hi = Number.isFinite(max) ? Math.max(max, start) : to;
  lo = Math.max(lo, from);
  hi = Math.min(Math.max(hi, lo + 60), to);
  return [lo, hi];
}

// tickOptions are the toLocaleString options of the time axis's labels
// over a span of seconds: times on a 24-hour clock within two days, dates
// beyond.
export function tickOptions(span) {
  return span > 2 * 86400
    ? { month: '2-digit', day: '2-digit' }
    : { hour: '2-digit', minute: '2-digit', hour12: false };
}
