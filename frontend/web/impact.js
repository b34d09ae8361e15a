// The impact view of an alarm: what its event would reach, on the map and
// in the alarm's details (GET /api/v1/alarms/{id}/impact).
//
//   - On the map: the impact area (the scenario's radius around the alarm,
//     or around the bridge or tunnel section), the protective targets and
//     hazards inside it as numbered markers, nearest first.
//   - In the details: the scenario, its model and source, the people likely
//     present at this hour, the buildings, the targets and hazards by
//     distance (a row flies to it) and the roads to close.
//
// The sources and layers are named "impact-*" and carry no "onemap:layer"
// metadata, so the legend and the popups ignore them; they are drawn again
// when a language switch replaces the style.

import { apiJSON, errorText } from '/session.js';

export const TEXT = {
  zh: {
    impactTitle: '影响分析',
    impactShow: '在地图上显示影响范围',
    impactHide: '隐藏影响范围',
    impactLoading: '正在分析影响范围…',
    impactError: '影响分析失败：',
    impactScenario: '情景',
    impactRadius: '影响半径',
    impactModel: '模型',
    impactSource: '依据',
    impactPeople: '此时段估计人数',
    impactBuildings: '范围内建筑',
    impactTargets: '防护目标',
    impactHazards: '危险源',
    impactRoads: '建议封闭道路',
    impactNone: '无',
    scenario_gas_explosion_confined: '受限空间燃气爆炸',
    scenario_tunnel_gas: '综合管廊燃气舱甲烷积聚与爆炸',
    scenario_gas_pipe_rupture: '燃气管道破裂着火',
    scenario_water_main_burst: '供水主管爆管：积水与路面塌陷',
    scenario_waterlogging: '内涝积水',
    scenario_heating_burst: '热水管爆管与路面塌陷',
    scenario_bridge_damage: '桥梁损伤',
    scenario_tunnel_incident: '综合管廊事故',
    scenario_generic: '报警',
  },
  en: {
    impactTitle: 'Impact',
    impactShow: 'Show the impact area on the map',
    impactHide: 'Hide the impact area',
    impactLoading: 'Assessing the impact…',
    impactError: 'Impact assessment failed: ',
    impactScenario: 'Scenario',
    impactRadius: 'Radius',
    impactModel: 'Model',
    impactSource: 'Source',
    impactPeople: 'People likely present now',
    impactBuildings: 'Buildings inside',
    impactTargets: 'Protective targets',
    impactHazards: 'Hazards',
    impactRoads: 'Roads to close',
    impactNone: 'none',
  },
};

const META = { 'onemap:overlay': 'impact' };
const SRC = { area: 'impact-area', hits: 'impact-hits' };
const LYR = { fill: 'impact-area-fill', line: 'impact-area-line', hits: 'impact-hits', labels: 'impact-hit-labels' };
const EMPTY = { type: 'FeatureCollection', features: [] };
const MAX_ROWS = 12;

