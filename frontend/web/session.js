// The signed-in user and every request the web app makes to its server.
//
//   - GET /api/v1/session tells who the user is, what they may do
//     (permissions) and the token that writes carry (csrf); an anonymous
//     viewer gets {"user": null, "anonymous": true}.
//   - api() is the one fetch of the app: it sends the cookie, adds
//     X-CSRF-Token to every write, a view token of the page's URL
//     (?token=, kept on the device until a login) as Authorization, and
//     on 401 goes to the login page,
//     keeping the view to come back to; the big screen, watched rather than
//     handled, never leaves: it checks the session again quietly and keeps
//     retrying.
//   - A write refused with code csrf gets the session again and is sent
//     once more with its new token.
//   - The big screen, which makes few requests while its socket is open,
//     asks for its session every third of the session's idle timeout, so
//     that the session it was logged in with stays while it is shown.
//
// The login page (login.html, login.js) shares the text, the wait words
// and the check of where to go back to.

import { TEXT as ERROR_TEXT } from '/errors.js';

// UI text in both languages, merged into the page's TEXT table.
export const TEXT = {
  zh: {
    ...ERROR_TEXT.zh,
    loginTitle: '登录',
    loginLogin: '账号',
    loginPassword: '密码',
    loginSubmit: '登录',
    loginSending: '正在登录…',
    loginBadCredentials: '账号或密码不正确。',
    loginLocked: '尝试次数过多，账号已暂时锁定。{wait}',
    loginTooMany: '本机登录过于频繁。{wait}',
    loginMissing: '请填写账号和密码。',
    loginNetwork: '无法连接服务器，请检查网络后重试。',
    loginFailed: '登录失败（{code}），请稍后再试。',
    loginAnonymous: '不登录，以访客身份查看地图',
    loginAlready: '当前已登录：{name}。',
    loginContinue: '继续',
    waitSeconds: '请 {n} 秒后再试。',
    waitMinutes: '请 {n} 分钟后再试。',
    waitHours: '请 {n} 小时后再试。',
    waitLater: '请稍后再试。',
    logIn: '登录',
    logInTitle: '登录后可确认报警、运行分析',
    userMenu: '用户菜单',
    userRoles: '角色',
    listSep: '、',
    logOut: '退出登录',
    logOutEverywhere: '退出所有设备',
    logOutFailed: '退出失败：',
    auditOpen: '审计日志',
    role_viewer: '只读查看',
    role_operator: '值班员',
    role_analyst: '研判分析员',
    role_commander: '指挥签发',
    role_responder: '现场处置',
    role_unit: '权属单位',
    role_admin: '管理员',
    errUnknown: '操作未成功（{code}），请稍后再试',
    errNetwork: '无法连接服务器',
    screenNeedLogin: '大屏未登录或登录已失效：请登录，或使用带令牌的大屏地址。正在重试…',
  },
  en: {
    ...ERROR_TEXT.en,
    loginTitle: 'Log in',
    loginLogin: 'Login',
    loginPassword: 'Password',
    loginSubmit: 'Log in',
    loginSending: 'Logging in…',
    loginBadCredentials: 'The login or the password is wrong.',
    loginLocked: 'Too many attempts: the account is locked for a while. {wait}',
    loginTooMany: 'Too many logins from this device. {wait}',
    loginMissing: 'Enter your login and password.',
    loginNetwork: 'The server cannot be reached. Check the network and try again.',
    loginFailed: 'Could not log in ({code}); try again later.',
    loginAnonymous: 'View the map without logging in',
    loginAlready: 'Logged in as {name}.',
    loginContinue: 'Continue',
    waitSeconds: 'Try again in {n} seconds.',
    waitSecond: 'Try again in 1 second.',
    waitMinutes: 'Try again in {n} minutes.',
    waitMinute: 'Try again in 1 minute.',
    waitHours: 'Try again in {n} hours.',
    waitHour: 'Try again in 1 hour.',
    waitLater: 'Try again later.',
    logIn: 'Log in',
    logInTitle: 'Log in to acknowledge alarms and run analyses',
    userMenu: 'User menu',
    userRoles: 'Roles',
    listSep: ', ',
    logOut: 'Log out',
    logOutEverywhere: 'Log out everywhere',
    logOutFailed: 'Could not log out: ',
    auditOpen: 'Audit log',
    role_viewer: 'Viewer',
    role_operator: 'Operator',
    role_analyst: 'Analyst',
    role_commander: 'Commander',
    role_responder: 'Responder',
    role_unit: 'Owning unit',
    role_admin: 'Administrator',
    errUnknown: 'It did not work ({code}); try again later',
    errNetwork: 'The server cannot be reached',
    screenNeedLogin: 'The screen is not logged in: log in, or open the screen\'s address with its token. Retrying…',
  },
};

