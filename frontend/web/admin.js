// The users and the tokens, for administrators: two panels over the map,
// in the audit log's place.
//
//   - Users (users.admin; GET/POST /api/v1/users, PATCH /api/v1/users/{id}):
//     the list, adding a user with roles and a password shown once, and per
//     user new roles, a new password (shown once) and disabling or
//     enabling. Every change ends the user's sessions.
//   - Tokens (tokens.admin; GET/POST /api/v1/tokens,
//     DELETE /api/v1/tokens/{id}): the list, a new token whose secret is
//     shown once, and revoking.
//
// Changes that lock someone out ask first, in the panel. Refusals are said
// in the page's language with their code, never in the server's words.

import { apiJSON, current, roleTitle } from '/session.js';

// UI text in both languages, merged into the page's TEXT table.
export const TEXT = {
  zh: {
    usersOpen: '用户管理',
    tokensOpen: '令牌管理',
    usersTitle: '用户',
    tokensTitle: '设备与接口令牌',
    adminLoading: '正在加载…',
    adminRefresh: '刷新',
    adminYes: '确定',
    adminNo: '取消',
    adminCopy: '复制',
    adminCopied: '已复制',
    adminCopyFailed: '无法自动复制，请选中后手动复制',
    adminOnce: '只显示这一次，关闭后无法再查看。请立即复制并妥善保存。',
    adminSaved: '已保存',
    adminError: '操作失败：',
    adminLoadError: '加载失败：',
    adminErr_bad_request: '填写的内容不符合要求',
    adminErr_login_taken: '该账号已被使用',
    adminErr_not_found: '对象不存在或服务器未启用此功能',
    adminErr_forbidden: '当前账号没有此操作的权限',
    adminErr_csrf: '登录状态已变化，请刷新页面后重试',
    adminErr_unauthorized: '登录已失效，请重新登录',
    adminErr_network: '无法连接服务器',
    adminErr_too_many_requests: '请求过于频繁，请稍后再试',
    adminErr_other: '服务器拒绝了此操作',
    usersAdd: '添加用户',
    usersLogin: '账号',
    usersLoginHint: '1–64 个小写字母、数字、“.”“_”“-”，以字母或数字开头',
    usersName: '姓名',
    usersPassword: '密码',
    usersPasswordHint: '至少 10 个字符，不能与账号相同；留空则自动生成',
    usersGenerate: '生成密码',
    usersRoles: '角色',
    usersUnits: '权属单位',
    usersDistricts: '辖区',
    usersListHint: '多个用逗号分隔，可不填',
    usersSubmit: '添加',
    usersAdded: '已添加用户 {login}。初始密码：',
    usersNewPassword: '{login} 的新密码：',
    usersNone: '还没有用户',
    usersCount: '共 {n} 个用户',
    usersCol_login: '账号',
    usersCol_name: '姓名',
    usersCol_roles: '角色',
    usersCol_scopes: '范围',
    usersCol_state: '状态',
    usersCol_actions: '操作',
    usersActive: '正常',
    usersDisabled: '已停用',
    usersEditRoles: '修改角色',
    usersSaveRoles: '保存角色',
    usersResetPassword: '重置密码',
    usersDisable: '停用',
    usersEnable: '启用',
    usersAllScopes: '全部',
    usersUnitsShort: '单位',
    usersDistrictsShort: '辖区',
    usersConfirmRoles: '将 {login} 的角色改为“{roles}”？该用户需要重新登录。',
    usersConfirmPassword: '为 {login} 生成新密码？旧密码立即失效，该用户需要重新登录。',
    usersConfirmDisable: '停用 {login}？该用户将无法登录，已登录的设备会退出。',
    usersConfirmEnable: '启用 {login}？该用户将可以再次登录。',
    usersBadLogin: '账号须为 1–64 个小写字母、数字、“.”“_”“-”，以字母或数字开头',
    usersBadPassword: '密码至少 10 个字符，且不能与账号相同',
    usersNoRoles: '请至少选择一个角色',
    tokensAdd: '新建令牌',
    tokensName: '名称',
    tokensNameHint: '说明用途，如“12 号调压站”，1–64 个字符',
    tokensScopes: '权限',
    tokensSensors: '限定传感器',
    tokensSensorsHint: '传感器编号，逗号分隔；留空则不限',
    tokensSubmit: '新建',
    tokensCreated: '已新建令牌“{name}”。令牌密钥：',
    tokensNone: '还没有令牌',
    tokensCount: '共 {n} 个令牌',
    tokensCol_name: '名称',
    tokensCol_scopes: '权限',
    tokensCol_sensors: '传感器',
    tokensCol_created: '创建时间',
    tokensCol_last_used: '最近使用',
    tokensCol_state: '状态',
    tokensCol_actions: '操作',
    tokensAllSensors: '全部',
    tokensSensorCount: '{n} 个',
    tokensNever: '从未使用',
    tokensActive: '有效',
    tokensRevokedAt: '已吊销 {at}',
    tokensRevoke: '吊销',
    tokensConfirmRevoke: '吊销令牌“{name}”？使用它的设备将立即无法访问，此操作不能撤销。',
    tokensBadName: '请填写 1–64 个字符的名称',
    tokensNoScopes: '请至少选择一项权限',
    tokensBadSensors: '传感器编号须为正整数，用逗号分隔',
    scope_ingest: '上报读数',
    scope_read: '只读接口',
    scope_metrics: '运行指标',
  },
  en: {
    usersOpen: 'Users',
    tokensOpen: 'Tokens',
    usersTitle: 'Users',
    tokensTitle: 'Device and integration tokens',
    adminLoading: 'Loading…',
    adminRefresh: 'Reload',
    adminYes: 'Yes',
    adminNo: 'Cancel',
    adminCopy: 'Copy',
    adminCopied: 'Copied',
    adminCopyFailed: 'Could not copy: select it and copy it yourself',
    adminOnce: 'Shown this once only: it cannot be seen again once closed. Copy it now and keep it safe.',
    adminSaved: 'Saved',
    adminError: 'Not done: ',
    adminLoadError: 'Could not load: ',
    adminErr_bad_request: 'What was entered is not accepted',
    adminErr_login_taken: 'That login is in use',
    adminErr_not_found: 'It does not exist, or this server does not keep it',
    adminErr_forbidden: 'Your account may not do this',
    adminErr_csrf: 'Your login changed; reload the page and try again',
    adminErr_unauthorized: 'Your login has ended; log in again',
    adminErr_network: 'The server cannot be reached',
    adminErr_too_many_requests: 'Too many requests; try again later',
    adminErr_other: 'The server refused this',
    usersAdd: 'Add a user',
    usersLogin: 'Login',
    usersLoginHint: '1–64 of a–z, 0–9, ".", "_" and "-", starting with a letter or digit',
    usersName: 'Name',
    usersPassword: 'Password',
    usersPasswordHint: 'At least 10 characters, not the login; empty: one is made up',
    usersGenerate: 'Make up a password',
    usersRoles: 'Roles',
    usersUnits: 'Owning units',
    usersDistricts: 'Districts',
    usersListHint: 'Separated by commas; may be empty',
    usersSubmit: 'Add',
    usersAdded: 'User {login} added. First password: ',
    usersNewPassword: 'New password of {login}: ',
    usersNone: 'No users yet',
    usersCount: '{n} users',
    usersCol_login: 'Login',
    usersCol_name: 'Name',
    usersCol_roles: 'Roles',
    usersCol_scopes: 'Scope',
    usersCol_state: 'State',
    usersCol_actions: 'Actions',
    usersActive: 'Active',
    usersDisabled: 'Disabled',
    usersEditRoles: 'Change roles',
    usersSaveRoles: 'Save roles',
    usersResetPassword: 'New password',
    usersDisable: 'Disable',
    usersEnable: 'Enable',
    usersAllScopes: 'All',
    usersUnitsShort: 'Units',
    usersDistrictsShort: 'Districts',
    usersConfirmRoles: 'Give {login} the roles "{roles}"? They will have to log in again.',
    usersConfirmPassword: 'Make up a new password for {login}? The old one stops working and they will have to log in again.',
    usersConfirmDisable: 'Disable {login}? They can no longer log in, and are logged out on every device.',
    usersConfirmEnable: 'Enable {login}? They can log in again.',
    usersBadLogin: 'A login is 1–64 of a–z, 0–9, ".", "_" and "-", starting with a letter or digit',
    usersBadPassword: 'A password has at least 10 characters and is not the login',
    usersNoRoles: 'Choose at least one role',
    tokensAdd: 'New token',
    tokensName: 'Name',
    tokensNameHint: 'What it is for, such as "gas station 12"; 1–64 characters',
    tokensScopes: 'Scopes',
    tokensSensors: 'Only these sensors',
    tokensSensorsHint: 'Sensor ids, separated by commas; empty: every sensor',
    tokensSubmit: 'Create',
    tokensCreated: 'Token "{name}" created. Its secret: ',
    tokensNone: 'No tokens yet',
    tokensCount: '{n} tokens',
    tokensCol_name: 'Name',
    tokensCol_scopes: 'Scopes',
    tokensCol_sensors: 'Sensors',
    tokensCol_created: 'Created',
    tokensCol_last_used: 'Last used',
    tokensCol_state: 'State',
    tokensCol_actions: 'Actions',
    tokensAllSensors: 'All',
    tokensSensorCount: '{n}',
    tokensNever: 'Never',
    tokensActive: 'Active',
    tokensRevokedAt: 'Revoked {at}',
    tokensRevoke: 'Revoke',
    tokensConfirmRevoke: 'Revoke the token "{name}"? Devices using it are refused at once; this cannot be undone.',
    tokensBadName: 'Give a name of 1–64 characters',
    tokensNoScopes: 'Choose at least one scope',
    tokensBadSensors: 'Sensor ids are whole numbers above 0, separated by commas',
    scope_ingest: 'Send readings',
    scope_read: 'Read-only API',
    scope_metrics: 'Metrics',
  },
};

