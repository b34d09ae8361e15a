// The audit log for users with audit.read (GET /api/v1/audit): a panel
// over the map with filters (who, what, from, to) and a table of the
// entries, newest first — time, user, roles, address, action, target and
// result.

import { apiJSON, errorText, roleTitle } from '/session.js';

// UI text in both languages, merged into the page's TEXT table.
export const TEXT = {
  zh: {
    auditTitle: '审计日志',
    auditWho: '用户',
    auditWhat: '操作',
    auditWhatHint: '如 login、alarms.ack，以“.”结尾匹配一类（users.）',
    auditFrom: '起',
    auditTo: '止',
    auditSearch: '查询',
    auditLoading: '正在加载审计日志…',
    auditNone: '没有符合条件的记录',
    auditCount: '共 {n} 条（最新在前）',
    auditError: '审计日志加载失败：',
    auditCol_at: '时间',
    auditCol_who: '用户',
    auditCol_roles: '角色',
    auditCol_addr: '地址',
    auditCol_action: '操作',
    auditCol_target: '对象',
    auditCol_result: '结果',
    auditResult_ok: '成功',
    auditResult_denied: '拒绝',
    auditResult_locked: '已锁定',
    auditResult_error: '出错',
    auditAction_login: '登录',
    auditAction_logout: '退出登录',
    'auditAction_logout.everywhere': '退出所有设备',
    'auditAction_alarms.ack': '确认报警',
    'auditAction_alarms.verify': '核实报警',
    'auditAction_rules.write': '修改规则',
    'auditAction_users.add': '添加用户',
    'auditAction_users.passwd': '修改密码',
    'auditAction_users.roles': '修改角色',
    'auditAction_users.scopes': '修改范围',
    'auditAction_users.disable': '停用用户',
    'auditAction_users.enable': '启用用户',
    'auditAction_tokens.issue': '签发令牌',
    'auditAction_tokens.revoke': '吊销令牌',
  },
  en: {
    auditTitle: 'Audit log',
    auditWho: 'User',
    auditWhat: 'Action',
    auditWhatHint: 'Such as login or alarms.ack; end with "." for a family (users.)',
    auditFrom: 'From',
    auditTo: 'To',
    auditSearch: 'Search',
    auditLoading: 'Loading the audit log…',
    auditNone: 'No entries match',
    auditCount: '{n} entries, newest first',
    auditError: 'Could not load the audit log: ',
    auditCol_at: 'Time',
    auditCol_who: 'User',
    auditCol_roles: 'Roles',
    auditCol_addr: 'Address',
    auditCol_action: 'Action',
    auditCol_target: 'Target',
    auditCol_result: 'Result',
    auditResult_ok: 'OK',
    auditResult_denied: 'Denied',
    auditResult_locked: 'Locked',
    auditResult_error: 'Error',
    auditAction_login: 'Log in',
    auditAction_logout: 'Log out',
    'auditAction_logout.everywhere': 'Log out everywhere',
    'auditAction_alarms.ack': 'Acknowledge alarm',
    'auditAction_alarms.verify': 'Verify alarm',
    'auditAction_rules.write': 'Change rules',
    'auditAction_users.add': 'Add user',
    'auditAction_users.passwd': 'Change password',
    'auditAction_users.roles': 'Change roles',
    'auditAction_users.scopes': 'Change scopes',
    'auditAction_users.disable': 'Disable user',
    'auditAction_users.enable': 'Enable user',
    'auditAction_tokens.issue': 'Issue token',
    'auditAction_tokens.revoke': 'Revoke token',
  },
};

// Entries asked for at once.
const LIMIT = 500;

const COLUMNS = ['at', 'who', 'roles', 'addr', 'action', 'target', 'result'];

// The actions offered in the "what" field.
const ACTIONS = ['login', 'logout', 'logout.everywhere', 'alarms.ack', 'alarms.verify', 'rules.write', 'users.', 'tokens.'];

