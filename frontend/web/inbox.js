// The inbox of in-app messages, for any logged-in user: a button with the
// number of unread messages (#inbox-button, #inbox-count) opens a panel
// (#inbox-panel) of GET /api/v1/inbox, unread first; each message can be
// marked read (POST /api/v1/inbox/{id}/read) and replied to (POST
// /api/v1/inbox/{id}/reply {"text"}). The messages are asked for every
// 30 s and after a warning changes; while the server does not serve the
// inbox (404), the button stays hidden.

import { can, current } from '/session.js';
import { el, levelBadge, request, stepErrorText } from '/incident.js';

// UI text in both languages, merged into the page's TEXT table.
export const TEXT = {
  zh: {
    inbox: '消息',
    inboxTitle: '站内消息',
    inboxButtonTitle: '显示或隐藏站内消息',
    inboxNone: '没有消息',
    inboxLoading: '正在加载消息…',
    inboxError: '消息加载失败：',
    inboxRead: '标为已读',
    inboxReply: '回复',
    inboxReplyText: '回复内容',
    inboxReplyNeeded: '请填写回复内容',
    inboxReplied: '已回复：{text}',
    inboxUnread: '未读',
  },
  en: {
    inbox: 'Inbox',
    inboxTitle: 'Messages',
    inboxButtonTitle: 'Show or hide the messages',
    inboxNone: 'No messages',
    inboxLoading: 'Loading the messages…',
    inboxError: 'Could not load the messages: ',
    inboxRead: 'Mark read',
    inboxReply: 'Reply',
    inboxReplyText: 'Your reply',
    inboxReplyNeeded: 'Write a reply first',
    inboxReplied: 'Replied: {text}',
    inboxUnread: 'Unread',
  },
};

const POLL = 60e3;
const UNREAD = new Set(['queued', 'sent', 'delivered']);