// The roles offered, as docs/auth.md names them.
export const ROLES = ['viewer', 'operator', 'analyst', 'commander', 'responder', 'unit', 'admin'];

// The scopes of a token.
export const SCOPES = ['ingest', 'read', 'metrics'];

// The bounds the server keeps to (auth.CheckPassword, auth.CheckLogin).
const MIN_PASSWORD = 10;
const LOGIN = /^[a-z0-9][a-z0-9._-]{0,63}$/;

// Characters of a made-up password: no 0/O, 1/l/I.
const ALPHABET = 'abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';

// makePassword is a random password of 16 characters (about 94 bits).
export function makePassword() {
  const out = [];
  const buf = new Uint8Array(1);
  while (out.length < 16) {
    crypto.getRandomValues(buf);
    if (buf[0] < 256 - (256 % ALPHABET.length)) out.push(ALPHABET[buf[0] % ALPHABET.length]);
  }
  return out.join('');
}

// adminErrorText is a refusal in the page's language with its code, as
// "该账号已被使用（login_taken）".
export function adminErrorText(err, t) {
  const code = err?.code || (err?.status ? `HTTP ${err.status}` : 'error');
  const key = `adminErr_${err?.code}`;
  const words = err?.code && t(key) !== key ? t(key) : t('adminErr_other');
  return t('listSep') === '、' ? `${words}（${code}）` : `${words} (${code})`;
}

