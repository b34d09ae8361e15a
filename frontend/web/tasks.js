// The responder's part of the phone (/?view=phone): the tasks assigned to
// me (GET /api/v1/tasks/mine) with their distance and a button for the next
// step (POST /api/v1/tasks/{id}/advance: accepted, en route, arrived,
// done), a field report (text, a photo from the camera uploaded first with
// POST /api/v1/attachments, and the phone's position; POST
// /api/v1/incidents/{id}/feedback), and the warnings in force around the
// phone from the live channel. Without tasks.feedback, or while the server
// does not serve the tasks (404), only the warnings show.

import { can } from '/session.js';
import { centre, el, levelBadge, request, stepErrorText } from '/incident.js';
import { distance } from '/phone.js';

// UI text in both languages, merged into the page's TEXT table.
export const TEXT = {
  zh: {
    tasksTitle: '我的任务',
    tasksNone: '暂无分派给我的任务',
    tasksLoading: '正在加载任务…',
    tasksError: '任务加载失败：',
    taskNext_accepted: '接收任务',
    taskNext_en_route: '出发',
    taskNext_arrived: '已到场',
    taskNext_done: '完成',
    taskNeedsPhoto: '需附照片',
    reportTitle: '现场反馈',
    reportText: '情况说明',
    reportPhoto: '照片',
    reportTask: '任务',
    reportNoTask: '（不关联任务）',
    reportSend: '提交反馈',
    reportSending: '正在提交…',
    reportUploading: '正在上传照片…',
    reportSent: '反馈已提交',
    reportNeedText: '请填写情况说明或附上照片',
    taskNeedsPhoto: '完成此任务需附现场照片：请在下方选择照片后再点“完成”',
    taskNeedsPosition: '完成此任务需当前位置：请允许定位后再点“完成”',
    reportNoIncident: '没有可反馈的事件',
    reportPosition: '位置：{pos}',
    reportNoPositionYet: '位置：正在定位…',
    reportPhotoTooLarge: '照片不能超过 8 MB',
    reportPhotoType: '照片须为 JPEG、PNG 或 WebP 格式',
    geo_denied: '未获得定位权限：请在浏览器或系统设置中允许本页使用位置',
    geo_unavailable: '暂时无法确定位置，请到开阔处再试',
    geo_timeout: '定位超时，正在重试',
    geo_unsupported: '此浏览器不支持定位',
    warningsNear: '附近预警',
    warningsNearNone: '附近没有生效的预警',
  },
  en: {
    tasksTitle: 'My tasks',
    tasksNone: 'No tasks assigned to me',
    tasksLoading: 'Loading the tasks…',
    tasksError: 'Could not load the tasks: ',
    taskNext_accepted: 'Accept',
    taskNext_en_route: 'On my way',
    taskNext_arrived: 'Arrived',
    taskNext_done: 'Done',
    taskNeedsPhoto: 'Needs a photo',
    reportTitle: 'Field report',
    reportText: 'What you see',
    reportPhoto: 'Photo',
    reportTask: 'Task',
    reportNoTask: '(no task)',
    reportSend: 'Send the report',
    reportSending: 'Sending…',
    reportUploading: 'Uploading the photo…',
    reportSent: 'Report sent',
    reportNeedText: 'Write what you see or add a photo',
    taskNeedsPhoto: 'This task is done with a photo from the site: choose one below, then press Done',
    taskNeedsPosition: 'This task is done with your position: allow location, then press Done',
    reportNoIncident: 'No incident to report on',
    reportPosition: 'Position: {pos}',
    reportNoPositionYet: 'Position: locating…',
    reportPhotoTooLarge: 'A photo is at most 8 MB',
    reportPhotoType: 'A photo is JPEG, PNG or WebP',
    geo_denied: 'No permission for the position: allow this page to use it in the browser or system settings',
    geo_unavailable: 'The position cannot be found just now; try again in the open',
    geo_timeout: 'Finding the position took too long; trying again',
    geo_unsupported: 'This browser cannot tell the position',
    warningsNear: 'Warnings near me',
    warningsNearNone: 'No warnings in force nearby',
  },
};

// geoErrorText is a geolocation error (a GeolocationPositionError or its
// code, or "unsupported") in the page's language, never the browser's
// message.
export function geoErrorText(err, t) {
  const code = typeof err === 'object' && err !== null ? err.code : err;
  const key = { 1: 'geo_denied', 2: 'geo_unavailable', 3: 'geo_timeout', unsupported: 'geo_unsupported' }[code] ?? 'geo_unavailable';
  return t(key);
}