// localInput is a Date as a datetime-local input's value, in local time.
function localInput(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

// rfc3339 is a datetime-local input's value as an RFC 3339 time, or ''.
export function rfc3339(value) {
  if (!value) return '';
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// createAudit adds the hidden panel to the page and returns open, close
// and renderText. deps: t (the page's text helper), lang (the page's
// language).
export function createAudit({ t, lang }) {
  const st = { open: false, entries: [], error: '', loading: false, seq: 0 };

  const panel = document.createElement('aside');
  panel.id = 'audit-panel';
  panel.className = 'audit-panel';
  panel.hidden = true;
  const head = document.createElement('header');
  head.className = 'audit-head';
  const heading = document.createElement('h2');
  heading.id = 'audit-title';
  const close = document.createElement('button');
  close.type = 'button';
  close.className = 'legend-button';
  close.textContent = '×';
  close.addEventListener('click', () => setOpen(false));
  head.append(heading, close);
  panel.setAttribute('aria-labelledby', heading.id);

  const form = document.createElement('form');
  form.id = 'audit-filters';
  form.className = 'audit-filters';
  const field = (id, type) => {
    const label = document.createElement('label');
    const text = document.createElement('span');
    const input = document.createElement('input');
    input.id = id;
    input.name = id;
    input.type = type;
    label.append(text, input);
    form.append(label);
    return { text, input };
  };
  const who = field('audit-who', 'text');
  who.input.maxLength = 64;
  who.input.autocomplete = 'off';
  const what = field('audit-what', 'text');
  what.input.maxLength = 64;
  what.input.autocomplete = 'off';
  const actions = document.createElement('datalist');
  actions.id = 'audit-actions';
  for (const a of ACTIONS) {
    const o = document.createElement('option');
    o.value = a;
    actions.append(o);
  }
  what.input.setAttribute('list', actions.id);
  form.append(actions);
  const from = field('audit-from', 'datetime-local');
  const to = field('audit-to', 'datetime-local');
  const search = document.createElement('button');
  search.type = 'submit';
  search.id = 'audit-search';
  search.className = 'legend-button';
  form.append(search);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    load();
  });

  const status = document.createElement('p');
  status.id = 'audit-status';
  status.className = 'audit-status';
  status.setAttribute('aria-live', 'polite');
  const body = document.createElement('div');
  body.className = 'audit-body';
  const table = document.createElement('table');
  table.id = 'audit-table';
  table.className = 'audit-table';
  const thead = table.createTHead();
  const tbody = table.createTBody();
  body.append(table);
  panel.append(head, form, status, body);
  document.body.append(panel);

  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && st.open && panel.contains(document.activeElement)) setOpen(false);
  });

  function setOpen(open) {
    st.open = open;
    panel.hidden = !open;
    if (open) {
      if (!from.input.value) from.input.value = localInput(new Date(Date.now() - 7 * 86400e3));
      load();
      who.input.focus();
    }
  }

  // load asks for the entries the filters describe.
  async function load() {
    const q = new URLSearchParams({ limit: String(LIMIT) });
    if (who.input.value.trim()) q.set('who', who.input.value.trim());
    if (what.input.value.trim()) q.set('what', what.input.value.trim());
    if (rfc3339(from.input.value)) q.set('from', rfc3339(from.input.value));
    if (rfc3339(to.input.value)) q.set('to', rfc3339(to.input.value));
    const seq = ++st.seq;
    st.loading = true;
    st.error = '';
    render();
    try {
      const data = await apiJSON(`/api/v1/audit?${q}`);
      if (seq !== st.seq) return;
      st.entries = [...(data?.entries ?? [])].sort((a, b) => (seqOf(b) - seqOf(a)) || (Date.parse(timeOf(b)) - Date.parse(timeOf(a))));
    } catch (err) {
      if (seq !== st.seq) return;
      st.entries = [];
      st.error = errorText(err, t);
    }
    st.loading = false;
    render();
  }

  function seqOf(e) {
    return Number(e.seq ?? e.n ?? 0);
  }

  function timeOf(e) {
    return e.at ?? e.time ?? '';
  }

  function locale() {
    return lang() === 'en' ? 'en' : 'zh-CN';
  }

  function dateTime(s) {
    const d = new Date(s);
    if (Number.isNaN(d.getTime())) return '';
    return d.toLocaleString(locale(), { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
  }

  function word(prefix, key) {
    const s = t(`${prefix}${key}`);
    return s === `${prefix}${key}` ? '' : s;
  }

  // resultKind is an entry's result as ok, denied, locked or error.
  function resultKind(r) {
    if (r === 'ok' || r === 'denied' || r === 'locked') return r;
    return r?.startsWith('error') ? 'error' : '';
  }

  function row(e) {
    const tr = document.createElement('tr');
    tr.dataset.seq = String(seqOf(e));
    const kind = resultKind(e.result);
    tr.dataset.result = kind;
    const action = word('auditAction_', e.action);
    const cells = {
      at: dateTime(timeOf(e)),
      who: e.who ?? '',
      roles: (e.roles ?? []).map((r) => roleTitle(r, t)).join(t('listSep')),
      addr: e.addr ?? e.remote ?? '',
      action: action ? `${action} (${e.action})` : e.action ?? '',
      target: e.target ?? '',
      result: kind === 'error' ? `${t('auditResult_error')}: ${e.result.replace(/^error:?\s*/, '')}` : (word('auditResult_', kind) || e.result || ''),
    };
    for (const c of COLUMNS) {
      const td = tr.insertCell();
      td.className = `audit-${c}`;
      td.textContent = cells[c];
      if (c === 'at') td.title = timeOf(e);
    }
    return tr;
  }

  function render() {
    status.className = 'audit-status';
    if (st.loading) status.textContent = t('auditLoading');
    else if (st.error) {
      status.className = 'audit-status error';
      status.textContent = t('auditError') + st.error;
    } else if (st.entries.length === 0) status.textContent = t('auditNone');
    else status.textContent = t('auditCount').replace('{n}', String(st.entries.length));
    tbody.replaceChildren(...st.entries.map(row));
  }

  function renderText() {
    heading.textContent = t('auditTitle');
    close.title = t('closePanel');
    close.setAttribute('aria-label', t('closePanel'));
    who.text.textContent = t('auditWho');
    what.text.textContent = t('auditWhat');
    what.input.title = t('auditWhatHint');
    from.text.textContent = t('auditFrom');
    to.text.textContent = t('auditTo');
    search.textContent = t('auditSearch');
    thead.replaceChildren();
    const tr = thead.insertRow();
    for (const c of COLUMNS) {
      const th = document.createElement('th');
      th.scope = 'col';
      th.textContent = t(`auditCol_${c}`);
      tr.append(th);
    }
    render();
  }

  renderText();
  return {
    open: () => setOpen(true),
    close: () => setOpen(false),
    renderText,
    load,
    get isOpen() { return st.open; },
    get entries() { return st.entries; },
  };
}
