/**
 * "Waiting for the host" (secure domain, as Jitsi Meet's WaitForOwnerDialog and LoginDialog): the meeting does not
 * exist yet and only a user with a login may start it. Meanwhile the conference keeps asking (it joins by itself
 * once someone else started the meeting); a host logs in here with username and password. A refused login shows
 * its reason and keeps the form (and what was typed, except the password). Focus order: username, password, Log in,
 * Leave; Enter in a field submits.
 */
import { LoginError } from '../xmpp/connection.js';
import { loginFailureText } from '../auth.js';
import { h } from './dom.js';

export function waitingForHostView(room: string, login: (username: string, password: string) => Promise<void>): HTMLElement {
  const username = h('input', { id: 'login-username', name: 'username', type: 'text', autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false', required: true, 'aria-describedby': 'login-error' });
  const password = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true, 'aria-describedby': 'login-error' });
  const error = h('p', { id: 'login-error', class: 'error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Log in');
  const form = h(
    'form',
    {
      class: 'card login-form',
      'aria-labelledby': 'login-heading',
      onsubmit: (ev) => {
        ev.preventDefault();
        const user = username.value.trim();
        if (user === '' || password.value === '') {
          error.textContent = 'Enter your username and password.';
          (user === '' ? username : password).focus();
          return;
        }
        error.textContent = '';
        submit.disabled = true;
        submit.textContent = 'Logging in…';
        username.removeAttribute('aria-invalid');
        password.removeAttribute('aria-invalid');
        login(user, password.value).then(
          () => {
            submit.textContent = 'Joining…';
          },
          (err: unknown) => {
            submit.disabled = false;
            submit.textContent = 'Log in';
            error.textContent =
              err instanceof LoginError ? loginFailureText(err.condition, err.text, 'password') : err instanceof Error ? err.message : String(err);
            password.value = '';
            if (err instanceof LoginError && err.condition === 'not-authorized') {
              username.setAttribute('aria-invalid', 'true');
              password.setAttribute('aria-invalid', 'true');
            }
            password.focus();
          },
        );
      },
    },
    h('h2', { id: 'login-heading' }, 'Are you the host? Log in'),
    h('label', { for: 'login-username' }, 'Username'),
    username,
    h('label', { for: 'login-password' }, 'Password'),
    password,
    submit,
    error,
  );
  return h(
    'div',
    { class: 'page waiting-for-host', 'data-view': 'auth-required' },
    h('h1', null, 'Waiting for the host…'),
    h(
      'p',
      { class: 'lead', role: 'status' },
      'The meeting ',
      h('span', { class: 'room' }, `“${room}”`),
      ' has not started yet. You will join automatically as soon as the host starts it.',
    ),
    form,
    h('p', { class: 'row' }, h('a', { class: 'button', href: '/' }, 'Leave')),
  );
}