// list splits a comma-separated field into its trimmed, non-empty parts.
function list(value) {
  return value.split(/[,，、]/).map((s) => s.trim()).filter(Boolean);
}

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'dataset') Object.assign(e.dataset, v);
    else e[k] = v;
  }
  e.append(...children);
  return e;
}

function button(props = {}) {
  return el('button', { type: 'button', className: 'legend-button', ...props });
}

// createPanel is the frame the two panels share: a heading, a close
// button, a line of status, a place to ask before a change and one to show
// a secret once. deps: t, lang, prefix (the ids' start), title (its text
// key), onOpen.
function createPanel({ t, lang, prefix, title, onOpen }) {
  const st = { open: false };
  const panel = el('aside', { id: `${prefix}-panel`, className: 'audit-panel admin-panel', hidden: true });
  const heading = el('h2', { id: `${prefix}-title` });
  const reload = button({ id: `${prefix}-reload` });
  const close = button({ textContent: '×' });
  close.addEventListener('click', () => setOpen(false));
  panel.append(el('header', { className: 'audit-head' }, heading, reload, close));
  panel.setAttribute('aria-labelledby', heading.id);

  // The question before a change, answered in the panel.
  const ask = el('div', { id: `${prefix}-confirm`, className: 'admin-confirm', hidden: true });
  ask.setAttribute('role', 'alertdialog');
  const askText = el('p', { id: `${prefix}-confirm-text` });
  const yes = button({ id: `${prefix}-confirm-yes`, className: 'legend-button admin-danger' });
  const no = button({ id: `${prefix}-confirm-no` });
  ask.append(askText, el('div', { className: 'admin-actions' }, yes, no));
  let answer = null;
  const settle = (v) => {
    ask.hidden = true;
    const a = answer;
    answer = null;
    a?.(v);
  };
  yes.addEventListener('click', () => settle(true));
  no.addEventListener('click', () => settle(false));

  // The secret shown once.
  const once = el('div', { id: `${prefix}-secret`, className: 'admin-secret', hidden: true });
  once.setAttribute('role', 'status');
  const onceText = el('p', { id: `${prefix}-secret-text` });
  const onceValue = el('input', { id: `${prefix}-secret-value`, className: 'admin-secret-value', readOnly: true, type: 'text', autocomplete: 'off', spellcheck: false });
  const copy = button({ id: `${prefix}-copy` });
  const copied = el('span', { id: `${prefix}-copied`, className: 'admin-copied' });
  copied.setAttribute('aria-live', 'polite');
  const onceWarn = el('p', { className: 'admin-once' });
  const onceClose = button({ id: `${prefix}-secret-close`, textContent: '×' });
  onceClose.addEventListener('click', () => hideSecret());
  once.append(el('div', { className: 'admin-secret-head' }, onceText, onceClose), el('div', { className: 'admin-actions' }, onceValue, copy, copied), onceWarn);
  copy.addEventListener('click', async () => {
    onceValue.select();
    try {
      await navigator.clipboard.writeText(onceValue.value);
      copied.textContent = t('adminCopied');
    } catch {
      copied.textContent = document.execCommand?.('copy') ? t('adminCopied') : t('adminCopyFailed');
    }
  });

  const status = el('p', { id: `${prefix}-status`, className: 'audit-status' });
  status.setAttribute('aria-live', 'polite');
  const body = el('div', { className: 'audit-body' });
  panel.append(ask, once, status, body);
  document.body.append(panel);

  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && st.open && panel.contains(document.activeElement)) {
      if (!ask.hidden) settle(false);
      else setOpen(false);
    }
  });

  function setOpen(open) {
    st.open = open;
    panel.hidden = !open;
    if (!open) {
      settle(false);
      hideSecret();
    } else onOpen();
  }

  // confirm asks text in the panel and resolves to the answer.
  function confirm(text, yesText) {
    settle(false);
    askText.textContent = text;
    yes.textContent = yesText;
    no.textContent = t('adminNo');
    ask.hidden = false;
    yes.focus();
    return new Promise((resolve) => { answer = resolve; });
  }

  // showSecret shows text and a value once, with a copy button.
  function showSecret(text, value) {
    onceText.textContent = text;
    onceValue.value = value;
    copied.textContent = '';
    once.hidden = false;
    onceValue.focus();
    onceValue.select();
  }

  function hideSecret() {
    once.hidden = true;
    onceValue.value = '';
    copied.textContent = '';
  }

  function setStatus(text, error = false) {
    status.className = error ? 'audit-status error' : 'audit-status';
    status.textContent = text;
  }

  function locale() {
    return lang() === 'en' ? 'en' : 'zh-CN';
  }

  function dateTime(s) {
    const d = new Date(s);
    if (!s || Number.isNaN(d.getTime()) || d.getFullYear() < 2) return '';
    return d.toLocaleString(locale(), { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false });
  }

  function renderText() {
    heading.textContent = t(title);
    reload.textContent = t('adminRefresh');
    close.title = t('closePanel');
    close.setAttribute('aria-label', t('closePanel'));
    onceClose.title = t('closePanel');
    onceClose.setAttribute('aria-label', t('closePanel'));
    copy.textContent = t('adminCopy');
    onceWarn.textContent = t('adminOnce');
    no.textContent = t('adminNo');
  }

  return { st, panel, body, reload, setOpen, confirm, showSecret, hideSecret, setStatus, dateTime, renderText };
}

