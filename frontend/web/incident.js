// The incident loop on the desktop: incidents opened from alarms, verified,
// drafted as a warning from the server's suggestion, reviewed, signed,
// published, responded to, resolved, released and archived (docs/incidents.md),
// and the warnings in force on the map.
//
//   - The list (#incident-panel, opened by #incident-button): GET
//     /api/v1/incidents, most recently changed first, by state.
//   - The details (#incident-detail): GET /api/v1/incidents/{id} — the state,
//     the level badge (colour and Roman numeral), the warning, the timeline of
//     the records and the controls the user's permissions and the incident's
//     allowed states permit (POST /api/v1/incidents/{id}/{step}); the push
//     status (GET …/deliveries) and the response (GET …/response, tasks and
//     field feedback), each left out while the server does not serve it.
//   - An alarm's details (alarms.js) show the incident it is in, or open one
//     for users with alarms.verify (POST /api/v1/incidents).
//   - The warnings (createWarningLayer): the areas of the warnings in force,
//     from the live channel's "warnings" topic, coloured by level and labelled
//     with its numeral; a click opens the incident.
//
// Every refusal is said in the page's language from its code (stepErrorText).

import { ApiError, api, can, current, errorText } from '/session.js';

// UI text in both languages, merged into the page's TEXT table.
export const TEXT = {
  zh: {
    incidents: '事件',
    incidentsTitle: '事件',
    incidentsButtonTitle: '显示或隐藏事件列表',
    incidentsBack: '返回事件列表',
    incidentsNone: '没有符合条件的事件',
    incidentsLoading: '正在加载事件…',
    incidentsError: '事件加载失败：',
    incidentFilter: '状态',
    incidentFilter_open: '进行中',
    incidentFilter_all: '全部',
    incidentLevel: '{n} 级',
    levelColour_1: '红色', levelColour_2: '橙色', levelColour_3: '黄色', levelColour_4: '蓝色',
    incidentLevelFull: '{n} 级（{colour}）',
    state_verifying: '核实中', state_confirmed: '已确认', state_warning_draft: '预警起草',
    state_in_review: '审核中', state_signed: '已签发', state_published: '已发布',
    state_responding: '联动处置', state_resolved: '已处置', state_released: '已解除',
    state_archived: '已归档', state_false_alarm: '误报', state_merged: '已合并', state_new: '新建',
    incidentField_alarms: '报警',
    incidentField_opened: '开立时间',
    incidentField_updated: '更新时间',
    incidentField_outcome: '核实结果',
    incidentField_cause: '误报原因',
    incidentField_reviewer: '审核人',
    incidentField_signer: '签发人',
    incidentField_into: '并入',
    outcome_confirmed: '确认属实', outcome_false_alarm: '误报', outcome_site_check: '需现场核查',
    cause_sensor_fault: '设备故障', cause_maintenance: '维护作业', cause_interference: '外部干扰', cause_other: '其他',
    incidentWarning: '预警（第 {n} 版）',
    incidentDraft: '预警草稿',
    warningField_level: '级别',
    warningField_type: '类型',
    warningField_time: '发现时间',
    warningField_location: '位置',
    warningField_surroundings: '周边情况',
    warningField_instructions: '防范措施',
    warningField_headline: '标题',
    warningField_suggested: '建议级别',
    warningField_drafter: '起草人',
    warningField_issued: '发布时间',
    incidentTimeline: '处置记录',
    incidentRecord_step: '步骤', incidentRecord_delivery: '推送', incidentRecord_task: '任务',
    incidentRecord_feedback: '现场反馈', incidentRecord_receipt: '回执', incidentRecord_position: '位置',
    incidentRecord_notify: '推送与回执', incidentRecord_plan: '预案与任务', incidentRecord_reminder: '审批提醒',
    step_opened: '开立事件',
    step_site_check: '需现场核查',
    step_approved: '审核通过',
    step_sent_back: '退回修改',
    step_edited: '修改草稿',
    step_reissued: '更新发布（第 {n} 版）',
    stepBy: '{who}（{role}）',
    stepReason: '理由：{reason}',
    stepCause: '原因：{cause}',
    incidentActions: '操作',
    incidentReason: '理由（选填）',
    incidentOpen: '开立事件',
    incidentOpenReason: '开立理由（选填）',
    incidentOpened: '已开立事件 {id}',
    incidentReportHTML: '打印报告',
    incidentReportJSON: '导出 JSON',
    incidentCAP: 'CAP 预警文档（第 {n} 版）',
    proposalsTitle: '待开立事件的报警（{n} 组）',
    proposalGroup: '第 {n} 组 · {count} 条报警',
    proposalAlarm: '报警 {id}',
    proposalNone: '请至少选择一条报警',
    proposalSplitHint: '取消勾选的报警不纳入此事件，可另行开立',
    incidentOf: '所属事件',
    incidentShow: '查看事件',
    verifyTitle: '核实',
    verifySubmit: '提交核实结果',
    verifyCause: '误报原因',
    verifyCauseText: '说明',
    verifyAssignee: '核查人员登录名',
    verifyNeedAssignee: '请填写去现场核查的人员',
    taskNote: '{who} 反馈：{text}',
    verifyNeedText: '选择“其他”时请说明原因',
    draftLoad: '起草预警',
    draftLoading: '正在生成建议…',
    draftTitle: '预警草稿',
    draftSuggested: '建议级别：{level}',
    draftReasonLabel: '级别与建议不同的理由',
    draftReasonNeeded: '所选级别与建议级别不同，请填写理由',
    draftSave: '保存草稿',
    reissueTitle: '更新预警',
    reissueLoad: '更新预警',
    reissueSave: '发布更新',
    mergeInto: '并入的事件编号',
    mergeSubmit: '合并',
    mergeNeedInto: '请填写要并入的另一事件编号',
    reviewApprove: '审核通过',
    reviewBack: '退回修改',
    reviewReason: '退回理由',
    reviewNeedReason: '退回时请说明需要修改的内容',
    step_submit: '提交审核',
    step_sign: '签发',
    step_publish: '发布',
    step_respond: '启动联动处置',
    step_resolve: '处置完毕',
    step_release: '解除预警',
    step_archive: '归档',
    incidentSending: '正在提交…',
    incidentDone: '已完成：{state}',
    incidentErrorPrefix: '操作失败：',
    errBadTransition: '事件当前为“{state}”，不能进行此操作；可转入：{allowed}',
    errFinal: '事件当前为“{state}”，已结束，不能再操作',
    errOwnDraft: '不能审核或签发自己起草的预警',
    errNotFound: '找不到该事件或报警',
    errBadRequest: '提交的内容不完整或格式不正确',
    errConflict: '与事件当前的情况冲突',
    errOther: '服务器拒绝了此操作',
    errStep_bad_cause: '误报原因不正确；选择“其他”时需要说明',
    errStep_bad_level: '预警级别须为 I 至 IV 级',
    errStep_bad_warning: '预警须有类型、位置和时间',
    errStep_no_warning: '还没有可提交的预警',
    errStep_too_long: '文字过长',
    errStep_bad_area: '预警范围不正确',
    errStep_bad_outcome: '核实结果与当前状态不符',
    errStep_no_review: '预警须先审核通过才能签发',
    errStep_alarm_taken: '该报警已在另一事件中',
    errStep_frozen: '事件已冻结，不能修改',
    errStep_bad_merge: '合并时须指定另一事件',
    errStep_no_impact: '无法分析该报警的影响范围，不能生成建议',
    deliveriesTitle: '推送情况',
    delivery_queued: '排队', delivery_sent: '已发送', delivery_delivered: '已送达',
    delivery_read: '已读', delivery_replied: '已回复', delivery_failed: '失败',
    channel_in_app: '站内', channel_sms: '短信', channel_voice: '语音', channel_webhook: '接口',
    deliveryKind_warning: '预警', deliveryKind_update: '更新', deliveryKind_release: '解除', deliveryKind_reminder: '审批督办',
    deliveriesNone: '尚无推送',
    responseTitle: '联动处置',
    responsePlan: '预案：{title}',
    responseMeasures: '措施要点',
    responseCautions: '注意事项',
    responseTasks: '任务',
    responseNoPlan: '尚无适用的预案',
    responseFeedback: '现场反馈',
    responseNoFeedback: '尚无现场反馈',
    task_pending: '待分派', task_assigned: '已分派', task_accepted: '已接收', task_en_route: '在途',
    task_arrived: '已到场', task_done: '已完成', task_cancelled: '已取消',
    taskOverdue: '已超时',
    taskDeadline: '期限 {at}',
    taskAssignee: '负责人：{who}',
    taskUnassigned: '未分派',
    taskAssign: '分派',
    taskAssignLogin: '账号',
    taskAssignNeedLogin: '请填写被分派人的账号',
    taskDistance: '距现场 {d}',
    warningsLayer: '预警范围',
    listSepZh: '、',
  },
  en: {
    incidents: 'Incidents',
    incidentsTitle: 'Incidents',
    incidentsButtonTitle: 'Show or hide the incident list',
    incidentsBack: 'Back to the incidents',
    incidentsNone: 'No incidents match',
    incidentsLoading: 'Loading the incidents…',
    incidentsError: 'Could not load the incidents: ',
    incidentFilter: 'State',
    incidentFilter_open: 'Open',
    incidentFilter_all: 'All',
    incidentLevel: 'Level {n}',
    levelColour_1: 'red', levelColour_2: 'orange', levelColour_3: 'yellow', levelColour_4: 'blue',
    incidentLevelFull: 'Level {n} ({colour})',
    state_verifying: 'Verifying', state_confirmed: 'Confirmed', state_warning_draft: 'Warning draft',
    state_in_review: 'In review', state_signed: 'Signed', state_published: 'Published',
    state_responding: 'Responding', state_resolved: 'Resolved', state_released: 'Released',
    state_archived: 'Archived', state_false_alarm: 'False alarm', state_merged: 'Merged', state_new: 'New',
    incidentField_alarms: 'Alarms',
    incidentField_opened: 'Opened',
    incidentField_updated: 'Updated',
    incidentField_outcome: 'Verification',
    incidentField_cause: 'Cause',
    incidentField_reviewer: 'Reviewer',
    incidentField_signer: 'Signer',
    incidentField_into: 'Merged into',
    outcome_confirmed: 'Confirmed', outcome_false_alarm: 'False alarm', outcome_site_check: 'Site check needed',
    cause_sensor_fault: 'Sensor fault', cause_maintenance: 'Maintenance', cause_interference: 'Interference', cause_other: 'Other',
    incidentWarning: 'Warning (version {n})',
    incidentDraft: 'Warning draft',
    warningField_level: 'Level',
    warningField_type: 'Type',
    warningField_time: 'Found',
    warningField_location: 'Location',
    warningField_surroundings: 'Surroundings',
    warningField_instructions: 'Instructions',
    warningField_headline: 'Headline',
    warningField_suggested: 'Suggested level',
    warningField_drafter: 'Drafter',
    warningField_issued: 'Issued',
    incidentTimeline: 'Record',
    incidentRecord_step: 'Step', incidentRecord_delivery: 'Delivery', incidentRecord_task: 'Task',
    incidentRecord_feedback: 'Field report', incidentRecord_receipt: 'Receipt', incidentRecord_position: 'Position',
    incidentRecord_notify: 'Push and receipts', incidentRecord_plan: 'Plan and tasks', incidentRecord_reminder: 'Approval reminder',
    step_opened: 'Opened',
    step_site_check: 'Site check needed',
    step_approved: 'Approved',
    step_sent_back: 'Sent back',
    step_edited: 'Draft edited',
    step_reissued: 'Re-issued (version {n})',
    stepBy: '{who} ({role})',
    stepReason: 'Reason: {reason}',
    stepCause: 'Cause: {cause}',
    incidentActions: 'Actions',
    incidentReason: 'Reason (optional)',
    incidentOpen: 'Open an incident',
    incidentOpenReason: 'Why (optional)',
    incidentOpened: 'Incident {id} opened',
    incidentReportHTML: 'Printable report',
    incidentReportJSON: 'Export JSON',
    incidentCAP: 'CAP alert (version {n})',
    proposalsTitle: 'Alarms in no incident ({n} groups)',
    proposalGroup: 'Group {n} · {count} alarms',
    proposalAlarm: 'Alarm {id}',
    proposalNone: 'Tick at least one alarm',
    proposalSplitHint: 'Alarms left unticked stay out of this incident and can be opened apart',
    incidentOf: 'Incident',
    incidentShow: 'Show the incident',
    verifyTitle: 'Verify',
    verifySubmit: 'Record the verification',
    verifyCause: 'Cause',
    verifyCauseText: 'Details',
    verifyAssignee: 'Login of who checks on site',
    verifyNeedAssignee: 'Say who goes to check on site',
    taskNote: '{who} reports: {text}',
    verifyNeedText: 'Say what the cause was when it is “Other”',
    draftLoad: 'Draft a warning',
    draftLoading: 'Drafting the suggestion…',
    draftTitle: 'Warning draft',
    draftSuggested: 'Suggested level: {level}',
    draftReasonLabel: 'Why the level differs from the suggestion',
    draftReasonNeeded: 'The level differs from the suggestion: say why',
    draftSave: 'Save the draft',
    reissueTitle: 'Re-issue the warning',
    reissueLoad: 'Re-issue',
    reissueSave: 'Publish the update',
    mergeInto: 'Incident to merge into',
    mergeSubmit: 'Merge',
    mergeNeedInto: 'Enter the id of another incident to merge into',
    reviewApprove: 'Approve',
    reviewBack: 'Send back',
    reviewReason: 'What to change',
    reviewNeedReason: 'Say what to change when sending a draft back',
    step_submit: 'Submit for review',
    step_sign: 'Sign',
    step_publish: 'Publish',
    step_respond: 'Start the response',
    step_resolve: 'Resolved',
    step_release: 'Release the warning',
    step_archive: 'Archive',
    incidentSending: 'Sending…',
    incidentDone: 'Done: {state}',
    incidentErrorPrefix: 'Refused: ',
    errBadTransition: 'The incident is “{state}”: this step is not possible; it may go to: {allowed}',
    errFinal: 'The incident is “{state}” and closed: no more steps',
    errOwnDraft: 'You cannot review or sign a warning you drafted',
    errNotFound: 'No such incident or alarm',
    errBadRequest: 'What was sent is incomplete or malformed',
    errConflict: 'This conflicts with where the incident stands',
    errOther: 'The server refused this step',
    errStep_bad_cause: 'The cause is not valid; “Other” needs details',
    errStep_bad_level: 'A warning level is I to IV',
    errStep_bad_warning: 'A warning needs a type, a location and a time',
    errStep_no_warning: 'There is no warning to submit yet',
    errStep_too_long: 'A text is too long',
    errStep_bad_area: 'The warning area is not valid',
    errStep_bad_outcome: 'The verification does not fit the state',
    errStep_no_review: 'A draft is approved before it is signed',
    errStep_alarm_taken: 'The alarm is in another incident already',
    errStep_frozen: 'The incident is frozen',
    errStep_bad_merge: 'A merge names another incident',
    errStep_no_impact: 'The alarm\'s impact cannot be analysed: no suggestion',
    deliveriesTitle: 'Push status',
    delivery_queued: 'Queued', delivery_sent: 'Sent', delivery_delivered: 'Delivered',
    delivery_read: 'Read', delivery_replied: 'Replied', delivery_failed: 'Failed',
    channel_in_app: 'In app', channel_sms: 'SMS', channel_voice: 'Voice', channel_webhook: 'Webhook',
    deliveryKind_warning: 'Warning', deliveryKind_update: 'Update', deliveryKind_release: 'Release', deliveryKind_reminder: 'Approval reminder',
    deliveriesNone: 'Nothing pushed yet',
    responseTitle: 'Response',
    responsePlan: 'Plan: {title}',
    responseMeasures: 'Measures',
    responseCautions: 'Cautions',
    responseTasks: 'Tasks',
    responseNoPlan: 'No plan applies yet',
    responseFeedback: 'Field reports',
    responseNoFeedback: 'No field reports yet',
    task_pending: 'Pending', task_assigned: 'Assigned', task_accepted: 'Accepted', task_en_route: 'En route',
    task_arrived: 'Arrived', task_done: 'Done', task_cancelled: 'Cancelled',
    taskOverdue: 'Overdue',
    taskDeadline: 'Due {at}',
    taskAssignee: 'Assignee: {who}',
    taskUnassigned: 'Unassigned',
    taskAssign: 'Assign',
    taskAssignLogin: 'Login',
    taskAssignNeedLogin: 'Enter the login to assign the task to',
    taskDistance: '{d} from the site',
    warningsLayer: 'Warning areas',
    listSepZh: ', ',
  },
};

