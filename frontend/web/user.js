// The user in the legend header: for an anonymous viewer a "log in" button
// to the login page; for a user a button with their name that opens a menu
// of their login and roles, the audit log (with audit.read), the users
// (users.admin) and the tokens (tokens.admin), and logging out of this
// device or of every device (DELETE /api/v1/session, DELETE /api/v1/sessions).

import { can, current, errorText, loginURL, logout, refresh, roleTitle } from '/session.js';

// createUserMenu fills #user-box. deps: t (the page's text helper),
// onAudit() to open the audit log, onUsers() the users and onTokens() the
// tokens, each null where there is none (the big screen, the phone).
export function createUserMenu({ t, onAudit = null, onUsers = null, onTokens = null }) {
  const box = document.getElementById('user-box');
  const button = document.createElement('button');
  button.type = 'button';
  button.id = 'user-button';
  button.className = 'legend-button user-button';
  button.hidden = true;
  const menu = document.createElement('div');
  menu.id = 'user-menu';
  menu.className = 'user-menu';
  menu.hidden = true;
  button.setAttribute('aria-controls', menu.id);
  button.setAttribute('aria-expanded', 'false');
  const name = document.createElement('p');
  name.id = 'user-name';
  name.className = 'user-name';
  const loginEl = document.createElement('p');
  loginEl.className = 'user-login';
  const roles = document.createElement('p');
  roles.id = 'user-roles';
  roles.className = 'user-roles';
  const audit = document.createElement('button');
  audit.type = 'button';
  audit.id = 'user-audit';
  const users = document.createElement('button');
  users.type = 'button';
  users.id = 'user-users';
  const tokens = document.createElement('button');
  tokens.type = 'button';
  tokens.id = 'user-tokens';
  const out = document.createElement('button');
  out.type = 'button';
  out.id = 'user-logout';
  const outAll = document.createElement('button');
  outAll.type = 'button';
  outAll.id = 'user-logout-all';
  const msg = document.createElement('p');
  msg.className = 'user-menu-message';
  msg.setAttribute('role', 'alert');
  menu.append(name, loginEl, roles, audit, users, tokens, out, outAll, msg);
  box?.append(button, menu);

  function setOpen(open) {
    menu.hidden = !open;
    button.setAttribute('aria-expanded', String(open));
    if (!open) msg.textContent = '';
  }

  button.addEventListener('click', () => {
    if (current().anonymous) {
      location.assign(loginURL());
      return;
    }
    setOpen(menu.hidden);
  });
  document.addEventListener('click', (e) => {
    if (!menu.hidden && !box.contains(e.target)) setOpen(false);
  });
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && !menu.hidden) {
      setOpen(false);
      button.focus();
    }
  });
  audit.addEventListener('click', () => {
    setOpen(false);
    onAudit?.();
  });
  users.addEventListener('click', () => {
    setOpen(false);
    onUsers?.();
  });
  tokens.addEventListener('click', () => {
    setOpen(false);
    onTokens?.();
  });
  const leave = (everywhere) => async () => {
    out.disabled = outAll.disabled = true;
    try {
      await logout({ everywhere });
    } catch (err) {
      // Already logged out (the session ended elsewhere): the login page
      // is where the user goes anyway.
      const s = err.status === 401 ? null : await refresh();
      if (!s || !s.user) {
        location.assign(loginURL());
        return;
      }
      out.disabled = outAll.disabled = false;
      msg.textContent = t('logOutFailed') + errorText(err, t);
    }
  };
  out.addEventListener('click', leave(false));
  outAll.addEventListener('click', leave(true));

  function render() {
    const s = current();
    button.hidden = !s.loaded;
    const anonymous = s.anonymous || !s.user;
    button.classList.toggle('anonymous', anonymous);
    button.dataset.user = anonymous ? '' : s.user.login;
    if (anonymous) {
      setOpen(false);
      button.textContent = t('logIn');
      button.title = t('logInTitle');
      button.removeAttribute('aria-label');
      return;
    }
    const shown = s.user.name || s.user.login;
    button.textContent = shown;
    button.title = t('userMenu');
    button.setAttribute('aria-label', `${t('userMenu')}: ${shown}`);
    name.textContent = shown;
    loginEl.textContent = s.user.login;
    loginEl.hidden = shown === s.user.login;
    const list = (s.user.roles ?? []).map((r) => roleTitle(r, t));
    roles.textContent = `${t('userRoles')}: ${list.join(t('listSep')) || '–'}`;
    roles.dataset.roles = (s.user.roles ?? []).join(',');
    audit.textContent = t('auditOpen');
    audit.hidden = !onAudit || !can('audit.read');
    users.textContent = t('usersOpen');
    users.hidden = !onUsers || !can('users.admin');
    tokens.textContent = t('tokensOpen');
    tokens.hidden = !onTokens || !can('tokens.admin');
    out.textContent = t('logOut');
    outAll.textContent = t('logOutEverywhere');
  }

  render();
  return { render, setOpen };
}
