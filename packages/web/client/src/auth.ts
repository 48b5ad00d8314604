/**
 * The secure auth modes as Jitsi Meet handles them (README "Secure rooms"), the pure parts:
 *
 * - JWT: a token arrives as `?jwt=` of the meeting URL (Jitsi Meet's convention); it goes on the XMPP service URL as
 *   `?token=` (lib-jitsi-meet) and the login is SASL ANONYMOUS on the main domain. The token is taken out of the
 *   address bar at once ({@link takeJwt}) and kept in memory only, never in storage.
 * - Secure domain: without a token, a client logs in anonymously on `hosts.anonymousdomain` when /config.js names
 *   one ({@link loginDomain}); a user who logs in does so with SASL PLAIN ({@link plainAuthPayload}) on the main
 *   domain.
 *
 * References: RFC 4616 (PLAIN), README "Secure rooms", lib-jitsi-meet `JitsiConnection` (token on the service URL).
 */

/** `?jwt=` of a page URL, and the same URL without it (relative: path, other parameters, hash), or undefined. */
export function takeJwt(href: string): { token: string | undefined; cleanUrl: string | undefined } {
  const url = new URL(href);
  if (!url.searchParams.has('jwt')) return { token: undefined, cleanUrl: undefined };
  const token = url.searchParams.get('jwt')?.trim() ?? '';
  url.searchParams.delete('jwt');
  const search = url.searchParams.toString();
  return { token: token === '' ? undefined : token, cleanUrl: `${url.pathname}${search === '' ? '' : `?${search}`}${url.hash}` };
}

/** An XMPP service URL (WebSocket or BOSH, may be relative) with `?room=` and, when given, `&token=`. */
export function serviceUrl(base: string, room: string, token?: string): string {
  const params = [`room=${encodeURIComponent(room)}`];
  if (token !== undefined) params.push(`token=${encodeURIComponent(token)}`);
  return `${base}${base.includes('?') ? '&' : '?'}${params.join('&')}`;
}

/** The domain to log in on: the main one with a token, else the guest domain when there is one (Jitsi Meet). */
export function loginDomain(hosts: { domain: string; anonymousdomain?: string | undefined }, token: string | undefined): string {
  if (token !== undefined) return hosts.domain;
  return typeof hosts.anonymousdomain === 'string' && hosts.anonymousdomain !== '' ? hosts.anonymousdomain : hosts.domain;
}

/** RFC 4616 PLAIN initial response: base64 of `\0username\0password` in UTF-8 (no authorization identity). */
export function plainAuthPayload(username: string, password: string): string {
  const bytes = new TextEncoder().encode(`\0${username}\0${password}`);
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

/** What to tell the user about a refused SASL login (`condition`, `<text>`), by what was tried. */
export function loginFailureText(condition: string, text: string | undefined, kind: 'password' | 'token' | 'anonymous'): string {
  if (kind === 'password') {
    if (condition === 'not-authorized') return 'Wrong username or password.';
    if (condition === 'invalid-mechanism') return 'This server does not accept password logins.';
    if (condition === 'encryption-required') return 'Password logins need a secure (https) connection.';
    return `The login was refused (${text ?? condition}).`;
  }
  if (kind === 'token') return `Your meeting link's access token was refused${text !== undefined && text !== '' ? `: ${text}` : ''}.`;
  return `The server refused the login${text !== undefined && text !== '' ? `: ${text}` : ` (${condition})`}.`;
}