// The colours of the warning levels: I red, II orange, III yellow, IV blue.
export const WARNING_COLORS = { 1: '#dc2626', 2: '#f97316', 3: '#facc15', 4: '#2563eb' };
// The Roman numerals of the levels.
export const ROMAN = { 1: 'I', 2: 'II', 3: 'III', 4: 'IV' };

// The states in the order of the loop, and those where an incident is over.
export const STATES = ['verifying', 'confirmed', 'warning_draft', 'in_review', 'signed', 'published',
  'responding', 'resolved', 'released', 'archived', 'false_alarm', 'merged'];
const CLOSED = new Set(['archived', 'false_alarm', 'merged']);
// The states whose warning is in force.
export const STANDING = new Set(['published', 'responding', 'resolved']);

// The permission each step needs.
const STEP_PERM = {
  verify: 'alarms.verify', merge: 'alarms.verify', draft: 'warnings.draft', submit: 'warnings.draft',
  review: 'warnings.review', sign: 'warnings.sign', publish: 'warnings.sign', update: 'warnings.sign',
  respond: 'warnings.sign', resolve: 'warnings.sign', release: 'warnings.sign', archive: 'warnings.sign',
};

const TASK_STATES = ['pending', 'assigned', 'accepted', 'en_route', 'arrived', 'done', 'cancelled'];
const DELIVERY_STATES = ['queued', 'sent', 'delivered', 'read', 'replied', 'failed'];