// createImpact returns the impact view of a map: section(alarm) builds the
// details' section for an alarm, clear() takes the area off the map.
export function createImpact({ map, t, lang, flyTo }) {
  const st = { alarm: 0, data: null, shown: false, area: EMPTY, hits: EMPTY };

  function number(v, digits = 0) {
    return Number(v).toLocaleString(lang() === 'en' ? 'en' : 'zh-CN', { maximumFractionDigits: digits });
  }

  function el(tag, className, text) {
    const e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // section returns the impact section of an alarm's details; it loads the
  // assessment and shows the area on the map at once.
  function section(alarm) {
    const box = el('section', 'impact');
    box.id = 'impact';
    box.append(el('h3', 'alarm-detail-title', t('impactTitle')));
    const toggle = el('button', 'impact-toggle', t('impactHide'));
    toggle.type = 'button';
    toggle.id = 'impact-toggle';
    toggle.addEventListener('click', () => {
      st.shown = !st.shown;
      toggle.textContent = st.shown ? t('impactHide') : t('impactShow');
      toggle.setAttribute('aria-pressed', String(st.shown));
      draw();
    });
    toggle.setAttribute('aria-pressed', 'true');
    const body = el('div', 'impact-body');
    body.append(el('p', 'alarm-status', t('impactLoading')));
    box.append(toggle, body);
    load(alarm, body);
    return box;
  }

  async function load(alarm, body) {
    st.alarm = alarm.id;
    st.shown = true;
    try {
      const v = await apiJSON(`/api/v1/alarms/${alarm.id}/impact`);
      if (st.alarm !== alarm.id) return;
      st.data = v;
      st.area = { type: 'FeatureCollection', features: [v.area] };
      const hits = [...v.targets.map((h) => ({ ...h, group: 'target' })), ...v.hazards.map((h) => ({ ...h, group: 'hazard' }))]
        .sort((a, b) => a.distance_m - b.distance_m);
      st.hits = {
        type: 'FeatureCollection',
        features: hits.map((h, i) => ({
          type: 'Feature', geometry: { type: 'Point', coordinates: h.closest },
          properties: { id: h.id, n: i + 1, group: h.group },
        })),
      };
      render(body, v, hits);
      draw();
    } catch (err) {
      if (st.alarm !== alarm.id) return;
      body.replaceChildren(el('p', 'alarm-status error', t('impactError') + errorText(err, t)));
    }
  }

  function render(body, v, hits) {
    const dl = el('dl', 'impact-fields');
    const field = (k, value) => dl.append(el('dt', '', t(k)), el('dd', '', value));
    const key = `scenario_${v.scenario.id}`;
    field('impactScenario', lang() === 'en' || t(key) === key ? v.scenario.title : t(key));
    field('impactRadius', `${number(v.scenario.radius_m, 1)} m`);
    field('impactPeople', number(v.people));
    field('impactBuildings', number(v.buildings.length));
    field('impactRoads', v.roads.length ? v.roads.join('、') : t('impactNone'));
    field('impactModel', v.scenario.model);
    field('impactSource', v.scenario.source);
    const list = el('ol', 'impact-hits');
    list.id = 'impact-hits';
    hits.slice(0, MAX_ROWS).forEach((h, i) => {
      const li = el('li', `impact-hit ${h.group}`);
      li.dataset.id = String(h.id);
      li.tabIndex = 0;
      const name = h.name || h.kind || `#${h.id}`;
      li.append(
        el('span', 'impact-n', String(i + 1)),
        el('span', 'impact-name', `${name}`),
        el('span', 'impact-group', t(h.group === 'target' ? 'impactTargets' : 'impactHazards')),
        el('span', 'impact-distance', `${number(h.distance_m)} m`),
      );
      const go = () => flyTo(h.closest);
      li.addEventListener('click', go);
      li.addEventListener('keydown', (e) => { if (e.key === 'Enter') go(); });
      list.append(li);
    });
    body.replaceChildren(dl, list);
    if (hits.length === 0) body.append(el('p', 'alarm-status', `${t('impactTargets')} / ${t('impactHazards')}: ${t('impactNone')}`));
  }

  // clear takes the impact area off the map (the details closed).
  function clear() {
    st.alarm = 0;
    st.data = null;
    st.area = EMPTY;
    st.hits = EMPTY;
    draw();
  }

  // draw shows the current area, adding sources and layers the style
  // lacks (at first use and after a language switch).
  function draw() {
    if (!map.getStyle()) return;
    const area = st.shown ? st.area : EMPTY;
    const hits = st.shown ? st.hits : EMPTY;
    for (const [key, data] of [['area', area], ['hits', hits]]) {
      const src = map.getSource(SRC[key]);
      if (src) src.setData(data);
      else map.addSource(SRC[key], { type: 'geojson', data });
    }
    if (!map.getLayer(LYR.fill)) {
      map.addLayer({ id: LYR.fill, type: 'fill', source: SRC.area, metadata: META,
        paint: { 'fill-color': '#dc2626', 'fill-opacity': 0.12 } });
      map.addLayer({ id: LYR.line, type: 'line', source: SRC.area, metadata: META,
        paint: { 'line-color': '#dc2626', 'line-width': 2, 'line-dasharray': [2, 1.5] } });
      map.addLayer({ id: LYR.hits, type: 'circle', source: SRC.hits, metadata: META,
        paint: {
          'circle-radius': 9, 'circle-color': ['match', ['get', 'group'], 'target', '#1d4ed8', '#ea580c'],
          'circle-stroke-color': '#ffffff', 'circle-stroke-width': 2,
        } });
      map.addLayer({ id: LYR.labels, type: 'symbol', source: SRC.hits, metadata: META,
        layout: { 'text-field': ['to-string', ['get', 'n']], 'text-font': ['Go Bold'], 'text-size': 11,
          'text-allow-overlap': true, 'text-ignore-placement': true },
        paint: { 'text-color': '#ffffff' } });
    }
  }

  map.on('styledata', () => {
    if (!map.getSource(SRC.area) && map.isStyleLoaded()) draw();
  });

  return { section, clear, draw, get data() { return st.data; }, get shown() { return st.shown; } };
}
