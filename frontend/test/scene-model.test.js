import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEPTH_SCALE, SCENE_SIDE, lift, needsScene, rgba, sceneBBox, sceneLayers, sensorFill } from '../web/scene-model.js';

test('the scene asked for is a square of SCENE_SIDE metres around the centre', () => {
  const [w, s, e, n] = sceneBBox([117.26, 31.83]);
  // Metres on the ground, as the server measures them.
  const perDegLat = 111320;
  const perDegLon = 111320 * Math.cos((31.83 * Math.PI) / 180);
  assert.ok(Math.abs((n - s) * perDegLat - SCENE_SIDE) < 1, `${(n - s) * perDegLat} m tall`);
  assert.ok(Math.abs((e - w) * perDegLon - SCENE_SIDE) < 1, `${(e - w) * perDegLon} m wide`);
  assert.ok(SCENE_SIDE <= 4000, 'the server takes at most 4 km a side');
  assert.deepEqual(sceneBBox([117.26, 31.83], 0), [117.26, 31.83, 117.26, 31.83]);
});

test('a new scene is asked for when the centre leaves the middle half of the one loaded', () => {
  const b = [117, 31, 117.04, 31.04];
  assert.equal(needsScene(null, [117.02, 31.02]), true);
  assert.equal(needsScene(b, [117.02, 31.02]), false);
  assert.equal(needsScene(b, [117.011, 31.029]), false);
  assert.equal(needsScene(b, [117.009, 31.02]), true);
  assert.equal(needsScene(b, [117.02, 31.031]), true);
});

test('the underground is stretched, what stands above the ground is not', () => {
  assert.equal(lift(-2), -2 * DEPTH_SCALE);
  assert.equal(lift(0), 0);
  assert.equal(lift(19), 19);
});

test('colours are deck.gl arrays; a bad colour is grey, not an error', () => {
  assert.deepEqual(rgba('#b91c1c'), [185, 28, 28, 255]);
  assert.deepEqual(rgba('#fff', 10), [255, 255, 255, 10]);
  assert.deepEqual(rgba('rgb(1,2,3)'), [128, 128, 128, 255]);
  assert.deepEqual(rgba(undefined, 5), [128, 128, 128, 5]);
});

const colors = { levels: { 1: '#b91c1c', 2: '#f97316', 3: '#fde047' }, other: '#3b82f6', fault: '#9333ea', offline: '#9ca3af' };

test('a sensor in 3D takes its alarm level first, then its health, then its domain', () => {
  assert.equal(sensorFill({ level: 1, health: 'offline' }, colors, '#db2777'), '#b91c1c');
  assert.equal(sensorFill({ level: 4 }, colors, '#db2777'), '#3b82f6');
  assert.equal(sensorFill({ level: 0, health: 'fault' }, colors, '#db2777'), '#9333ea');
  assert.equal(sensorFill({ level: 0, health: 'offline' }, colors, '#db2777'), '#9ca3af');
  assert.equal(sensorFill({ level: 0, health: 'online' }, colors, '#db2777'), '#db2777');
  assert.equal(sensorFill(null, colors, '#db2777'), '#db2777');
});

const scene = {
  bbox: [117, 31, 117.01, 31.01],
  pipes: [{ id: 1, layer: 'gas_pipe', path: [[117, 31, -1.83], [117.001, 31, -1.83]], diameter_m: 0.25, depth_m: 1.7 }],
  shafts: [{ id: 2, layer: 'drain_node', position: [117.002, 31.002], depth_m: 2, radius_m: 0.6 }],
  boxes: [
    { id: 3, layer: 'utility_tunnel', part: 'compartment', outline: [[117, 31], [117.001, 31], [117.001, 31.0001], [117, 31]], base: -7.5, height: 3 },
    { id: 4, layer: 'bridge', part: 'deck', outline: [[117, 31], [117.001, 31], [117.001, 31.001], [117, 31]], base: 8, height: 1.5 },
    { id: 4, layer: 'bridge', part: 'pier', outline: [[117, 31], [117.00001, 31], [117.00001, 31.00001], [117, 31]], base: 0, height: 8 },
    { id: 5, layer: 'building', part: 'building', outline: [[117.005, 31.005], [117.006, 31.005], [117.006, 31.006], [117.005, 31.005]], base: 0, height: 19 },
  ],
  sensors: [{ id: 6, code: 'GAS-000001', domain: 'gas', position: [117.0005, 31, -1.83] }],
};

test('the scene is drawn bottom up: underground, the ground, what stands on it, the sensors', () => {
  const layers = sceneLayers(scene, { colorOf: () => '#db2777', sensorColor: () => '#b91c1c' });
  assert.deepEqual(layers.map((l) => l.props.id), ['scene-pipes', 'scene-shafts', 'scene-compartments', 'scene-ground', 'scene-bridges', 'scene-buildings', 'scene-sensors']);
  const by = Object.fromEntries(layers.map((l) => [l.props.id, l.props]));
  // The pipe at its stretched depth, as wide as its diameter stretched.
  assert.deepEqual(by['scene-pipes'].getPath(scene.pipes[0])[0], [117, 31, -1.83 * DEPTH_SCALE]);
  assert.equal(by['scene-pipes'].getWidth(scene.pipes[0]), 0.25 * DEPTH_SCALE);
  // The shaft from its bottom up to the ground.
  assert.deepEqual(by['scene-shafts'].getPosition(scene.shafts[0]), [117.002, 31.002, -2 * DEPTH_SCALE]);
  assert.equal(by['scene-shafts'].getElevation(scene.shafts[0]), 2 * DEPTH_SCALE);
  // The compartment from -7.5 m to -4.5 m, stretched; deck and piers, and
  // buildings, true to size.
  assert.equal(by['scene-compartments'].data.length, 1);
  assert.equal(by['scene-compartments'].getPolygon(scene.boxes[0])[0][2], -7.5 * DEPTH_SCALE);
  assert.equal(by['scene-compartments'].getElevation(scene.boxes[0]), 3 * DEPTH_SCALE);
  assert.deepEqual(by['scene-bridges'].data.map((b) => b.part), ['deck', 'pier']);
  assert.equal(by['scene-bridges'].getElevation(scene.boxes[1]), 1.5);
  assert.equal(by['scene-buildings'].getElevation(scene.boxes[3]), 19);
  // The ground covers the scene at height 0 and hides nothing.
  assert.deepEqual(by['scene-ground'].data[0][0], [117, 31, 0]);
  assert.equal(by['scene-ground'].parameters.depthWriteEnabled, false);
  // The sensor on the pipe, in its live colour, drawn over what hides it.
  assert.deepEqual(by['scene-sensors'].getPosition(scene.sensors[0]), [117.0005, 31, -1.83 * DEPTH_SCALE]);
  assert.deepEqual(by['scene-sensors'].getFillColor(scene.sensors[0]), [185, 28, 28, 255]);
  for (const id of ['scene-pipes', 'scene-shafts', 'scene-compartments', 'scene-bridges', 'scene-buildings', 'scene-sensors']) {
    assert.equal(by[id].pickable, true, `${id} is pickable`);
  }
});