// The login page, and where the session lives.
export const LOGIN_PAGE = '/login.html';
const SESSION = '/api/v1/session';

// The longest wait before the session is asked for again after a network
// error, in milliseconds.
const RETRY_MAX = 10000;

const st = {
  loaded: false, // an answer came
  user: null, // {id, login, name, roles} or null
  anonymous: false,
  permissions: new Set(),
  csrf: '',
  expires: '',
  quiet: false, // the big screen: no login page on 401
  needLogin: false, // quiet and the server said 401
  listeners: new Set(),
  checking: null, // the pending GET of the session
  retryTimer: 0,
  retryWait: 500,
  keepAlive: false, // ask for the session before it idles out
  idle: 0, // the session's idle timeout, in seconds
  aliveTimer: 0,
};

// configure sets how a 401 is taken: quiet (the big screen) checks the
// session again and retries instead of going to the login page; with
// keepAlive the session is asked for before it would idle out.
export function configure({ quiet = false, keepAlive = false } = {}) {
  st.quiet = quiet;
  st.keepAlive = keepAlive;
}

// TOKEN_KEY keeps a view token on the device, for the next visit.
const TOKEN_KEY = 'onemap.token';

// pageToken is the page's view token: ?token= in its URL (then kept on the
// device), else the one kept from an earlier visit. Logging in forgets it
// (forgetToken), so that the user's session, not the screen's token, is
// who asks.
export function pageToken() {
  const q = new URLSearchParams(location.search).get('token');
  if (q) {
    localStorage.setItem(TOKEN_KEY, q);
    return q;
  }
  return localStorage.getItem(TOKEN_KEY) ?? '';
}

// forgetToken drops the view token kept on the device.
export function forgetToken() {
  localStorage.removeItem(TOKEN_KEY);
}

function sameOrigin(url) {
  try {
    return new URL(url, location.href).origin === location.origin;
  } catch {
    return false;
  }
}

// authHeader is the Authorization header for a request to url: the page's
// view token, only to this server.
export function authHeader(url) {
  const tk = pageToken();
  return tk && sameOrigin(url) ? `Bearer ${tk}` : '';
}

// ApiError is a server's refusal: its HTTP status, its stable code and its
// message.
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || `HTTP ${status}`);
    this.status = status;
    this.code = code || '';
  }
}

// api fetches url from this server with the session's credentials; it
// returns the response as fetch does. options.login false keeps a 401 from
// leading to the login page.
export async function api(url, options = {}) {
  const res = await send(url, options);
  if (res.status === 401 && options.login !== false) unauthorized();
  if (res.status === 403 && isWrite(options) && !options.retried) {
    const body = await res.clone().json().catch(() => ({}));
    if (body?.error?.code === 'csrf') {
      const before = st.csrf;
      await refresh();
      if (st.csrf && st.csrf !== before) return api(url, { ...options, retried: true });
    } else if (body?.error?.code === 'forbidden') {
      // The session may have ended and left an anonymous viewer.
      refresh();
    }
  }
  return res;
}

