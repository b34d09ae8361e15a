// The 3D view: the underground of the few kilometres around the view's
// centre under a translucent ground — pipes and ducts at their depth,
// manholes as shafts, the utility tunnel's compartments — with bridges on
// their piers, buildings at their height, and the sensors coloured by their
// live state. deck.gl (vendored, loaded the first time the view is turned
// on) draws it over the 2D map, in the map's camera; GET /api/v1/scene
// gives it. Picking a pipe or a sensor opens the same details as in 2D.

import { DEPTH_SCALE, SCENE_LAYERS, SCENE_PITCH, SCENE_ZOOM, lift, needsScene, sceneBBox, sceneLayers } from '/scene-model.js';

export { SCENE_LAYERS };

export const TEXT = {
  zh: {
    scene3d: '3D', scene2d: '2D', sceneOn: '三维地下空间', sceneOff: '回到二维地图',
    sceneLoading: '正在加载三维场景…', sceneFailed: '无法加载三维场景',
    sceneNote: `地下深度放大 ${DEPTH_SCALE} 倍`,
  },
  en: {
    scene3d: '3D', scene2d: '2D', sceneOn: 'The underground in 3D', sceneOff: 'Back to the 2D map',
    sceneLoading: 'Loading the 3D scene…', sceneFailed: 'The 3D scene could not be loaded',
    sceneNote: `Depths drawn ${DEPTH_SCALE}× deeper`,
  },
};

const DECK_URL = '/vendor/deck.gl/dist.min.js';
let deckLoading = null;

// loadDeck loads the vendored deck.gl once, as a classic script: its UMD
// build defines window.deck.
function loadDeck() {
  if (window.deck) return Promise.resolve(window.deck);
  deckLoading ??= new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = DECK_URL;
    s.onload = () => (window.deck ? resolve(window.deck) : reject(new Error('deck.gl did not load')));
    s.onerror = () => reject(new Error('deck.gl did not load'));
    document.head.append(s);
  });
  return deckLoading;
}