// levelText is a level in words: "II 级（橙色）", "Level II (orange)".
export function levelText(level, t) {
  if (!ROMAN[level]) return '';
  return t('incidentLevelFull').replace('{n}', ROMAN[level]).replace('{colour}', t(`levelColour_${level}`));
}

// levelBadge is a badge of a warning level: its colour, its numeral and
// its colour's name (or text), so that it reads without telling colours
// apart.
export function levelBadge(level, t, id = '', text = levelText(level, t)) {
  const b = document.createElement('span');
  b.className = 'warning-badge';
  if (id) b.id = id;
  b.dataset.level = String(level ?? '');
  b.textContent = text;
  b.style.background = WARNING_COLORS[level] ?? '#9ca3af';
  return b;
}

// stateTitle is a state's name in the page's language.
export function stateTitle(s, t) {
  const v = t(`state_${s}`);
  return v === `state_${s}` ? s : v;
}

function say(t, key, fallback) {
  const v = t(key);
  return v === key ? fallback : v;
}

// stepErrorText is a refusal of the incident routes in the page's language,
// from its code and, for bad_transition, the state and allowed states it
// names; the code follows in brackets.
export function stepErrorText(err, t) {
  const code = err?.code || '';
  const zh = t('listSepZh') === '、';
  const tail = code ? (zh ? `（${code}）` : ` (${code})`) : '';
  let text;
  switch (code) {
    case 'bad_transition': {
      const state = stateTitle(err.state || 'new', t);
      const allowed = (err.allowed ?? []).map((s) => stateTitle(s, t));
      text = allowed.length
        ? t('errBadTransition').replace('{state}', state).replace('{allowed}', allowed.join(t('listSepZh')))
        : t('errFinal').replace('{state}', state);
      break;
    }
    case 'own_draft': text = t('errOwnDraft'); break;
    case 'not_found': text = t('errNotFound'); break;
    case 'bad_request': case 'bad_body': text = t('errBadRequest'); break;
    case 'bad_step': case 'conflict': {
      const inner = /^([a-z_]+):/.exec(err.message ?? '')?.[1] ?? '';
      text = say(t, `errStep_${inner}`, t(code === 'conflict' ? 'errConflict' : 'errOther'));
      return inner ? text + (zh ? `（${inner}）` : ` (${inner})`) : text + tail;
    }
    case 'forbidden': case 'csrf': case 'unauthorized': case 'network':
      return errorText(err, t);
    default: text = say(t, `errStep_${code}`, t('errOther'));
  }
  return text + tail;
}

// request sends a request to the API and returns its JSON; a refusal is an
// ApiError with the code, and for bad_transition the state and allowed
// states. With optional, a 404 or 501 (a route the server does not serve)
// is null. With quiet, a 401 does not lead to the login page (a request the
// user did not ask for).
export async function request(url, { method = 'GET', body, optional = false, headers, quiet = false } = {}) {
  let res;
  const opts = { method, headers: headers ?? {} };
  if (quiet) opts.login = false;
  if (body !== undefined) {
    if (body instanceof Blob) {
      opts.body = body;
    } else {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
  }
  try {
    res = await api(url, opts);
  } catch (err) {
    throw new ApiError(0, 'network', err?.message);
  }
  if (optional && (res.status === 404 || res.status === 501 || res.status === 405)) return null;
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const e = new ApiError(res.status, data?.error?.code, data?.error?.message);
    e.state = data?.error?.state;
    e.allowed = data?.error?.allowed;
    throw e;
  }
  return data;
}

// el makes an element with a class and text.
export function el(tag, className = '', text = '') {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text) e.textContent = text;
  return e;
}

function button(id, text, onClick, className = 'incident-action') {
  const b = el('button', className, text);
  b.type = 'button';
  if (id) b.id = id;
  b.addEventListener('click', onClick);
  return b;
}

// ------------------------------------------------------------ warnings

const WSRC = 'warnings';
const WLYR = { fill: 'warnings-fill', line: 'warnings-line', label: 'warnings-label' };

// centre is the middle of a GeoJSON geometry's bounds, [lon, lat], or null.
export function centre(geom) {
  let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
  const walk = (c) => {
    if (typeof c[0] === 'number') {
      minX = Math.min(minX, c[0]); maxX = Math.max(maxX, c[0]);
      minY = Math.min(minY, c[1]); maxY = Math.max(maxY, c[1]);
    } else {
      for (const x of c) walk(x);
    }
  };
  if (geom?.type === 'GeometryCollection') for (const g of geom.geometries ?? []) walk(g.coordinates ?? []);
  else if (geom?.coordinates) walk(geom.coordinates);
  return Number.isFinite(minX) ? [(minX + maxX) / 2, (minY + maxY) / 2] : null;
}

// createWarningLayer draws the warnings in force: each one's area filled and
// outlined in its level's colour, with its numeral. update(list) takes the
// live channel's warnings ({incident, state, standing, warning, versions});
// click(e) opens the incident of an area under the pointer (onPick).
export function createWarningLayer({ map, onPick = null }) {
  const st = { warnings: new Map() };

  function features() {
    const fs = [];
    for (const w of st.warnings.values()) {
      const g = w.warning?.area;
      if (!g) continue;
      const level = w.warning.level;
      fs.push({
        type: 'Feature',
        geometry: g,
        properties: { incident: w.incident, level, label: ROMAN[level] ?? '?', order: -level },
      });
    }
    return { type: 'FeatureCollection', features: fs };
  }

  const colour = ['match', ['get', 'level'], 1, WARNING_COLORS[1], 2, WARNING_COLORS[2], 3, WARNING_COLORS[3], WARNING_COLORS[4]];

  function addLayers() {
    if (map.getSource(WSRC) || map.getLayersOrder().length === 0) return;
    try {
      map.addSource(WSRC, { type: 'geojson', data: features() });
      const below = map.getLayer('alarms-halo') ? 'alarms-halo' : undefined;
      map.addLayer({ id: WLYR.fill, type: 'fill', source: WSRC, paint: { 'fill-color': colour, 'fill-opacity': 0.22 } }, below);
      map.addLayer({ id: WLYR.line, type: 'line', source: WSRC, paint: { 'line-color': colour, 'line-width': 2.5, 'line-dasharray': [4, 2] } }, below);
      map.addLayer({
        id: WLYR.label, type: 'symbol', source: WSRC,
        layout: { 'text-field': ['get', 'label'], 'text-font': ['Go Bold'], 'text-size': 18, 'symbol-sort-key': ['get', 'order'], 'text-allow-overlap': true },
        paint: { 'text-color': colour, 'text-halo-color': '#ffffff', 'text-halo-width': 2 },
      }, below);
    } catch {
      // The style is not ready yet; its next styledata event comes.
    }
  }
  map.on('styledata', addLayers);
  map.on('style.load', addLayers);

  function draw() {
    addLayers();
    map.getSource(WSRC)?.setData(features());
  }

  // update takes the warnings in force; one not standing is dropped.
  function update(list) {
    st.warnings = new Map();
    for (const w of list ?? []) if (w?.standing !== false && w?.incident) st.warnings.set(w.incident, w);
    draw();
  }

  function click(e) {
    if (!onPick || !map.getLayer(WLYR.fill)) return false;
    const hits = map.queryRenderedFeatures(e.point, { layers: [WLYR.fill] });
    if (hits.length === 0) return false;
    // The most severe area under the pointer.
    hits.sort((a, b) => a.properties.level - b.properties.level);
    onPick(hits[0].properties.incident);
    return true;
  }

  return {
    update,
    click,
    get list() { return [...st.warnings.values()]; },
  };
}

// ------------------------------------------------------------- the panel