// apiJSON fetches url and returns its JSON; it throws an ApiError with the
// server's code and message for an error status, and code "network" when
// the server cannot be reached.
export async function apiJSON(url, options = {}) {
  let res;
  try {
    res = await api(url, options);
  } catch (err) {
    if (err?.name === 'AbortError') throw err;
    throw new ApiError(0, 'network', err?.message);
  }
  if (res.status === 204) return null;
  const data = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, data?.error?.code, data?.error?.message);
  return data;
}

// errorText is an error's words for the user in the page's language: in
// Chinese the words of its code (errors.js), never the server's English
// message; in English the server's message, which says more, or the
// code's words.
export function errorText(err, t) {
  if (err?.code === 'network') return t('errNetwork');
  const key = `err_${err?.code}`;
  const words = err?.code && t(key) !== key ? t(key) : '';
  const en = document.documentElement.lang === 'en';
  if (en && err?.message) return err.message;
  return words || (en ? String(err?.message ?? err) : t('errUnknown').replace('{code}', String(err?.code ?? err?.status ?? '')));
}

function isWrite(options) {
  const m = (options.method ?? 'GET').toUpperCase();
  return m !== 'GET' && m !== 'HEAD';
}

function send(url, options) {
  const headers = new Headers(options.headers);
  if (!headers.has('Accept')) headers.set('Accept', 'application/json');
  if (isWrite(options) && st.csrf) headers.set('X-CSRF-Token', st.csrf);
  const auth = authHeader(url);
  if (auth && !headers.has('Authorization')) headers.set('Authorization', auth);
  const { login: _login, retried: _retried, ...rest } = options;
  return fetch(url, { ...rest, headers, credentials: 'same-origin' });
}

// loginURL is the login page, to come back to the page as it is now.
export function loginURL() {
  const next = location.pathname + location.search + location.hash;
  const u = new URL(LOGIN_PAGE, location.href);
  if (next !== '/') u.searchParams.set('next', next);
  const lang = new URLSearchParams(location.search).get('lang') ?? localStorage.getItem('onemap.lang');
  if (lang === 'en') u.searchParams.set('lang', 'en');
  return u.pathname + u.search;
}

let leaving = false;

// unauthorized takes a 401: the login page, or on the big screen a quiet
// check of the session.
function unauthorized() {
  if (location.pathname === LOGIN_PAGE) return;
  if (st.quiet) {
    scheduleRefresh();
    return;
  }
  if (leaving) return;
  leaving = true;
  location.assign(loginURL());
}

function scheduleRefresh() {
  if (st.retryTimer) return;
  const wait = st.retryWait;
  st.retryWait = Math.min(RETRY_MAX, st.retryWait * 2);
  st.retryTimer = setTimeout(() => {
    st.retryTimer = 0;
    refresh();
  }, wait);
}

// apply takes an answer of GET or POST /api/v1/session.
function apply(body) {
  st.loaded = true;
  st.user = body?.user ?? null;
  st.anonymous = Boolean(body?.anonymous) || !st.user;
  st.permissions = new Set(body?.permissions ?? []);
  st.csrf = body?.csrf ?? '';
  st.expires = body?.expires ?? '';
  st.idle = Number(body?.idle_timeout_s) || 0;
  st.needLogin = false;
  st.retryWait = 500;
  clearTimeout(st.aliveTimer);
  if (st.keepAlive && st.user && st.idle > 0) {
    st.aliveTimer = setTimeout(() => refresh(), Math.max(30, st.idle / 3) * 1000);
  }
  for (const fn of st.listeners) fn(current());
}