// checkbox is a labelled checkbox.
function checkbox(id, value) {
  const input = el('input', { type: 'checkbox', id, value, name: id });
  const text = el('span');
  return { label: el('label', { className: 'admin-check' }, input, text), input, text };
}

// field is a labelled input of a form.
function field(id, type, max) {
  const input = el('input', { id, name: id, type, autocomplete: 'off' });
  if (max) input.maxLength = max;
  const text = el('span');
  return { label: el('label', {}, text, input), input, text };
}

// createUsers adds the hidden users panel to the page. deps: t (the page's
// text function), lang (the page's language), onOpen (before it shows, to
// close the other panels).
export function createUsers({ t, lang, onOpen = () => {} }) {
  const st = { users: [], loading: false, error: '', editing: '', busy: false, seq: 0 };
  const p = createPanel({ t, lang, prefix: 'users', title: 'usersTitle', onOpen: () => { onOpen(); load(); login.input.focus(); } });
  p.reload.addEventListener('click', () => load());

  const form = el('form', { id: 'users-form', className: 'audit-filters admin-form' });
  const legend = el('h3', { className: 'admin-form-title' });
  const login = field('users-login', 'text', 64);
  login.input.autocapitalize = 'off';
  login.input.spellcheck = false;
  const name = field('users-name', 'text', 64);
  const password = field('users-password', 'text', 256);
  password.input.spellcheck = false;
  const generate = button({ id: 'users-generate' });
  generate.addEventListener('click', () => { password.input.value = makePassword(); });
  const units = field('users-units', 'text', 512);
  const districts = field('users-districts', 'text', 512);
  const rolesBox = el('fieldset', { className: 'admin-checks' });
  const rolesLegend = el('legend');
  const roleBoxes = ROLES.map((r) => checkbox(`users-role-${r}`, r));
  rolesBox.append(rolesLegend, ...roleBoxes.map((c) => c.label));
  const submit = el('button', { type: 'submit', id: 'users-submit', className: 'legend-button' });
  const formMsg = el('p', { id: 'users-form-message', className: 'admin-message' });
  formMsg.setAttribute('role', 'alert');
  form.append(legend, login.label, name.label, password.label, generate, units.label, districts.label, rolesBox, submit, formMsg);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    add();
  });

  const table = el('table', { id: 'users-table', className: 'audit-table admin-table' });
  const thead = table.createTHead();
  const tbody = table.createTBody();
  p.body.append(table);
  p.panel.insertBefore(form, p.panel.querySelector('.admin-confirm'));

  const COLUMNS = ['login', 'name', 'roles', 'scopes', 'state', 'actions'];

  async function load() {
    const seq = ++st.seq;
    st.loading = true;
    st.error = '';
    render();
    try {
      const data = await apiJSON('/api/v1/users');
      if (seq !== st.seq) return;
      st.users = [...(data?.users ?? [])].sort((a, b) => a.login.localeCompare(b.login));
    } catch (err) {
      if (seq !== st.seq) return;
      st.users = [];
      st.error = adminErrorText(err, t);
    }
    st.loading = false;
    render();
  }

  function formError(text) {
    formMsg.className = 'admin-message error';
    formMsg.textContent = text;
  }

  async function add() {
    const lg = login.input.value.trim();
    const roles = roleBoxes.filter((c) => c.input.checked).map((c) => c.input.value);
    let pw = password.input.value;
    if (!LOGIN.test(lg)) return formError(t('usersBadLogin'));
    if (roles.length === 0) return formError(t('usersNoRoles'));
    if (pw === '') pw = makePassword();
    if ([...pw].length < MIN_PASSWORD || pw.toLowerCase() === lg) return formError(t('usersBadPassword'));
    const body = { login: lg, name: name.input.value.trim(), password: pw, roles };
    if (list(units.input.value).length) body.units = list(units.input.value);
    if (list(districts.input.value).length) body.districts = list(districts.input.value);
    submit.disabled = true;
    formMsg.textContent = '';
    try {
      await apiJSON('/api/v1/users', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body), login: false });
      form.reset();
      p.showSecret(t('usersAdded').replace('{login}', lg), pw);
      load();
    } catch (err) {
      formError(t('adminError') + adminErrorText(err, t));
    } finally {
      submit.disabled = false;
    }
  }

  // change sends a PATCH after asking; it resolves to whether it was done.
  async function change(u, patch, question, yesText) {
    if (st.busy) return false;
    if (!(await p.confirm(question, yesText))) return false;
    st.busy = true;
    render();
    try {
      await apiJSON(`/api/v1/users/${encodeURIComponent(u.id)}`, { method: 'PATCH', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(patch), login: false });
      st.busy = false;
      p.setStatus(t('adminSaved'));
      await load();
      return true;
    } catch (err) {
      st.busy = false;
      render();
      p.setStatus(t('adminError') + adminErrorText(err, t), true);
      return false;
    }
  }

  function rolesText(roles) {
    return (roles ?? []).map((r) => roleTitle(r, t)).join(t('listSep')) || '–';
  }

  function scopesText(u) {
    const parts = [];
    if (u.units?.length) parts.push(`${t('usersUnitsShort')}: ${u.units.join(t('listSep'))}`);
    if (u.districts?.length) parts.push(`${t('usersDistrictsShort')}: ${u.districts.join(t('listSep'))}`);
    return parts.join('; ') || t('usersAllScopes');
  }

  function row(u) {
    const tr = el('tr', { dataset: { login: u.login, id: u.id, disabled: String(Boolean(u.disabled)) } });
    const cells = {
      login: u.login,
      name: u.name ?? '',
      roles: rolesText(u.roles),
      scopes: scopesText(u),
      state: u.disabled ? t('usersDisabled') : t('usersActive'),
    };
    for (const c of COLUMNS) {
      const td = tr.insertCell();
      td.className = `admin-${c}`;
      if (c !== 'actions') td.textContent = cells[c];
    }
    const roles = tr.cells[COLUMNS.indexOf('roles')];
    roles.dataset.roles = (u.roles ?? []).join(',');
    const actions = tr.cells[COLUMNS.indexOf('actions')];
    if (st.editing === u.id) {
      const boxes = ROLES.map((r) => {
        const c = checkbox(`users-edit-${u.id}-${r}`, r);
        c.input.checked = (u.roles ?? []).includes(r);
        c.text.textContent = roleTitle(r, t);
        return c;
      });
      roles.replaceChildren(el('div', { className: 'admin-checks admin-roles-edit' }, ...boxes.map((c) => c.label)));
      const save = button({ className: 'legend-button users-save-roles', textContent: t('usersSaveRoles'), disabled: st.busy });
      const cancel = button({ className: 'legend-button users-cancel-roles', textContent: t('adminNo') });
      save.addEventListener('click', async () => {
        const next = boxes.filter((c) => c.input.checked).map((c) => c.input.value);
        if (next.length === 0) {
          p.setStatus(t('usersNoRoles'), true);
          return;
        }
        const q = t('usersConfirmRoles').replace('{login}', u.login).replace('{roles}', rolesText(next));
        if (await change(u, { roles: next }, q, t('usersSaveRoles'))) st.editing = '';
        render();
      });
      cancel.addEventListener('click', () => {
        st.editing = '';
        render();
      });
      actions.append(save, cancel);
      return tr;
    }
    const edit = button({ className: 'legend-button users-edit-roles', textContent: t('usersEditRoles'), disabled: st.busy });
    edit.addEventListener('click', () => {
      st.editing = u.id;
      render();
    });
    const reset = button({ className: 'legend-button users-reset-password', textContent: t('usersResetPassword'), disabled: st.busy });
    reset.addEventListener('click', async () => {
      const pw = makePassword();
      const q = t('usersConfirmPassword').replace('{login}', u.login);
      if (await change(u, { password: pw }, q, t('usersResetPassword'))) p.showSecret(t('usersNewPassword').replace('{login}', u.login), pw);
    });
    const toggle = button({ className: `legend-button ${u.disabled ? 'users-enable' : 'users-disable admin-danger'}`, textContent: u.disabled ? t('usersEnable') : t('usersDisable'), disabled: st.busy });
    toggle.addEventListener('click', () => {
      const q = t(u.disabled ? 'usersConfirmEnable' : 'usersConfirmDisable').replace('{login}', u.login);
      change(u, { disabled: !u.disabled }, q, u.disabled ? t('usersEnable') : t('usersDisable'));
    });
    // An administrator does not disable themselves (the server refuses it).
    if (u.id === current().user?.id) actions.append(edit, reset);
    else actions.append(edit, reset, toggle);
    return tr;
  }

  function render() {
    if (st.loading) p.setStatus(t('adminLoading'));
    else if (st.error) p.setStatus(t('adminLoadError') + st.error, true);
    else if (!st.busy && !p.panel.querySelector('.audit-status.error')) p.setStatus(st.users.length ? t('usersCount').replace('{n}', String(st.users.length)) : t('usersNone'));
    tbody.replaceChildren(...st.users.map(row));
  }

  function renderText() {
    p.renderText();
    legend.textContent = t('usersAdd');
    login.text.textContent = t('usersLogin');
    login.input.title = t('usersLoginHint');
    name.text.textContent = t('usersName');
    password.text.textContent = t('usersPassword');
    password.input.title = t('usersPasswordHint');
    password.input.placeholder = t('usersPasswordHint');
    generate.textContent = t('usersGenerate');
    units.text.textContent = t('usersUnits');
    units.input.title = t('usersListHint');
    districts.text.textContent = t('usersDistricts');
    districts.input.title = t('usersListHint');
    rolesLegend.textContent = t('usersRoles');
    for (const c of roleBoxes) c.text.textContent = roleTitle(c.input.value, t);
    submit.textContent = t('usersSubmit');
    thead.replaceChildren();
    const tr = thead.insertRow();
    for (const c of COLUMNS) tr.append(el('th', { scope: 'col', textContent: t(`usersCol_${c}`) }));
    render();
  }

  renderText();
  return {
    open: () => p.setOpen(true),
    close: () => p.setOpen(false),
    renderText,
    load,
    get isOpen() { return p.st.open; },
    get users() { return st.users; },
  };
}