// createIncidents adds the incident button, list and details to the
// desktop. deps: map, t, lang, format (alarms.js's formats), onOpen() when
// the panel opens. It returns
// alarmSection(alarm) for an alarm's details, open(id), warningsChanged,
// renderText, permissionsChanged and its state for tests.
export function createIncidents({ map, t, lang, format, onOpen = () => {}, replay = null, positions = null }) {
  const st = {
    open: false,
    view: 'list',
    filter: 'open',
    incidents: [],
    loaded: false,
    error: '',
    detail: null, // {id, incident, allowed, records, deliveries, response, form, message}
    seq: 0,
  };

  const header = document.querySelector('.legend-head');
  const btn = el('button', 'legend-button incident-button');
  btn.type = 'button';
  btn.id = 'incident-button';
  btn.setAttribute('aria-controls', 'incident-panel');
  btn.setAttribute('aria-expanded', 'false');
  const btnText = el('span');
  const count = el('span', 'alarm-count');
  count.id = 'incident-count';
  btn.append(btnText, ' ', count);
  document.getElementById('alarm-button')?.after(btn) ?? header?.append(btn);

  const panel = el('aside', 'incident-panel');
  panel.id = 'incident-panel';
  panel.hidden = true;
  const head = el('header', 'alarm-head');
  const back = button('incident-back', '‹', () => showList(), 'legend-button');
  const heading = el('h2');
  heading.id = 'incident-title';
  const close = button('incident-close', '×', () => setOpen(false), 'legend-button');
  head.append(back, heading, close);
  panel.setAttribute('aria-labelledby', heading.id);
  const body = el('div', 'alarm-body incident-body');
  const listView = el('div');
  const filterLabel = el('label', 'incident-filter');
  const filterText = el('span');
  const filter = el('select');
  filter.id = 'incident-filter';
  filter.addEventListener('change', () => { st.filter = filter.value; load(); });
  filterLabel.append(filterText, filter);
  const status = el('p', 'alarm-status');
  status.setAttribute('aria-live', 'polite');
  const list = el('ul', 'alarm-list incident-list');
  list.id = 'incident-list';
  const proposalsBox = el('section', 'incident-proposals');
  proposalsBox.id = 'incident-proposals';
  proposalsBox.hidden = true;
  listView.append(filterLabel, status, proposalsBox, list);
  const detail = el('section', 'incident-detail');
  detail.id = 'incident-detail';
  detail.hidden = true;
  body.append(listView, detail);
  panel.append(head, body);
  document.body.append(panel);
  btn.addEventListener('click', () => setOpen(!st.open));

  function setOpen(open) {
    st.open = open;
    panel.hidden = !open;
    btn.setAttribute('aria-expanded', String(open));
    if (open) {
      onOpen();
      load();
    } else {
      positions?.watch(null);
    }
    render();
  }

  function showList() {
    st.view = 'list';
    st.detail = null;
    positions?.watch(null);
    load();
    render();
  }

  // ------------------------------------------------------------ loading

  let pollTimer = 0;
  async function load() {
    clearTimeout(pollTimer);
    const seq = ++st.seq;
    const q = st.filter === 'open' || st.filter === 'all' ? '' : `&state=${st.filter}`;
    try {
      const body = await request(`/api/v1/incidents?limit=1000${q}`);
      if (seq !== st.seq) return;
      let all = body?.incidents ?? [];
      if (st.filter === 'open') all = all.filter((i) => !CLOSED.has(i.state));
      st.incidents = all;
      st.loaded = true;
      st.error = '';
    } catch (err) {
      if (seq !== st.seq) return;
      st.error = stepErrorText(err, t);
    }
    renderCount();
    if (st.view === 'list') renderList();
    loadProposals(seq);
    if (st.open) pollTimer = setTimeout(load, 15000);
  }

  // loadProposals fetches the active alarms in no incident, grouped.
  async function loadProposals(seq) {
    let body = null;
    try {
      body = await request('/api/v1/incidents/proposals', { optional: true, quiet: true });
    } catch {
      body = null;
    }
    if (seq !== st.seq) return;
    st.proposals = body?.proposals ?? [];
    if (st.view === 'list') renderProposals();
  }

  async function loadDetail() {
    const d = st.detail;
    if (!d) return;
    try {
      const body = await request(`/api/v1/incidents/${encodeURIComponent(d.id)}`);
      if (st.detail !== d) return;
      d.incident = body.incident;
      d.allowed = body.allowed ?? [];
      d.records = body.records ?? [];
      d.error = '';
    } catch (err) {
      if (st.detail !== d) return;
      d.error = stepErrorText(err, t);
    }
    renderDetail();
    loadPush(d);
  }

  // loadPush fetches the deliveries and the response, each left out while
  // the server does not serve it.
  async function loadPush(d) {
    const id = encodeURIComponent(d.id);
    const [dl, rs] = await Promise.all([
      request(`/api/v1/incidents/${id}/deliveries`, { optional: true }).catch(() => null),
      request(`/api/v1/incidents/${id}/response`, { optional: true }).catch(() => null),
    ]);
    if (st.detail !== d) return;
    d.deliveries = dl;
    d.response = rs;
    renderPush();
  }

  // open shows an incident's details.
  async function open(id) {
    if (!st.open) setOpen(true);
    st.view = 'detail';
    st.detail = { id, incident: null, allowed: [], records: [], deliveries: null, response: null, form: '', message: null, error: '' };
    render();
    await loadDetail();
  }

  // ------------------------------------------------------------ the list

  function renderCount() {
    const n = st.incidents.filter((i) => !CLOSED.has(i.state)).length;
    count.textContent = st.filter === 'open' || st.filter === 'all' ? String(n) : count.textContent;
  }

  function render() {
    heading.textContent = t('incidentsTitle');
    back.hidden = st.view !== 'detail';
    back.title = t('incidentsBack');
    back.setAttribute('aria-label', t('incidentsBack'));
    close.title = t('closePanel');
    close.setAttribute('aria-label', t('closePanel'));
    listView.hidden = st.view !== 'list';
    detail.hidden = st.view !== 'detail';
    panel.dataset.view = st.view;
    if (!st.open) return;
    if (st.view === 'list') renderList();
    else renderDetail();
  }

  function renderList() {
    filterText.textContent = t('incidentFilter');
    const opts = ['open', 'all', ...STATES];
    filter.replaceChildren(...opts.map((s) => {
      const o = el('option', '', s === 'open' || s === 'all' ? t(`incidentFilter_${s}`) : stateTitle(s, t));
      o.value = s;
      return o;
    }));
    filter.value = st.filter;
    status.className = 'alarm-status';
    if (st.error) {
      status.classList.add('error');
      status.textContent = t('incidentsError') + st.error;
    } else if (!st.loaded) {
      status.textContent = t('incidentsLoading');
    } else {
      status.textContent = st.incidents.length ? '' : t('incidentsNone');
    }
    status.hidden = status.textContent === '';
    list.replaceChildren(...st.incidents.map(row));
    renderProposals();
  }

  function currentWarning(i) {
    return i.versions?.length ? i.versions[i.versions.length - 1] : null;
  }

  function row(i) {
    const li = el('li', 'alarm-row incident-row');
    li.dataset.id = i.id;
    li.dataset.state = i.state;
    li.tabIndex = 0;
    const w = i.draft ?? currentWarning(i);
    const badge = w ? levelBadge(w.level, t) : el('span', 'warning-badge none', '–');
    const what = el('span', 'alarm-what', `${i.id} · ${stateTitle(i.state, t)}`);
    const meta = el('span', 'alarm-meta', [w?.headline && lang() === 'en' ? (w.headline_en || w.headline) : w?.headline, format.relative(i.updated)].filter(Boolean).join(' · '));
    meta.title = format.dateTime(i.updated);
    li.append(badge, what, meta);
    li.addEventListener('click', () => open(i.id));
    li.addEventListener('keydown', (e) => { if (e.key === 'Enter' && e.target === li) open(i.id); });
    return li;
  }

  // --------------------------------------------------------- the details

  let pushEl = null;

  function renderDetail() {
    const d = st.detail;
    // What the user is typing survives a redraw (a live update of the
    // incident): the reason is kept in d, and its focus and caret here.
    const typing = document.activeElement?.id === 'incident-step-reason' ? document.activeElement : null;
    const caret = typing ? [typing.selectionStart, typing.selectionEnd] : null;
    detail.replaceChildren();
    if (!d) return;
    detail.dataset.id = d.id;
    if (!d.incident) {
      const p = el('p', d.error ? 'alarm-status error' : 'alarm-status', d.error ? t('incidentsError') + d.error : t('incidentsLoading'));
      detail.append(p);
      return;
    }
    const i = d.incident;
    const w = currentWarning(i);
    const h = el('h3', 'incident-detail-title');
    const stateEl = el('span', 'incident-state', stateTitle(i.state, t));
    stateEl.id = 'incident-state';
    stateEl.dataset.state = i.state;
    const level = (i.draft ?? w)?.level;
    h.append(level ? levelBadge(level, t, 'incident-level') : '', ` ${i.id} `, stateEl);
    detail.append(h);

    const dl = el('dl', 'alarm-fields');
    const field = (name, value) => {
      if (value === undefined || value === null || value === '') return;
      dl.append(el('dt', '', t(`incidentField_${name}`)));
      const dd = el('dd', '', String(value));
      dd.dataset.field = name;
      dl.append(dd);
    };
    field('alarms', (i.alarms ?? []).map((a) => `#${a}`).join(' '));
    field('opened', format.dateTime(i.opened));
    field('updated', `${format.dateTime(i.updated)} (${format.relative(i.updated)})`);
    if (i.outcome) field('outcome', t(`outcome_${i.outcome}`));
    if (i.cause) field('cause', [t(`cause_${i.cause}`), i.cause_text].filter(Boolean).join('：'));
    field('reviewer', i.reviewer);
    field('signer', i.signer);
    field('into', i.into);
    detail.append(dl);
    detail.append(linksBlock(i, w));
    positions?.watch(CLOSED.has(i.state) ? null : i.id);

    if (w) detail.append(warningBlock(w, t('incidentWarning').replace('{n}', w.version), 'incident-warning'));
    if (i.draft) detail.append(warningBlock(i.draft, t('incidentDraft'), 'incident-draft'));

    const actions = el('div', 'incident-actions');
    actions.id = 'incident-actions';
    renderActions(actions, d);
    detail.append(actions);

    pushEl = el('div', 'incident-push');
    detail.append(pushEl);
    renderPush();

    detail.append(el('h4', '', t('incidentTimeline')), timeline(d.records));
    const again = typing && document.getElementById('incident-step-reason');
    if (again) {
      again.focus({ preventScroll: true });
      again.setSelectionRange(...caret);
    }
  }

  // linksBlock links the printable report, the JSON export, the current
  // warning's CAP document once published, and starts the replay.
  function linksBlock(i, w) {
    const box = el('div', 'incident-links');
    box.id = 'incident-links';
    const id = encodeURIComponent(i.id);
    const link = (lid, href, text, { tab = false, download = '' } = {}) => {
      const a = el('a', 'incident-link', text);
      a.id = lid;
      a.href = href;
      if (tab) {
        a.target = '_blank';
        a.rel = 'noopener';
      }
      if (download) a.download = download;
      return a;
    };
    box.append(
      link('incident-report-html', `/api/v1/incidents/${id}/report.html?lang=${lang() === 'en' ? 'en' : 'zh'}`, t('incidentReportHTML'), { tab: true }),
      link('incident-report-json', `/api/v1/incidents/${id}/report`, t('incidentReportJSON'), { download: `${i.id}.json` }),
    );
    if (w) box.append(link('incident-cap', `/api/v1/warnings/${id}/cap.xml`, t('incidentCAP').replace('{n}', w.version), { tab: true }));
    if (replay) {
      const b = button('incident-replay', t('replayStart'), () => replay.open(i.id), 'incident-action');
      b.title = t('replayStartTitle');
      box.append(b);
    }
    return box;
  }

  // renderProposals lists the active alarms in no incident, grouped as the
  // engine groups them; a user with alarms.verify opens an incident of a
  // group, or of the alarms ticked in it (a group split).
  function renderProposals() {
    const props = st.proposals ?? [];
    proposalsBox.hidden = props.length === 0;
    proposalsBox.replaceChildren();
    if (props.length === 0) return;
    proposalsBox.append(el('h3', '', t('proposalsTitle').replace('{n}', String(props.length))));
    const ul = el('ul', 'alarm-list incident-proposal-list');
    props.forEach((p, n) => {
      const li = el('li', 'incident-proposal');
      li.dataset.alarms = (p.alarms ?? []).join(',');
      const picks = el('div', 'incident-proposal-alarms');
      const boxes = [];
      for (const a of p.alarms ?? []) {
        const l = el('label', 'incident-proposal-alarm');
        const c = el('input');
        c.type = 'checkbox';
        c.checked = true;
        c.value = String(a);
        c.disabled = !can('alarms.verify');
        c.setAttribute('aria-label', t('proposalAlarm').replace('{id}', String(a)));
        boxes.push(c);
        l.append(c, ` #${a}`);
        picks.append(l);
      }
      li.append(el('span', 'alarm-what', t('proposalGroup').replace('{n}', String(n + 1)).replace('{count}', String(boxes.length))), picks);
      if (can('alarms.verify')) {
        const msg = el('p', 'alarm-ack-message');
        const go = button('', t('incidentOpen'), async () => {
          const alarms = boxes.filter((c) => c.checked).map((c) => Number(c.value));
          if (alarms.length === 0) {
            msg.className = 'alarm-ack-message error';
            msg.textContent = t('proposalNone');
            return;
          }
          go.disabled = true;
          msg.className = 'alarm-ack-message';
          msg.textContent = t('incidentSending');
          try {
            const answer = await request('/api/v1/incidents', { method: 'POST', body: { alarms } });
            open(answer.incident.id);
          } catch (err) {
            go.disabled = false;
            msg.className = 'alarm-ack-message error';
            msg.textContent = t('incidentErrorPrefix') + stepErrorText(err, t);
          }
        }, 'incident-action incident-proposal-open');
        if (boxes.length > 1) go.title = t('proposalSplitHint');
        li.append(go, msg);
      }
      ul.append(li);
    });
    proposalsBox.append(ul);
  }

  function warningBlock(w, title, id) {
    const box = el('section', 'incident-warning-box');
    box.id = id;
    box.dataset.level = String(w.level);
    box.append(el('h4', '', title));
    const en = lang() === 'en';
    const dl = el('dl', 'alarm-fields');
    const f = (name, value) => {
      if (!value) return;
      dl.append(el('dt', '', t(`warningField_${name}`)));
      const dd = el('dd', '', String(value));
      dd.dataset.field = name;
      dl.append(dd);
    };
    f('headline', en ? (w.headline_en || w.headline) : w.headline);
    const lv = el('dd');
    lv.dataset.field = 'level';
    lv.append(levelBadge(w.level, t));
    dl.append(el('dt', '', t('warningField_level')), lv);
    if (w.suggested && w.suggested !== w.level) {
      const sg = el('dd');
      sg.dataset.field = 'suggested';
      sg.append(levelBadge(w.suggested, t), ` ${(en ? w.suggested_why_en || w.suggested_why : w.suggested_why) ?? ''}`);
      dl.append(el('dt', '', t('warningField_suggested')), sg);
    }
    f('location', w.location);
    f('time', format.dateTime(w.time));
    f('surroundings', en ? (w.surroundings_en || w.surroundings) : w.surroundings);
    f('instructions', en ? (w.instructions_en || w.instructions) : w.instructions);
    f('drafter', w.drafter);
    if (w.issued) f('issued', format.dateTime(w.issued));
    box.append(dl);
    return box;
  }

  // timeline lists the records: each step with its state (or what it
  // did), who in which role, when, and why; the records of the push and the
  // plan between two steps as one line per kind with their number.
  function timeline(records) {
    const ol = el('ol', 'incident-timeline');
    ol.id = 'incident-timeline';
    let prev = 'new';
    let versions = 0; // the versions published so far
    let run = null; // the line of the records of one kind in a row
    for (const r of records ?? []) {
      if (r.kind !== 'step' && run?.kind === r.kind) {
        run.n++;
        run.count.textContent = ` ×${run.n}`;
        run.li.dataset.count = String(run.n);
        continue;
      }
      run = null;
      const li = el('li', 'incident-step');
      li.dataset.kind = r.kind;
      const when = el('time', 'incident-step-time', format.dateTime(r.at ?? r.data?.at));
      when.dateTime = r.at ?? r.data?.at ?? '';
      if (r.kind === 'step') {
        const ev = r.data ?? {};
        li.dataset.to = ev.to;
        if (ev.to === 'published' && prev === 'signed') versions++;
        else if (ev.to === prev && ev.warning) versions++;
        const what = el('span', 'incident-step-what', stepLabel(ev, prev, versions));
        const who = el('span', 'incident-step-who', t('stepBy').replace('{who}', ev.who ?? '').replace('{role}', roleName(ev.role)));
        li.append(what, who, when);
        if (ev.cause) li.append(el('span', 'incident-step-reason', t('stepCause').replace('{cause}', [t(`cause_${ev.cause}`), ev.cause_text].filter(Boolean).join('：'))));
        if (ev.reason) li.append(el('span', 'incident-step-reason', t('stepReason').replace('{reason}', ev.reason)));
        prev = ev.to;
      } else {
        const what = el('span', 'incident-step-what', say(t, `incidentRecord_${r.kind}`, r.kind));
        const count = el('span', 'incident-step-count');
        what.append(count);
        li.dataset.count = '1';
        li.append(what, when);
        run = { kind: r.kind, n: 1, li, count };
      }
      ol.append(li);
    }
    return ol;
  }

  function stepLabel(ev, prev, versions) {
    if (prev === 'new') return t('step_opened');
    if (ev.to === 'verifying' && ev.outcome === 'site_check') return t('step_site_check');
    if (ev.to === 'in_review' && prev === 'in_review') return t('step_approved');
    if (ev.to === 'warning_draft' && prev === 'in_review') return t('step_sent_back');
    if (ev.to === 'warning_draft' && prev === 'warning_draft') return t('step_edited');
    if (ev.to === prev && ev.warning) return t('step_reissued').replace('{n}', String(ev.warning.version || versions));
    return stateTitle(ev.to, t);
  }

  function roleName(r) {
    const v = t(`role_${r}`);
    return v === `role_${r}` ? (r ?? '') : v;
  }

  // ------------------------------------------------------------ controls

  // renderActions offers the steps the incident's allowed states and the
  // user's permissions permit.
  function renderActions(box, d) {
    const i = d.incident;
    const allowed = new Set(d.allowed ?? []);
    const mayStep = (step) => can(STEP_PERM[step]);
    const msg = el('p', 'incident-message');
    msg.id = 'incident-message';
    msg.setAttribute('aria-live', 'polite');
    if (d.message) {
      msg.textContent = d.message.text;
      msg.classList.toggle('error', d.message.error);
    }
    const add = [];

    if (i.state === 'verifying' && mayStep('verify')) add.push(verifyForm(d));
    if (allowed.has('merged') && mayStep('merge')) add.push(mergeForm(d));
    // A drafter neither reviews nor signs their own draft.
    const own = Boolean(i.draft?.drafter) && i.draft.drafter === current().user?.login;
    if (own && i.state === 'in_review' && (mayStep('review') || mayStep('sign'))) add.push(el('p', 'incident-hint', t('errOwnDraft')));
    if ((allowed.has('warning_draft') && i.state !== 'in_review') && mayStep('draft')) {
      if (d.form === 'draft') add.push(draftForm(d, 'draft'));
      else add.push(button('incident-draft-load', t('draftLoad'), () => { d.form = 'draft'; renderDetail(); }));
    }
    if (i.state === 'warning_draft' && i.draft && allowed.has('in_review') && mayStep('submit')) {
      add.push(button('incident-step-submit', t('step_submit'), () => step(d, 'submit', {})));
    }
    if (i.state === 'in_review' && !i.reviewer && !own && mayStep('review')) add.push(reviewForm(d));
    if (allowed.has('signed') && i.reviewer && !own && mayStep('sign')) {
      add.push(button('incident-step-sign', t('step_sign'), () => step(d, 'sign', {})));
    }
    if (i.state === 'signed' && allowed.has('published') && mayStep('publish')) {
      add.push(button('incident-step-publish', t('step_publish'), () => step(d, 'publish', {})));
    }
    if ((i.state === 'published' || i.state === 'responding') && i.versions?.length && mayStep('update')) {
      if (d.form === 'update') add.push(draftForm(d, 'update'));
      else add.push(button('incident-reissue-load', t('reissueLoad'), () => { d.form = 'update'; renderDetail(); }));
    }
    const simple = [['responding', 'respond'], ['resolved', 'resolve'], ['released', 'release'], ['archived', 'archive']];
    const plain = simple.filter(([to, name]) => allowed.has(to) && to !== i.state && mayStep(name));
    if (plain.length) {
      const row = el('div', 'incident-step-row');
      const reason = el('input', 'incident-input');
      reason.id = 'incident-step-reason';
      reason.maxLength = 1000;
      reason.placeholder = t('incidentReason');
      reason.setAttribute('aria-label', t('incidentReason'));
      reason.value = d.reason ?? '';
      reason.addEventListener('input', () => { d.reason = reason.value; });
      row.append(reason);
      for (const [, name] of plain) {
        row.append(button(`incident-step-${name}`, t(`step_${name}`), () => step(d, name, reason.value.trim() ? { reason: reason.value.trim() } : {})));
      }
      add.push(row);
    }
    if (add.length === 0 && !d.message) return;
    box.append(el('h4', '', t('incidentActions')), ...add, msg);
  }

  function verifyForm(d) {
    const form = el('form', 'incident-form');
    form.id = 'incident-verify-form';
    form.append(el('h5', '', t('verifyTitle')));
    const outcomes = el('div', 'incident-choices');
    for (const o of ['confirmed', 'false_alarm', 'site_check']) {
      const label = el('label');
      const r = el('input');
      r.type = 'radio';
      r.name = 'outcome';
      r.value = o;
      r.id = `incident-verify-${o}`;
      if (o === 'confirmed') r.checked = true;
      label.append(r, ` ${t(`outcome_${o}`)}`);
      outcomes.append(label);
    }
    const causeBox = el('div', 'incident-cause');
    const cause = el('select');
    cause.id = 'incident-verify-cause';
    cause.setAttribute('aria-label', t('verifyCause'));
    for (const c of ['sensor_fault', 'maintenance', 'interference', 'other']) {
      const o = el('option', '', t(`cause_${c}`));
      o.value = c;
      cause.append(o);
    }
    const causeText = el('input', 'incident-input');
    causeText.id = 'incident-verify-cause-text';
    causeText.maxLength = 1000;
    causeText.placeholder = t('verifyCauseText');
    causeText.setAttribute('aria-label', t('verifyCauseText'));
    causeBox.append(el('span', '', t('verifyCause')), cause, causeText);
    causeBox.hidden = true;
    const assignee = el('input', 'incident-input');
    assignee.id = 'incident-verify-assignee';
    assignee.maxLength = 128;
    assignee.placeholder = t('verifyAssignee');
    assignee.setAttribute('aria-label', t('verifyAssignee'));
    assignee.hidden = true;
    outcomes.addEventListener('change', () => {
      causeBox.hidden = form.elements.outcome.value !== 'false_alarm';
      assignee.hidden = form.elements.outcome.value !== 'site_check';
    });
    const reason = el('input', 'incident-input');
    reason.id = 'incident-verify-reason';
    reason.maxLength = 1000;
    reason.placeholder = t('incidentReason');
    reason.setAttribute('aria-label', t('incidentReason'));
    const submit = el('button', 'incident-action primary', t('verifySubmit'));
    submit.type = 'submit';
    submit.id = 'incident-verify-submit';
    form.append(outcomes, causeBox, assignee, reason, submit);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const outcome = form.elements.outcome.value;
      const b = { outcome };
      if (reason.value.trim()) b.reason = reason.value.trim();
      if (outcome === 'site_check') {
        b.assignee = assignee.value.trim();
        if (!b.assignee) {
          setMessage(d, t('verifyNeedAssignee'), true);
          return;
        }
      }
      if (outcome === 'false_alarm') {
        b.cause = cause.value;
        b.cause_text = causeText.value.trim();
        if (b.cause === 'other' && !b.cause_text) {
          setMessage(d, t('verifyNeedText'), true);
          return;
        }
      }
      step(d, 'verify', b);
    });
    return form;
  }

  // mergeForm folds the incident into another (its alarms are the same
  // event): the other's id and a reason.
  function mergeForm(d) {
    const form = el('form', 'incident-form incident-step-row');
    form.id = 'incident-merge-form';
    const into = el('input', 'incident-input');
    into.id = 'incident-merge-into';
    into.maxLength = 64;
    into.placeholder = t('mergeInto');
    into.setAttribute('aria-label', t('mergeInto'));
    const others = el('datalist');
    others.id = 'incident-merge-others';
    for (const x of st.incidents) {
      if (x.id === d.id || CLOSED.has(x.state)) continue;
      const o = el('option');
      o.value = x.id;
      others.append(o);
    }
    into.setAttribute('list', others.id);
    const reason = el('input', 'incident-input');
    reason.id = 'incident-merge-reason';
    reason.maxLength = 1000;
    reason.placeholder = t('incidentReason');
    reason.setAttribute('aria-label', t('incidentReason'));
    const go = el('button', 'incident-action', t('mergeSubmit'));
    go.type = 'submit';
    go.id = 'incident-merge-submit';
    form.append(into, others, reason, go);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const target = into.value.trim();
      if (!target || target === d.id) {
        setMessage(d, t('mergeNeedInto'), true);
        return;
      }
      const b = { into: target };
      if (reason.value.trim()) b.reason = reason.value.trim();
      step(d, 'merge', b);
    });
    return form;
  }

  function reviewForm(d) {
    const form = el('div', 'incident-form');
    form.id = 'incident-review-form';
    const reason = el('input', 'incident-input');
    reason.id = 'incident-review-reason';
    reason.maxLength = 1000;
    reason.placeholder = t('reviewReason');
    reason.setAttribute('aria-label', t('reviewReason'));
    form.append(
      button('incident-review-approve', t('reviewApprove'), () => step(d, 'review', { approve: true }), 'incident-action primary'),
      reason,
      button('incident-review-back', t('reviewBack'), () => {
        if (!reason.value.trim()) {
          setMessage(d, t('reviewNeedReason'), true);
          return;
        }
        step(d, 'review', { approve: false, reason: reason.value.trim() });
      }),
    );
    return form;
  }

  // draftForm edits a warning: a new draft from the suggestion (or the
  // draft in hand), or a re-issue of the current version.
  function draftForm(d, kind) {
    const i = d.incident;
    const form = el('form', 'incident-form incident-draft-form');
    form.id = kind === 'draft' ? 'incident-draft-form' : 'incident-reissue-form';
    form.append(el('h5', '', t(kind === 'draft' ? 'draftTitle' : 'reissueTitle')));
    const sugBox = el('p', 'incident-suggestion');
    sugBox.id = 'incident-suggestion';
    form.append(sugBox);
    const fields = el('div', 'incident-fields');
    form.append(fields);
    const submit = el('button', 'incident-action primary', t(kind === 'draft' ? 'draftSave' : 'reissueSave'));
    submit.type = 'submit';
    submit.id = kind === 'draft' ? 'incident-draft-submit' : 'incident-reissue-submit';
    let base = null;
    let suggested = 0;

    const level = el('select');
    level.id = 'incident-draft-level';
    for (const n of [1, 2, 3, 4]) {
      const o = el('option', '', levelText(n, t));
      o.value = String(n);
      level.append(o);
    }
    const input = (id, multi) => {
      const x = el(multi ? 'textarea' : 'input', 'incident-input');
      x.id = id;
      x.maxLength = 1300;
      if (multi) x.rows = 3;
      return x;
    };
    const location = input('incident-draft-location');
    const surroundings = input('incident-draft-surroundings', true);
    const instructions = input('incident-draft-instructions', true);
    const headline = input('incident-draft-headline');
    const reason = input('incident-draft-reason', true);
    reason.rows = 2;
    const reasonLabel = el('label', 'incident-field');
    const labelled = (key, control) => {
      const l = el('label', 'incident-field');
      l.append(el('span', '', t(key)), control);
      return l;
    };
    reasonLabel.append(el('span', '', t('draftReasonLabel')), reason);

    function fill(w) {
      base = w;
      level.value = String(w.level ?? 3);
      location.value = w.location ?? '';
      surroundings.value = w.surroundings ?? '';
      instructions.value = w.instructions ?? '';
      headline.value = w.headline ?? '';
      fields.replaceChildren(
        labelled('warningField_level', level), labelled('warningField_headline', headline),
        labelled('warningField_location', location), labelled('warningField_surroundings', surroundings),
        labelled('warningField_instructions', instructions), reasonLabel, submit);
      markLevel();
    }
    function markLevel() {
      const differs = suggested && Number(level.value) !== suggested;
      reasonLabel.classList.toggle('needed', Boolean(differs));
      level.dataset.level = level.value;
    }
    level.addEventListener('change', markLevel);

    // showSuggestion shows the level the rules suggest and why.
    function showSuggestion(level, why) {
      suggested = level ?? 0;
      if (!suggested) return;
      sugBox.replaceChildren(
        el('span', 'incident-suggested', t('draftSuggested').replace('{level}', '')),
        levelBadge(suggested, t, 'incident-suggested-level'),
        el('span', 'incident-suggestion-reason', why ?? ''),
      );
      sugBox.dataset.level = String(suggested);
    }

    (async () => {
      if (kind === 'update') {
        // A re-issue keeps the level suggested with the version it edits.
        const w = currentWarning(i);
        showSuggestion(w.suggested, lang() === 'en' ? w.suggested_why_en || w.suggested_why : w.suggested_why);
        fill(w);
        return;
      }
      sugBox.textContent = t('draftLoading');
      let s = null;
      try {
        s = await request(`/api/v1/incidents/${encodeURIComponent(i.id)}/suggestion`);
      } catch (err) {
        sugBox.className = 'incident-suggestion error';
        sugBox.textContent = t('incidentErrorPrefix') + stepErrorText(err, t);
      }
      if (st.detail !== d) return;
      if (s) showSuggestion(s.suggestion?.level, lang() === 'en' ? s.suggestion?.reason_en : s.suggestion?.reason_zh);
      const w = i.draft ?? s?.warning;
      if (w) fill(w);
    })();

    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (!base) return;
      const lv = Number(level.value);
      const why = reason.value.trim();
      if (suggested && lv !== suggested && !why) {
        setMessage(d, t('draftReasonNeeded'), true);
        reason.focus();
        return;
      }
      const warning = { ...base, level: lv, location: location.value.trim(), surroundings: surroundings.value.trim(), instructions: instructions.value.trim(), headline: headline.value.trim() };
      for (const k of ['drafter', 'issued', 'signer', 'version', 'suggested', 'suggested_why', 'suggested_why_en']) delete warning[k];
      const b = { warning };
      if (why) b.reason = why;
      step(d, kind, b);
    });
    return form;
  }

  function setMessage(d, text, error) {
    d.message = { text, error };
    const m = document.getElementById('incident-message');
    if (m) {
      m.textContent = text;
      m.classList.toggle('error', error);
    }
  }

  // step posts a step and shows the incident as it then stands.
  async function step(d, name, b) {
    setMessage(d, t('incidentSending'), false);
    for (const x of detail.querySelectorAll('.incident-action')) x.disabled = true;
    try {
      const answer = await request(`/api/v1/incidents/${encodeURIComponent(d.id)}/${name}`, { method: 'POST', body: b });
      if (st.detail !== d) return;
      d.form = '';
      d.reason = '';
      d.message = { text: t('incidentDone').replace('{state}', stateTitle(answer.incident.state, t)), error: false };
      d.incident = answer.incident;
      d.allowed = answer.allowed ?? [];
      await loadDetail();
      load();
    } catch (err) {
      if (st.detail !== d) return;
      for (const x of detail.querySelectorAll('.incident-action')) x.disabled = false;
      setMessage(d, t('incidentErrorPrefix') + stepErrorText(err, t), true);
    }
  }

  // ------------------------------------------------------- push, response

  function renderPush() {
    const d = st.detail;
    if (!pushEl || !d) return;
    pushEl.replaceChildren();
    if (d.deliveries) pushEl.append(deliveriesBlock(d.deliveries));
    if (d.response) pushEl.append(responseBlock(d, d.response));
  }

  function deliveriesBlock(dl) {
    const box = el('section', 'incident-deliveries');
    box.id = 'incident-deliveries';
    box.append(el('h4', '', t('deliveriesTitle')));
    const all = dl.deliveries ?? [];
    const summary = el('ul', 'incident-delivery-summary');
    summary.id = 'incident-delivery-summary';
    for (const s of DELIVERY_STATES) {
      const n = dl.summary?.[s] ?? all.filter((x) => x.state === s).length;
      const li = el('li', `delivery-state ${s}`, `${t(`delivery_${s}`)} ${n}`);
      li.dataset.state = s;
      li.dataset.count = String(n);
      li.classList.toggle('zero', n === 0);
      summary.append(li);
    }
    box.append(summary);
    if (all.length === 0) {
      box.append(el('p', 'alarm-status', t('deliveriesNone')));
      return box;
    }
    for (const s of DELIVERY_STATES) {
      const group = all.filter((x) => x.state === s);
      if (group.length === 0) continue;
      const details = el('details', 'incident-delivery-group');
      details.dataset.state = s;
      details.append(el('summary', '', `${t(`delivery_${s}`)} (${group.length})`));
      const ul = el('ul', 'incident-delivery-list');
      for (const x of group.slice(0, 200)) {
        const li = el('li', '', [x.recipient, say(t, `channel_${x.channel}`, x.channel), say(t, `deliveryKind_${x.kind}`, x.kind), x.error].filter(Boolean).join(' · '));
        li.dataset.id = String(x.id);
        ul.append(li);
      }
      details.append(ul);
      box.append(details);
    }
    return box;
  }

  function text2(v) {
    if (!v) return '';
    if (typeof v === 'string') return v;
    return (lang() === 'en' ? v.en || v.zh : v.zh || v.en) ?? '';
  }

  function responseBlock(d, r) {
    const box = el('section', 'incident-response');
    box.id = 'incident-response';
    box.append(el('h4', '', t('responseTitle')));
    const plan = r.plan;
    if (!plan) {
      box.append(el('p', 'alarm-status', t('responseNoPlan')));
    } else {
      box.append(el('p', 'incident-plan', t('responsePlan').replace('{title}', text2(plan.title))));
      for (const [key, items] of [['responseMeasures', plan.measures], ['responseCautions', plan.cautions]]) {
        if (!items?.length) continue;
        box.append(el('h5', '', t(key)));
        const ul = el('ul', key === 'responseMeasures' ? 'incident-measures' : 'incident-cautions');
        for (const m of items) ul.append(el('li', '', text2(m)));
        box.append(ul);
      }
    }
    const tasks = r.response?.tasks ?? [];
    if (tasks.length) {
      box.append(el('h5', '', t('responseTasks')));
      const ul = el('ul', 'incident-tasks');
      ul.id = 'incident-tasks';
      for (const task of tasks) ul.append(taskRow(d, task));
      box.append(ul);
    }
    const fb = r.response?.feedback ?? [];
    box.append(el('h5', '', t('responseFeedback')));
    if (fb.length === 0) box.append(el('p', 'alarm-status', t('responseNoFeedback')));
    const fl = el('ul', 'incident-feedback');
    for (const f of fb) {
      const li = el('li', 'incident-feedback-item');
      li.append(el('span', 'incident-step-who', f.by ?? ''), el('time', 'incident-step-time', format.dateTime(f.at)));
      if (f.text) li.append(el('p', '', f.text));
      const photos = el('div', 'feedback-photos');
      for (const id of f.photos ?? []) {
        const a = el('a');
        a.href = `/api/v1/attachments/${encodeURIComponent(id)}`;
        a.target = '_blank';
        a.rel = 'noopener';
        const img = el('img', 'feedback-photo');
        img.src = a.href;
        img.alt = '';
        img.loading = 'lazy';
        img.addEventListener('error', () => { a.hidden = true; });
        a.append(img);
        photos.append(a);
      }
      if (photos.childElementCount) li.append(photos);
      fl.append(li);
    }
    box.append(fl);
    return box;
  }

  function taskRow(d, task) {
    const li = el('li', 'incident-task');
    li.dataset.id = String(task.id);
    li.dataset.state = task.state;
    li.append(el('span', 'incident-task-title', text2(task.title)));
    const stateEl = el('span', `task-state ${task.state}`, say(t, `task_${task.state}`, task.state));
    li.append(stateEl);
    if (task.overdue) li.append(el('span', 'task-overdue', `⚠ ${t('taskOverdue')}`));
    const meta = [
      t('taskAssignee').replace('{who}', task.assignee || t('taskUnassigned')),
      task.deadline ? t('taskDeadline').replace('{at}', format.dateTime(task.deadline)) : '',
      task.assignee && Number.isFinite(task.distance_m) ? t('taskDistance').replace('{d}', distanceText(task.distance_m)) : '',
    ].filter(Boolean).join(' · ');
    li.append(el('span', 'alarm-meta', meta));
    if (task.brief) li.append(el('span', 'task-brief', task.brief));
    if (task.note) li.append(el('span', 'task-note', t('taskNote').replace('{who}', task.assignee || '').replace('{text}', task.note)));
    if (can('warnings.sign') && (task.state === 'pending' || task.state === 'assigned')) {
      const f = el('form', 'task-assign');
      const login = el('input', 'incident-input');
      login.maxLength = 128;
      login.placeholder = t('taskAssignLogin');
      login.setAttribute('aria-label', t('taskAssignLogin'));
      login.className = 'incident-input task-assign-login';
      const go = el('button', 'incident-action', t('taskAssign'));
      go.type = 'submit';
      f.append(login, go);
      f.addEventListener('submit', async (e) => {
        e.preventDefault();
        if (!login.value.trim()) {
          setMessage(d, t('taskAssignNeedLogin'), true);
          return;
        }
        try {
          await request(`/api/v1/tasks/${encodeURIComponent(task.id)}/assign`, { method: 'POST', body: { assignee: login.value.trim() } });
          loadPush(d);
        } catch (err) {
          setMessage(d, t('incidentErrorPrefix') + stepErrorText(err, t), true);
        }
      });
      li.append(f);
    }
    return li;
  }

  function distanceText(m) {
    return m >= 1000
      ? t('distanceKm').replace('{n}', (m / 1000).toLocaleString(format.locale(), { maximumFractionDigits: 1 }))
      : t('distanceM').replace('{n}', String(Math.round(m)));
  }

  // -------------------------------------------------- an alarm's details

  // alarmSection is the part of an alarm's details about its incident: the
  // incident it is in, or a button to open one (alarms.verify).
  function alarmSection(alarm) {
    const box = el('div', 'alarm-incident');
    box.id = 'alarm-incident';
    (async () => {
      let list = null;
      try {
        list = await request('/api/v1/incidents?limit=1000', { optional: true, quiet: true });
      } catch {
        return; // no right to see incidents: nothing to say
      }
      const inc = (list?.incidents ?? []).find((i) => (i.alarms ?? []).includes(alarm.id));
      box.replaceChildren();
      if (inc) {
        box.append(el('h4', '', t('incidentOf')));
        const p = el('p', 'alarm-incident-of');
        p.id = 'alarm-incident-of';
        p.dataset.id = inc.id;
        p.append(`${inc.id} · ${stateTitle(inc.state, t)} `, button('alarm-incident-link', t('incidentShow'), () => open(inc.id), 'incident-action'));
        box.append(p);
        return;
      }
      if (!list || !can('alarms.verify') || alarm.state !== 'active') return;
      box.append(el('h4', '', t('incidentOpen')));
      const form = el('form', 'alarm-ack-form');
      form.id = 'alarm-incident-form';
      const reason = el('input');
      reason.id = 'alarm-incident-reason';
      reason.maxLength = 1000;
      reason.placeholder = t('incidentOpenReason');
      reason.setAttribute('aria-label', t('incidentOpenReason'));
      const submit = el('button', 'alarm-ack-submit', t('incidentOpen'));
      submit.type = 'submit';
      submit.id = 'alarm-incident-open';
      const msg = el('p', 'alarm-ack-message');
      msg.id = 'alarm-incident-message';
      form.append(reason, submit, msg);
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        submit.disabled = true;
        msg.className = 'alarm-ack-message';
        msg.textContent = t('incidentSending');
        try {
          const b = { alarms: [alarm.id] };
          if (reason.value.trim()) b.reason = reason.value.trim();
          const answer = await request('/api/v1/incidents', { method: 'POST', body: b });
          msg.textContent = t('incidentOpened').replace('{id}', answer.incident.id);
          open(answer.incident.id);
        } catch (err) {
          submit.disabled = false;
          msg.className = 'alarm-ack-message error';
          msg.textContent = t('incidentErrorPrefix') + stepErrorText(err, t);
        }
      });
      box.append(form);
    })();
    return box;
  }

  // warningsChanged follows the live channel: the open incident's details
  // and the list come again when its warning changed.
  let lastWarnings = '';
  function warningsChanged(list) {
    const key = JSON.stringify((list ?? []).map((w) => [w.incident, w.state, w.versions]));
    if (key === lastWarnings) return;
    lastWarnings = key;
    if (st.open) load();
    else loadCount();
    if (st.detail?.incident) loadDetail();
  }

  async function loadCount() {
    if (st.open) return;
    try {
      const body = await request('/api/v1/incidents?limit=1000', { quiet: true });
      st.incidents = (body?.incidents ?? []).filter((i) => !CLOSED.has(i.state));
      renderCount();
    } catch {
      // The count stays.
    }
  }

  function renderText() {
    btnText.textContent = t('incidents');
    btn.title = t('incidentsButtonTitle');
    render();
  }

  function permissionsChanged() {
    const user = current();
    btn.hidden = !user.loaded || !can('alarms.read');
    if (!btn.hidden) loadCount();
    if (st.detail?.incident) renderDetail();
  }

  renderText();
  return {
    open,
    alarmSection,
    warningsChanged,
    renderText,
    permissionsChanged,
    setOpen,
    get isOpen() { return st.open; },
    get incidents() { return st.incidents; },
    get detail() { return st.detail; },
    get proposals() { return st.proposals ?? []; },
    get positions() { return positions?.positions ?? []; },
    stepErrorText: (err) => stepErrorText(err, t),
    // act posts a step to the open incident, as its controls do.
    act: (name, b = {}) => (st.detail ? step(st.detail, name, b) : Promise.resolve()),
  };
}