// refresh asks the server who the user is. A network error or a 5xx is
// tried again after a growing wait; a 401 goes to the login page (or is
// noted, and retried, on the big screen); a server without sessions (404)
// is taken as an anonymous viewer of the map.
export function refresh() {
  if (st.checking) return st.checking;
  st.checking = (async () => {
    try {
      const res = await send(SESSION, {});
      if (res.ok) {
        apply(await res.json());
      } else if (res.status === 401) {
        if (st.quiet) {
          st.needLogin = true;
          for (const fn of st.listeners) fn(current());
        }
        unauthorized();
      } else if (res.status === 404) {
        apply({ user: null, anonymous: true, permissions: ['map.view', 'alarms.read'] });
      } else {
        scheduleRefresh();
      }
    } catch {
      scheduleRefresh();
    } finally {
      st.checking = null;
    }
    return current();
  })();
  return st.checking;
}

// current is the session as the page knows it.
export function current() {
  return {
    loaded: st.loaded,
    user: st.user,
    anonymous: st.anonymous,
    permissions: st.permissions,
    csrf: st.csrf,
    needLogin: st.needLogin,
  };
}

// can tells whether the user has a permission.
export function can(permission) {
  return st.permissions.has(permission);
}

// onChange calls fn with the session each time it is known anew.
export function onChange(fn) {
  st.listeners.add(fn);
  return () => st.listeners.delete(fn);
}

// logout ends this session (everywhere: every session of the user) and
// goes to the login page.
export async function logout({ everywhere = false } = {}) {
  await apiJSON(everywhere ? '/api/v1/sessions' : SESSION, { method: 'DELETE', login: false });
  leaving = true;
  location.assign(loginURL());
}

// login posts the credentials; it resolves to the session or throws an
// ApiError (bad_credentials, locked with retryAfter seconds, network).
export async function login(loginName, password) {
  let res;
  try {
    res = await fetch(SESSION, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      credentials: 'same-origin',
      body: JSON.stringify({ login: loginName, password }),
    });
  } catch (err) {
    throw new ApiError(0, 'network', err?.message);
  }
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const err = new ApiError(res.status, data?.error?.code, data?.error?.message);
    err.retryAfter = retryAfter(res.headers.get('Retry-After'));
    throw err;
  }
  forgetToken();
  apply(data);
  return current();
}

// retryAfter is a Retry-After header's wait in seconds (RFC 9110: seconds
// or an HTTP date), 0 when there is none. A wait of 0 seconds on a refusal
// is one of less than a second: 1.
function retryAfter(h) {
  if (!h) return 0;
  const n = Number(h);
  if (Number.isFinite(n)) return Math.max(1, n);
  const at = Date.parse(h);
  return Number.isFinite(at) ? Math.max(0, (at - Date.now()) / 1000) : 0;
}

// waitText says how long to wait before trying again, in words of the
// page's language: "请 2 分钟后再试。", "Try again in 2 minutes.". Seconds
// under a minute are said as seconds, then whole minutes (rounded up),
// then whole hours.
export function waitText(seconds, t) {
  const s = Math.ceil(Number(seconds));
  if (!Number.isFinite(s) || s <= 0) return t('waitLater');
  const say = (unit, n) => {
    const one = t(`wait${unit}`);
    return n === 1 && one !== `wait${unit}` ? one : t(`wait${unit}s`).replace('{n}', String(n));
  };
  if (s < 60) return say('Second', s);
  if (s < 3600) return say('Minute', Math.ceil(s / 60));
  return say('Hour', Math.ceil(s / 3600));
}

// safeNext is where the login page may send the user back to: a path of
// this server (not the login page itself), or "/".
export function safeNext(raw) {
  if (!raw || !raw.startsWith('/') || raw.startsWith('//') || raw.startsWith('/\\')) return '/';
  let u;
  try {
    u = new URL(raw, location.origin);
  } catch {
    return '/';
  }
  if (u.origin !== location.origin || u.pathname === LOGIN_PAGE) return '/';
  return u.pathname + u.search + u.hash;
}

// roleTitle is a role's name in the page's language.
export function roleTitle(role, t) {
  const s = t(`role_${role}`);
  return s === `role_${role}` ? role : s;
}