// The next step of a task in each state.
const NEXT = { pending: 'accepted', assigned: 'accepted', accepted: 'en_route', en_route: 'arrived', arrived: 'done' };
const MAX_PHOTO = 8 << 20;
const PHOTO_TYPES = new Set(['image/jpeg', 'image/png', 'image/webp']);
const POLL = 60e3;

// createTasks adds the tasks, the report form and the warnings near the
// phone to its sheet. deps: t, lang, format (alarms.js's formats), phone
// (phone.js: position), map (to fly to a warning).
export function createTasks({ t, lang, format, phone, map }) {
  const st = { available: true, loaded: false, error: '', tasks: [], warnings: [], message: null, busy: false, postedAt: 0, posting: false, lastPosition: null };

  const sheet = document.getElementById('near-panel');
  const section = el('section', 'tasks-section');
  section.id = 'tasks-section';
  section.hidden = true;
  const heading = el('h2', 'tasks-title');
  const status = el('p', 'alarm-status');
  status.setAttribute('aria-live', 'polite');
  const list = el('ul', 'alarm-list tasks-list');
  list.id = 'tasks-list';

  const form = el('form', 'report-form');
  form.id = 'report-form';
  const formTitle = el('h3');
  const taskLabel = el('label', 'report-field');
  const taskText = el('span');
  const taskSelect = el('select');
  taskSelect.id = 'report-task';
  taskLabel.append(taskText, taskSelect);
  const textLabel = el('label', 'report-field');
  const textText = el('span');
  const text = el('textarea', 'incident-input');
  text.id = 'report-text';
  text.rows = 2;
  text.maxLength = 1300;
  textLabel.append(textText, text);
  const photoLabel = el('label', 'report-field');
  const photoText = el('span');
  const photo = el('input');
  photo.type = 'file';
  photo.id = 'report-photo';
  photo.accept = 'image/*';
  photo.setAttribute('capture', 'environment');
  const preview = el('img', 'report-preview');
  preview.alt = '';
  preview.hidden = true;
  photoLabel.append(photoText, photo, preview);
  const pos = el('p', 'report-position');
  pos.id = 'report-position';
  const send = el('button', 'incident-action primary');
  send.type = 'submit';
  send.id = 'report-send';
  const msg = el('p', 'report-message');
  msg.id = 'report-message';
  msg.setAttribute('aria-live', 'polite');
  form.append(formTitle, taskLabel, textLabel, photoLabel, pos, send, msg);
  section.append(heading, status, list, form);

  const near = el('section', 'warnings-near');
  near.id = 'warnings-near';
  const nearHead = el('h2', 'tasks-title');
  const nearList = el('ul', 'alarm-list warnings-near-list');
  nearList.id = 'warnings-near-list';
  near.append(nearHead, nearList);
  const anchor = sheet?.querySelector('.near-head');
  if (anchor) anchor.after(near, section);
  else sheet?.append(near, section);

  let previewURL = '';
  photo.addEventListener('change', () => {
    if (previewURL) URL.revokeObjectURL(previewURL);
    const f = photo.files?.[0];
    previewURL = f ? URL.createObjectURL(f) : '';
    preview.src = previewURL;
    preview.hidden = !f;
  });

  // ------------------------------------------------------------- tasks

  let timer = 0;
  // The live channel says when a task is given or taken away; the timer is
  // a fallback.
  window.addEventListener('onemap:poke', (e) => { if (e.detail === 'tasks') refresh(); });
  async function refresh() {
    clearTimeout(timer);
    if (!can('tasks.feedback') || !st.available) {
      section.hidden = true;
      return;
    }
    try {
      const answer = await request('/api/v1/tasks/mine', { optional: true, quiet: true });
      if (answer === null) {
        st.available = false;
        section.hidden = true;
        return;
      }
      st.tasks = answer.tasks ?? [];
      // A responder whose tasks are done still reports on their incident.
      if (st.tasks.length) st.lastIncident = st.tasks[0].incident;
      st.loaded = true;
      st.error = '';
    } catch (err) {
      st.error = stepErrorText(err, t);
    }
    section.hidden = false;
    render();
    positionChanged();
    timer = setTimeout(refresh, POLL);
  }

  function km(m) {
    return m >= 1000
      ? t('distanceKm').replace('{n}', (m / 1000).toLocaleString(format.locale(), { maximumFractionDigits: 1 }))
      : t('distanceM').replace('{n}', String(Math.round(m)));
  }

  function taskDistance(task) {
    if (Number.isFinite(task.distance_m)) return task.distance_m;
    return null;
  }

  function title2(v) {
    if (!v) return '';
    return (lang() === 'en' ? v.en || v.zh : v.zh || v.en) ?? '';
  }

  function taskRow(task) {
    const li = el('li', 'alarm-row task-row');
    li.dataset.id = String(task.id);
    li.dataset.state = task.state;
    li.append(el('span', 'alarm-what', title2(task.title)));
    const d = taskDistance(task);
    const dist = el('span', 'near-distance', d === null ? '–' : km(d));
    if (d !== null) li.dataset.distance = String(Math.round(d));
    li.append(dist);
    const meta = [
      t(`task_${task.state}`),
      task.deadline ? t('taskDeadline').replace('{at}', format.dateTime(task.deadline)) : '',
      task.needs_photo ? t('taskNeedsPhoto') : '',
    ].filter(Boolean).join(' · ');
    li.append(el('span', 'alarm-meta', meta));
    if (task.brief) li.append(el('span', 'task-brief', task.brief));
    if (task.overdue) li.append(el('span', 'task-overdue', `⚠ ${t('taskOverdue')}`));
    const next = NEXT[task.state];
    if (next) {
      const b = el('button', 'near-ack task-next', t(`taskNext_${next}`));
      b.type = 'button';
      b.dataset.to = next;
      b.addEventListener('click', () => advance(task, next, b));
      li.append(b);
    }
    return li;
  }

  // position is where the responder was located; a place they chose
  // instead is not where they report from.
  function position() {
    const p = phone?.located;
    return p ? { lon: p[0], lat: p[1] } : undefined;
  }

  // advance takes a task to its next state; done carries the report form's
  // words and photo, which some tasks need, as they need the position.
  async function advance(task, to, b) {
    st.message = null;
    render();
    const body = { to };
    const p = position();
    if (p) body.position = p;
    const file = to === 'done' ? (photo.files?.[0] ?? null) : null;
    if (to === 'done') {
      const fail = (k) => { st.message = { text: t(k), error: true }; render(); };
      if (task.needs_photo && !file) return fail('taskNeedsPhoto');
      if (task.needs_position && !p) return fail('taskNeedsPosition');
      if (file && file.size > MAX_PHOTO) return fail('reportPhotoTooLarge');
      if (file && !PHOTO_TYPES.has(file.type)) return fail('reportPhotoType');
      if (text.value.trim()) body.text = text.value.trim();
    }
    b.disabled = true;
    try {
      if (file) body.photos = [await upload(file)];
      await request(`/api/v1/tasks/${encodeURIComponent(task.id)}/advance`, { method: 'POST', body });
      if (file) {
        photo.value = '';
        text.value = '';
        preview.hidden = true;
      }
      st.message = null;
    } catch (err) {
      st.message = { text: stepErrorText(err, t), error: true };
    }
    refresh();
  }

  // ------------------------------------------------------------ report

  // upload sends a photo's bytes with its type and returns its id.
  async function upload(file) {
    const answer = await request('/api/v1/attachments', { method: 'POST', body: file, headers: { 'Content-Type': file.type } });
    return answer.id;
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (st.busy) return;
    const task = st.tasks.find((x) => String(x.id) === taskSelect.value);
    const incident = task?.incident ?? st.tasks[0]?.incident ?? st.lastIncident;
    const file = photo.files?.[0] ?? null;
    const words = text.value.trim();
    const fail = (k) => { st.message = { text: k, error: true }; render(); };
    if (!incident) return fail(t('reportNoIncident'));
    if (!words && !file) return fail(t('reportNeedText'));
    if (file && file.size > MAX_PHOTO) return fail(t('reportPhotoTooLarge'));
    if (file && !PHOTO_TYPES.has(file.type)) return fail(t('reportPhotoType'));
    st.busy = true;
    try {
      const photos = [];
      if (file) {
        st.message = { text: t('reportUploading'), error: false };
        render();
        photos.push(await upload(file));
      }
      st.message = { text: t('reportSending'), error: false };
      render();
      const body = { text: words, photos };
      if (task) body.task = task.id;
      const p = position();
      if (p) body.position = p;
      await request(`/api/v1/incidents/${encodeURIComponent(incident)}/feedback`, { method: 'POST', body });
      text.value = '';
      photo.value = '';
      preview.hidden = true;
      st.message = { text: t('reportSent'), error: false };
    } catch (err) {
      st.message = { text: stepErrorText(err, t), error: true };
    } finally {
      st.busy = false;
    }
    render();
  });

  // ---------------------------------------------------------- warnings

  // updateWarnings takes the warnings the live channel holds (those around
  // the phone) and lists them nearest first.
  function updateWarnings(list) {
    const here = phone?.position;
    st.warnings = (list ?? []).map((w) => {
      const c = centre(w.warning?.area);
      return { ...w, centre: c, distance_m: here && c ? distance(here, c) : Infinity };
    }).sort((a, b) => a.distance_m - b.distance_m);
    renderWarnings();
  }

  function renderWarnings() {
    nearHead.textContent = t('warningsNear');
    nearList.replaceChildren(...st.warnings.map((w) => {
      const li = el('li', 'alarm-row warning-near-row');
      li.dataset.incident = w.incident;
      li.dataset.level = String(w.warning?.level ?? '');
      li.append(levelBadge(w.warning?.level, t));
      const head = lang() === 'en' ? w.warning?.headline_en || w.warning?.headline : w.warning?.headline;
      li.append(el('span', 'alarm-what', head || w.warning?.location || w.incident));
      li.append(el('span', 'near-distance', Number.isFinite(w.distance_m) ? km(w.distance_m) : '–'));
      const ins = lang() === 'en' ? w.warning?.instructions_en || w.warning?.instructions : w.warning?.instructions;
      if (ins) li.append(el('span', 'alarm-meta', ins));
      if (w.centre) li.addEventListener('click', () => map.flyTo({ center: w.centre, zoom: Math.max(map.getZoom(), 15), essential: true }));
      return li;
    }));
    if (st.warnings.length === 0) nearList.append(el('li', 'alarm-status', t('warningsNearNone')));
  }

  // ------------------------------------------------------------ render

  function render() {
    heading.textContent = t('tasksTitle');
    status.className = 'alarm-status';
    if (st.error) {
      status.classList.add('error');
      status.textContent = t('tasksError') + st.error;
    } else {
      status.textContent = !st.loaded ? t('tasksLoading') : st.tasks.length ? '' : t('tasksNone');
    }
    status.hidden = status.textContent === '';
    list.replaceChildren(...st.tasks.map(taskRow));
    formTitle.textContent = t('reportTitle');
    taskText.textContent = t('reportTask');
    const chosen = taskSelect.value;
    taskSelect.replaceChildren(...[{ id: '', title: null }, ...st.tasks].map((x) => {
      const o = el('option', '', x.id === '' ? t('reportNoTask') : title2(x.title));
      o.value = String(x.id);
      return o;
    }));
    taskSelect.value = chosen;
    textText.textContent = t('reportText');
    photoText.textContent = t('reportPhoto');
    send.textContent = t('reportSend');
    send.disabled = st.busy;
    const p = phone?.located;
    pos.textContent = p
      ? t('reportPosition').replace('{pos}', `${p[1].toFixed(5)}, ${p[0].toFixed(5)}`)
      : (phone?.error ? geoErrorText(phone.error, t) : t('reportNoPositionYet'));
    msg.textContent = st.message?.text ?? '';
    msg.classList.toggle('error', Boolean(st.message?.error));
    renderWarnings();
  }

  function sessionChanged() {
    st.available = true;
    refresh();
  }

  // ---------------------------------------------------------- positions

  // positionChanged sends the phone's position while the responder has an
  // open task, at most once every 15 s (POST /api/v1/positions), so that
  // the desk sees where the responders are.
  const OPEN = new Set(['assigned', 'accepted', 'en_route', 'arrived']);
  const POSITION_EVERY = 15e3;
  let positionTimer = 0;
  async function positionChanged() {
    const p = position();
    const task = st.tasks.find((x) => OPEN.has(x.state));
    if (!p || !task || !can('tasks.feedback') || st.posting) return;
    const wait = st.postedAt + POSITION_EVERY - Date.now();
    if (wait > 0) {
      clearTimeout(positionTimer);
      positionTimer = setTimeout(positionChanged, wait);
      return;
    }
    st.posting = true;
    st.postedAt = Date.now();
    try {
      const fix = await request('/api/v1/positions', { method: 'POST', body: { incident: task.incident, task: task.id, position: p }, optional: true, quiet: true });
      if (fix) st.lastPosition = fix;
      if (st.message?.position) st.message = null;
    } catch (err) {
      st.message = { text: stepErrorText(err, t), error: true, position: true };
    }
    st.posting = false;
    render();
  }

  render();
  return {
    refresh,
    updateWarnings,
    renderText: render,
    sessionChanged,
    positionChanged,
    get lastPosition() { return st.lastPosition; },
    get tasks() { return st.tasks; },
    get warnings() { return st.warnings; },
    get available() { return st.available && can('tasks.feedback'); },
  };
}