// createScene3D adds the 3D view to a map. colorOf(layer) is a catalog
// layer's colour on the map; sensorColor(sensor) a sensor's live colour;
// onPick(id, layer, lngLat) opens a feature's details; button says whether
// the map shows a 2D/3D button (the big screen has none).
export function createScene3D({ map, t, fetchJSON, colorOf, sensorColor, ground, onPick, onChange = () => {}, button = true }) {
  const st = {
    on: false, deck: null, overlay: null, scene: null, bbox: null,
    abort: null, version: 0, timer: 0, bearing: 0, status: '',
  };
  const control = button ? createControl() : null;
  if (control) map.addControl(control, 'top-right');
  // The note of how deep the underground is drawn, while the view is on.
  const note = document.createElement('p');
  note.id = 'scene-note';
  note.className = 'scene-note';
  note.hidden = true;
  note.textContent = t('sceneNote');
  map.getContainer().append(note);

  function createControl() {
    let btn = null;
    return {
      onAdd() {
        const div = document.createElement('div');
        div.className = 'maplibregl-ctrl maplibregl-ctrl-group scene-control';
        btn = document.createElement('button');
        btn.type = 'button';
        btn.id = 'scene-toggle';
        btn.addEventListener('click', () => setOn(!st.on));
        div.append(btn);
        this.render = () => {
          btn.textContent = st.on ? t('scene2d') : t('scene3d');
          btn.title = st.on ? t('sceneOff') : t('sceneOn');
          btn.setAttribute('aria-label', btn.title);
          btn.setAttribute('aria-pressed', String(st.on));
        };
        this.render();
        return div;
      },
      onRemove() {},
      render() {},
    };
  }

  async function setOn(on) {
    if (on === st.on) return;
    st.on = on;
    control?.render();
    note.hidden = !on;
    if (on) {
      st.bearing = map.getBearing();
      map.setMaxPitch(SCENE_PITCH);
      map.jumpTo({ pitch: SCENE_PITCH, zoom: Math.max(map.getZoom(), SCENE_ZOOM) });
      onChange(true);
      try {
        st.deck = await loadDeck();
      } catch (err) {
        console.warn('3D:', err);
        setStatus('failed');
        return;
      }
      if (!st.on) return;
      st.overlay ??= new st.deck.MapboxOverlay({ interleaved: false, layers: [] });
      map.addControl(st.overlay);
      map.on('moveend', refresh);
      st.timer = setInterval(recolour, 1000);
      refresh();
    } else {
      map.off('moveend', refresh);
      clearInterval(st.timer);
      st.abort?.abort();
      if (st.overlay) map.removeControl(st.overlay);
      st.overlay = null;
      st.scene = null;
      st.bbox = null;
      map.jumpTo({ pitch: 0, bearing: st.bearing });
      map.setMaxPitch(0);
      setStatus('');
      onChange(false);
    }
  }

  function setStatus(s) {
    st.status = s;
    map.getContainer().dataset.scene = st.on ? (s || 'ready') : '';
  }

  // refresh asks for the scene around the view's centre when the centre
  // has left the middle of the one loaded.
  async function refresh() {
    if (!st.on) return;
    const c = map.getCenter();
    const centre = [c.lng, c.lat];
    if (!needsScene(st.bbox, centre)) return;
    st.abort?.abort();
    const abort = new AbortController();
    st.abort = abort;
    const bbox = sceneBBox(centre);
    setStatus('loading');
    let scene;
    try {
      scene = await fetchJSON(`/api/v1/scene?bbox=${bbox.join(',')}`, { signal: abort.signal });
    } catch (err) {
      if (abort.signal.aborted) return;
      console.warn('3D:', err);
      setStatus('failed');
      return;
    }
    if (!st.on || abort.signal.aborted) return;
    st.scene = scene;
    st.bbox = scene.bbox;
    draw();
    setStatus('ready');
  }

  function draw() {
    if (!st.overlay || !st.scene) return;
    const layers = sceneLayers(st.scene, { colorOf, sensorColor, ground: ground(), version: st.version })
      .map(({ type, props }) => new st.deck[type](props));
    st.overlay.setProps({ layers });
  }

  // recolour redraws the sensors when a live state changed.
  let lastColours = '';
  function recolour() {
    if (!st.scene) return;
    const colours = st.scene.sensors.map(sensorColor).join();
    if (colours === lastColours) return;
    lastColours = colours;
    st.version++;
    draw();
  }

  // click picks what is under a click in 3D and opens its details; false
  // when the 3D view is off or nothing is there.
  function click(e) {
    if (!st.on || !st.overlay) return false;
    const info = st.overlay.pickObject({ x: e.point.x, y: e.point.y, radius: 4 });
    const o = info?.object;
    if (!o || o.id === undefined) return false;
    onPick(o.id, o.layer ?? 'sensor', e.lngLat);
    return true;
  }

  return {
    get on() { return st.on; },
    get status() { return st.status; },
    get scene() { return st.scene; },
    // pick is what lies at a point of the map's canvas in 3D: {id, layer}
    // or null (the tests use it).
    pick(x, y) {
      const o = st.overlay?.pickObject({ x, y, radius: 4 })?.object;
      return o && o.id !== undefined ? { id: o.id, layer: o.layer ?? 'sensor' } : null;
    },
    // project is where a point of the scene ([lon, lat, height in metres])
    // is drawn on the map's canvas, [x, y] in CSS pixels, as deck.gl's
    // viewport of the moment puts it.
    project(lon, lat, z) {
      const vp = st.overlay?._deck?.getViewports()?.[0];
      return vp ? vp.project([lon, lat, lift(z)]) : null;
    },
    setOn,
    click,
    renderText() {
      note.textContent = t('sceneNote');
      control?.render();
    },
    restyle() { draw(); },
  };
}