// createTokens adds the hidden tokens panel to the page. deps as
// createUsers.
export function createTokens({ t, lang, onOpen = () => {} }) {
  const st = { tokens: [], loading: false, error: '', busy: false, seq: 0 };
  const p = createPanel({ t, lang, prefix: 'tokens', title: 'tokensTitle', onOpen: () => { onOpen(); load(); name.input.focus(); } });
  p.reload.addEventListener('click', () => load());

  const form = el('form', { id: 'tokens-form', className: 'audit-filters admin-form' });
  const legend = el('h3', { className: 'admin-form-title' });
  const name = field('tokens-name', 'text', 64);
  const sensors = field('tokens-sensors', 'text', 2048);
  const scopesBox = el('fieldset', { className: 'admin-checks' });
  const scopesLegend = el('legend');
  const scopeBoxes = SCOPES.map((s) => checkbox(`tokens-scope-${s}`, s));
  scopeBoxes[0].input.checked = true;
  scopesBox.append(scopesLegend, ...scopeBoxes.map((c) => c.label));
  const submit = el('button', { type: 'submit', id: 'tokens-submit', className: 'legend-button' });
  const formMsg = el('p', { id: 'tokens-form-message', className: 'admin-message' });
  formMsg.setAttribute('role', 'alert');
  form.append(legend, name.label, scopesBox, sensors.label, submit, formMsg);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    create();
  });

  const table = el('table', { id: 'tokens-table', className: 'audit-table admin-table' });
  const thead = table.createTHead();
  const tbody = table.createTBody();
  p.body.append(table);
  p.panel.insertBefore(form, p.panel.querySelector('.admin-confirm'));

  const COLUMNS = ['name', 'scopes', 'sensors', 'created', 'last_used', 'state', 'actions'];

  async function load() {
    const seq = ++st.seq;
    st.loading = true;
    st.error = '';
    render();
    try {
      const data = await apiJSON('/api/v1/tokens');
      if (seq !== st.seq) return;
      // Active ones first, then the newest.
      st.tokens = [...(data?.tokens ?? [])].sort((a, b) => (Boolean(a.revoked) - Boolean(b.revoked)) || (Date.parse(b.created) - Date.parse(a.created)));
    } catch (err) {
      if (seq !== st.seq) return;
      st.tokens = [];
      st.error = adminErrorText(err, t);
    }
    st.loading = false;
    render();
  }

  function formError(text) {
    formMsg.className = 'admin-message error';
    formMsg.textContent = text;
  }

  async function create() {
    const nm = name.input.value.trim();
    const scopes = scopeBoxes.filter((c) => c.input.checked).map((c) => c.input.value);
    const ids = list(sensors.input.value);
    if (nm === '' || [...nm].length > 64) return formError(t('tokensBadName'));
    if (scopes.length === 0) return formError(t('tokensNoScopes'));
    if (ids.some((s) => !/^[1-9][0-9]{0,15}$/.test(s))) return formError(t('tokensBadSensors'));
    const body = { name: nm, scopes };
    if (ids.length) body.sensors = ids.map(Number);
    submit.disabled = true;
    formMsg.textContent = '';
    try {
      const data = await apiJSON('/api/v1/tokens', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body), login: false });
      form.reset();
      scopeBoxes[0].input.checked = true;
      p.showSecret(t('tokensCreated').replace('{name}', nm), data?.secret ?? '');
      load();
    } catch (err) {
      formError(t('adminError') + adminErrorText(err, t));
    } finally {
      submit.disabled = false;
    }
  }

  async function revoke(tk) {
    if (st.busy) return;
    const q = t('tokensConfirmRevoke').replace('{name}', tk.name);
    if (!(await p.confirm(q, t('tokensRevoke')))) return;
    st.busy = true;
    render();
    try {
      await apiJSON(`/api/v1/tokens/${encodeURIComponent(tk.id)}`, { method: 'DELETE', login: false });
      st.busy = false;
      p.setStatus(t('adminSaved'));
      await load();
    } catch (err) {
      st.busy = false;
      render();
      p.setStatus(t('adminError') + adminErrorText(err, t), true);
    }
  }

  function scopeTitle(s) {
    const k = `scope_${s}`;
    return t(k) === k ? s : `${t(k)} (${s})`;
  }

  function row(tk) {
    const tr = el('tr', { dataset: { id: tk.id, name: tk.name, revoked: String(Boolean(tk.revoked)) } });
    const cells = {
      name: tk.name,
      scopes: (tk.scopes ?? []).map(scopeTitle).join(t('listSep')),
      sensors: tk.sensors?.length ? t('tokensSensorCount').replace('{n}', String(tk.sensors.length)) : t('tokensAllSensors'),
      created: p.dateTime(tk.created),
      last_used: p.dateTime(tk.last_used) || t('tokensNever'),
      state: tk.revoked ? t('tokensRevokedAt').replace('{at}', p.dateTime(tk.revoked)) : t('tokensActive'),
    };
    for (const c of COLUMNS) {
      const td = tr.insertCell();
      td.className = `admin-${c}`;
      if (c !== 'actions') td.textContent = cells[c];
    }
    tr.cells[COLUMNS.indexOf('sensors')].title = (tk.sensors ?? []).join(', ');
    tr.cells[COLUMNS.indexOf('created')].title = [tk.created, tk.created_by].filter(Boolean).join(' · ');
    if (!tk.revoked) {
      const rv = button({ className: 'legend-button tokens-revoke admin-danger', textContent: t('tokensRevoke'), disabled: st.busy });
      rv.addEventListener('click', () => revoke(tk));
      tr.cells[COLUMNS.indexOf('actions')].append(rv);
    }
    return tr;
  }

  function render() {
    if (st.loading) p.setStatus(t('adminLoading'));
    else if (st.error) p.setStatus(t('adminLoadError') + st.error, true);
    else if (!st.busy && !p.panel.querySelector('.audit-status.error')) p.setStatus(st.tokens.length ? t('tokensCount').replace('{n}', String(st.tokens.length)) : t('tokensNone'));
    tbody.replaceChildren(...st.tokens.map(row));
  }

  function renderText() {
    p.renderText();
    legend.textContent = t('tokensAdd');
    name.text.textContent = t('tokensName');
    name.input.title = t('tokensNameHint');
    name.input.placeholder = t('tokensNameHint');
    scopesLegend.textContent = t('tokensScopes');
    for (const c of scopeBoxes) c.text.textContent = scopeTitle(c.input.value);
    sensors.text.textContent = t('tokensSensors');
    sensors.input.title = t('tokensSensorsHint');
    sensors.input.placeholder = t('tokensSensorsHint');
    submit.textContent = t('tokensSubmit');
    thead.replaceChildren();
    const tr = thead.insertRow();
    for (const c of COLUMNS) tr.append(el('th', { scope: 'col', textContent: t(`tokensCol_${c}`) }));
    render();
  }

  renderText();
  return {
    open: () => p.setOpen(true),
    close: () => p.setOpen(false),
    renderText,
    load,
    get isOpen() { return p.st.open; },
    get tokens() { return st.tokens; },
  };
}