// createInbox adds the button and the panel. deps: t, lang, format
// (alarms.js's formats), onOpen() when the panel opens. It returns
// refresh, renderText, sessionChanged and its state for tests.
export function createInbox({ t, lang, format, onOpen = () => {} }) {
  const st = { open: false, available: true, loaded: false, error: '', items: [], message: '' };

  const btn = el('button', 'legend-button inbox-button');
  btn.type = 'button';
  btn.id = 'inbox-button';
  btn.hidden = true;
  btn.setAttribute('aria-controls', 'inbox-panel');
  btn.setAttribute('aria-expanded', 'false');
  const btnText = el('span');
  const count = el('span', 'alarm-count');
  count.id = 'inbox-count';
  btn.append(btnText, ' ', count);
  const box = document.getElementById('user-box');
  box?.before(btn);

  const panel = el('aside', 'inbox-panel');
  panel.id = 'inbox-panel';
  panel.hidden = true;
  const head = el('header', 'alarm-head');
  const heading = el('h2');
  heading.id = 'inbox-title';
  const close = el('button', 'legend-button', '×');
  close.type = 'button';
  close.addEventListener('click', () => setOpen(false));
  head.append(heading, close);
  panel.setAttribute('aria-labelledby', heading.id);
  const body = el('div', 'alarm-body');
  const status = el('p', 'alarm-status');
  status.setAttribute('aria-live', 'polite');
  const list = el('ul', 'alarm-list inbox-list');
  list.id = 'inbox-list';
  body.append(status, list);
  panel.append(head, body);
  document.body.append(panel);
  btn.addEventListener('click', () => setOpen(!st.open));

  function setOpen(open) {
    st.open = open;
    panel.hidden = !open;
    btn.setAttribute('aria-expanded', String(open));
    if (open) {
      onOpen();
      refresh();
    }
    render();
  }

  function loggedIn() {
    const s = current();
    return s.loaded && !s.anonymous && Boolean(s.user) && can('map.view');
  }

  let timer = 0;
  let seq = 0;
  // The live channel says when a message arrives; the timer is a fallback.
  window.addEventListener('onemap:poke', (e) => { if (e.detail === 'inbox') refresh(); });
  // refresh asks for the messages again.
  async function refresh() {
    clearTimeout(timer);
    if (!loggedIn() || !st.available) {
      btn.hidden = true;
      return;
    }
    const n = ++seq;
    try {
      const answer = await request('/api/v1/inbox', { optional: true, quiet: true });
      if (n !== seq) return;
      if (answer === null) {
        // The server does not serve the inbox.
        st.available = false;
        btn.hidden = true;
        setOpen(false);
        return;
      }
      st.items = sortItems(answer.deliveries ?? []);
      st.loaded = true;
      st.error = '';
    } catch (err) {
      if (n !== seq) return;
      st.error = stepErrorText(err, t);
    }
    btn.hidden = false;
    render();
    timer = setTimeout(refresh, POLL);
  }

  function sortItems(items) {
    return [...items].sort((a, b) => Number(UNREAD.has(b.state)) - Number(UNREAD.has(a.state)) || Date.parse(b.created) - Date.parse(a.created));
  }

  function render() {
    const unread = st.items.filter((x) => UNREAD.has(x.state)).length;
    count.textContent = String(unread);
    count.classList.toggle('unread', unread > 0);
    btnText.textContent = t('inbox');
    btn.title = t('inboxButtonTitle');
    heading.textContent = t('inboxTitle');
    close.title = t('closePanel');
    close.setAttribute('aria-label', t('closePanel'));
    if (!st.open) return;
    status.className = 'alarm-status';
    if (st.message) {
      status.classList.add('error');
      status.textContent = st.message;
    } else if (st.error) {
      status.classList.add('error');
      status.textContent = t('inboxError') + st.error;
    } else {
      status.textContent = !st.loaded ? t('inboxLoading') : st.items.length ? '' : t('inboxNone');
    }
    status.hidden = status.textContent === '';
    list.replaceChildren(...st.items.map(row));
  }

  function row(x) {
    const li = el('li', 'inbox-row');
    li.dataset.id = String(x.id);
    li.dataset.state = x.state;
    const unread = UNREAD.has(x.state);
    li.classList.toggle('unread', unread);
    const top = el('div', 'inbox-top');
    if (x.level) top.append(levelBadge(x.level, t));
    top.append(el('span', 'inbox-incident', x.incident ?? ''));
    const when = el('time', 'alarm-meta', format.dateTime(x.created));
    when.dateTime = x.created ?? '';
    top.append(when);
    if (unread) top.append(el('span', 'inbox-unread', t('inboxUnread')));
    const text = el('p', 'inbox-text', (lang() === 'en' ? x.text_en || x.text_zh : x.text_zh || x.text_en) ?? '');
    li.append(top, text);
    if (x.reply) li.append(el('p', 'inbox-reply-done', t('inboxReplied').replace('{text}', typeof x.reply === 'string' ? x.reply : x.reply.text ?? '')));
    const actions = el('form', 'inbox-actions');
    if (unread) {
      const read = el('button', 'incident-action inbox-read', t('inboxRead'));
      read.type = 'button';
      read.addEventListener('click', () => post(x, 'read', {}));
      actions.append(read);
    }
    if (x.state !== 'replied') {
      const input = el('input', 'incident-input inbox-reply-text');
      input.maxLength = 1000;
      input.placeholder = t('inboxReplyText');
      input.setAttribute('aria-label', t('inboxReplyText'));
      const send = el('button', 'incident-action inbox-reply', t('inboxReply'));
      send.type = 'submit';
      actions.append(input, send);
      actions.addEventListener('submit', (e) => {
        e.preventDefault();
        if (!input.value.trim()) {
          st.message = t('inboxReplyNeeded');
          render();
          return;
        }
        post(x, 'reply', { text: input.value.trim() });
      });
    }
    li.append(actions);
    return li;
  }

  async function post(x, what, b) {
    st.message = '';
    try {
      await request(`/api/v1/inbox/${encodeURIComponent(x.id)}/${what}`, { method: 'POST', body: b });
    } catch (err) {
      st.message = stepErrorText(err, t);
    }
    refresh();
  }

  function sessionChanged() {
    st.available = true;
    refresh();
  }

  return {
    refresh,
    renderText: render,
    sessionChanged,
    setOpen,
    get items() { return st.items; },
    get available() { return st.available && loggedIn(); },
  };
}
