// The alarm levels' colours and order, shared by every view. Pure: no page,
// no map, so that `node --test` can check it.
//
// The guide's levels: level 1 is the most severe; offline and fault are
// states, not danger alarms, and look different. The three levels differ in
// lightness (dark red, orange, light yellow) so that they part for
// colour-blind eyes too, and the map draws each level in its own shape
// besides: level 1 a disc in a double ring, level 2 a disc in a ring, level
// 3 a smaller plain disc.

// LEVEL_COLORS are the colours of the three alarm levels.
export const LEVEL_COLORS = { 1: '#b91c1c', 2: '#f97316', 3: '#fde047' };

// OTHER_LEVEL colours a level past 3 (a metric with more levels).
export const OTHER_LEVEL = '#3b82f6';

// OFFLINE_COLOR and FAULT_COLOR colour a sensor's health.
export const OFFLINE_COLOR = '#9ca3af';
export const FAULT_COLOR = '#9333ea';

// DOMAIN_COLORS are the domains' colours, as the sensor layer draws them.
export const DOMAIN_COLORS = {
  gas: '#db2777', water: '#0284c7', drainage: '#92400e',
  heating: '#ea580c', bridge: '#4b5563', tunnel: '#7c3aed',
};

// DOMAIN_MARK is the letter of a domain on its alarm icon, per language.
export const DOMAIN_MARK = {
  zh: { gas: '燃', water: '水', drainage: '排', heating: '热', bridge: '桥', tunnel: '廊' },
  en: { gas: 'G', water: 'W', drainage: 'D', heating: 'H', bridge: 'B', tunnel: 'T' },
};

// domainMark is the letter of a domain on its icon in a language; an
// unknown domain shows its own first letter.
export function domainMark(lang, domain) {
  return DOMAIN_MARK[lang]?.[domain] ?? (domain || '?').charAt(0).toUpperCase();
}

// levelColor is an alarm level's colour.
export function levelColor(level) {
  return LEVEL_COLORS[level] ?? OTHER_LEVEL;
}

// levelInk is the colour of text on a level's colour: dark on the orange
// of level 2 and the light yellow of level 3, white on the others, so that
// it stands out at least 3:1 (WCAG 2.1 for large text).
export function levelInk(level) {
  return level === 2 || level === 3 ? '#111827' : '#ffffff';
}

// sortAlarms orders alarms most severe first, then newest first, then by
// id; it returns a new array.
export function sortAlarms(alarms) {
  return [...alarms].sort((a, b) => a.level - b.level || Date.parse(b.started) - Date.parse(a.started) || b.id - a.id);
}

// ackName is who acknowledged an alarm: the user's name, else the login.
export function ackName(ack) {
  return ack?.name || ack?.by || '';
}

// sensorLevels is each alarming sensor's most severe level (1 first) among
// the alarms: sensor id → level.
export function sensorLevels(alarms) {
  const levels = new Map();
  for (const a of alarms) {
    const l = levels.get(a.sensor);
    if (l === undefined || a.level < l) levels.set(a.sensor, a.level);
  }
  return levels;
}

// sensorPaint wraps a sensor layer's colour so that feature-state decides
// first: an alarm level, then offline or fault, then the usual colour.
export function sensorPaint(base) {
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

// newestAlarms is the ticker's order: the most recently changed alarm
// first (updated, else started), then by id; at most max of them.
export function newestAlarms(alarms, max) {
  const at = (a) => Date.parse(a.updated ?? a.started) || 0;
  return [...alarms].sort((a, b) => at(b) - at(a) || b.id - a.id).slice(0, max);
}

// worstLevel is the most severe of the levels 1 and 2 among alarms, the
// ones that sound; 0 when there is none.
export function worstLevel(alarms) {
  let worst = 0;
  for (const a of alarms) {
    if ((a.level === 1 || a.level === 2) && (worst === 0 || a.level < worst)) worst = a.level;
  }
  return worst;
}
