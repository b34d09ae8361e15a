// The login page (/login.html): a login and a password posted as JSON to
// POST /api/v1/session; then back to the page the user came from (?next=,
// a path of this server only). It says why a login failed in the page's
// language: wrong credentials, an account locked for a while or too many
// logins from the address (the wait of the Retry-After header, in words),
// or a server out of reach. When the
// server lets anonymous viewers in, a link leads to the map without
// logging in.

import { TEXT as SESSION_TEXT, login, refresh, safeNext, waitText } from '/session.js';

const TEXT = {
  zh: { title: '城市安全风险一张图', switchLang: 'Switch to English', ...SESSION_TEXT.zh },
  en: { title: 'City safety risk map', switchLang: '切换到中文', ...SESSION_TEXT.en },
};

const params = new URLSearchParams(location.search);
const next = safeNext(params.get('next'));
let lang = initialLang();

function initialLang() {
  const q = params.get('lang');
  if (q === 'zh' || q === 'en') return q;
  return localStorage.getItem('onemap.lang') === 'en' ? 'en' : 'zh';
}

function t(key) {
  return TEXT[lang][key] ?? key;
}

const form = document.getElementById('login-form');
const loginInput = document.getElementById('login-login');
const password = document.getElementById('login-password');
const message = document.getElementById('login-message');
const submit = document.getElementById('login-submit');
const already = document.getElementById('login-already');
const anonymous = document.getElementById('login-anonymous');
const anonymousLink = document.getElementById('login-anonymous-link');

// What the page says: a message kept as its key and values, so that a
// language switch says it again.
let shown = null;

function say(key, values = {}, kind = 'error') {
  shown = key ? { key, values, kind } : null;
  renderMessage();
}

function renderMessage() {
  message.className = `login-message ${shown?.kind ?? ''}`;
  if (!shown) {
    message.textContent = '';
    return;
  }
  let text = t(shown.key);
  for (const [k, v] of Object.entries(shown.values)) text = text.replace(`{${k}}`, typeof v === 'function' ? v() : v);
  message.textContent = text;
}

// The page where the user goes next, with the language chosen here.
function nextURL() {
  const u = new URL(next, location.origin);
  if (lang === 'en') u.searchParams.set('lang', 'en');
  else u.searchParams.delete('lang');
  return u.pathname + u.search + u.hash;
}

let session = null;

function renderText() {
  document.documentElement.lang = lang === 'en' ? 'en' : 'zh-CN';
  document.title = `${t('loginTitle')} · ${t('title')}`;
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  const sw = document.getElementById('lang-switch');
  sw.textContent = lang === 'en' ? '中文' : 'EN';
  sw.lang = lang === 'en' ? 'zh-CN' : 'en';
  sw.title = t('switchLang');
  anonymousLink.href = nextURL();
  if (session?.user) {
    already.replaceChildren(document.createTextNode(`${t('loginAlready').replace('{name}', session.user.name || session.user.login)} `));
    const a = document.createElement('a');
    a.href = nextURL();
    a.id = 'login-continue';
    a.textContent = t('loginContinue');
    already.append(a);
  }
  renderMessage();
}

document.getElementById('lang-switch').addEventListener('click', () => {
  lang = lang === 'en' ? 'zh' : 'en';
  localStorage.setItem('onemap.lang', lang);
  const u = new URL(location.href);
  if (lang === 'en') u.searchParams.set('lang', 'en');
  else u.searchParams.delete('lang');
  history.replaceState(null, '', u);
  renderText();
});

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  const name = loginInput.value.trim();
  if (!name || !password.value) {
    say('loginMissing');
    (name ? password : loginInput).focus();
    return;
  }
  submit.disabled = true;
  say('loginSending', {}, 'pending');
  try {
    await login(name, password.value);
    say('');
    location.replace(nextURL());
  } catch (err) {
    submit.disabled = false;
    password.value = '';
    if (err.code === 'bad_credentials') {
      say('loginBadCredentials');
      password.focus();
    } else if (err.code === 'locked' || err.code === 'too_many_requests') {
      const wait = err.retryAfter;
      say(err.code === 'locked' ? 'loginLocked' : 'loginTooMany', { wait: () => waitText(wait, t) });
    } else if (err.code === 'network' || err.status >= 500) {
      say('loginNetwork');
    } else {
      say('loginFailed', { code: err.code || `HTTP ${err.status}` });
    }
  }
});

renderText();

// Who is here already: a user may go on; an anonymous viewer may see the
// map without logging in.
refresh().then((s) => {
  session = s;
  already.hidden = !s.user;
  anonymous.hidden = !(s.loaded && s.anonymous && s.permissions.has('map.view'));
  renderText();
});
