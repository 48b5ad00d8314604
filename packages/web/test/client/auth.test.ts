/** The secure auth modes' pure helpers (client/src/auth.ts): ?jwt= handling, service URLs, login domain, PLAIN. */
import { describe, expect, it } from 'vitest';
import { loginDomain, loginFailureText, plainAuthPayload, serviceUrl, takeJwt } from '../../client/src/auth.js';

describe('web client auth helpers', () => {
  it('takes ?jwt= out of the page URL and keeps the rest (path, other parameters, hash)', () => {
    expect(takeJwt('https://meet.example/room1?jwt=a.b.c')).toEqual({ token: 'a.b.c', cleanUrl: '/room1' });
    expect(takeJwt('https://meet.example/room1?lang=de&jwt=a.b.c&x=1#config.foo=1')).toEqual({
      token: 'a.b.c',
      cleanUrl: '/room1?lang=de&x=1#config.foo=1',
    });
    // An empty one is dropped from the URL too, but is no token.
    expect(takeJwt('https://meet.example/room1?jwt=')).toEqual({ token: undefined, cleanUrl: '/room1' });
    expect(takeJwt('https://meet.example/room1?lang=de')).toEqual({ token: undefined, cleanUrl: undefined });
  });

  it('puts room and token on the WebSocket and BOSH URLs, as lib-jitsi-meet does', () => {
    expect(serviceUrl('wss://meet.example/xmpp-websocket', 'room 1')).toBe('wss://meet.example/xmpp-websocket?room=room%201');
    expect(serviceUrl('/http-bind', 'r', 'a.b-c_d')).toBe('/http-bind?room=r&token=a.b-c_d');
    expect(serviceUrl('/http-bind?x=1', 'r', 'a+b')).toBe('/http-bind?x=1&room=r&token=a%2Bb');
  });

  it('logs in on the main domain with a token, else on the guest domain when /config.js names one', () => {
    const hosts = { domain: 'meet.example', anonymousdomain: 'guest.meet.example' };
    expect(loginDomain(hosts, undefined)).toBe('guest.meet.example');
    expect(loginDomain(hosts, 'a.b.c')).toBe('meet.example');
    expect(loginDomain({ domain: 'meet.example' }, undefined)).toBe('meet.example');
    expect(loginDomain({ domain: 'meet.example', anonymousdomain: '' }, undefined)).toBe('meet.example');
  });

  it('encodes SASL PLAIN as RFC 4616 (UTF-8, no authorization identity)', () => {
    expect(plainAuthPayload('alice', 'wonderland')).toBe(Buffer.from('\0alice\0wonderland').toString('base64'));
    expect(plainAuthPayload('jörg', 'pässwört€')).toBe(Buffer.from('\0jörg\0pässwört€', 'utf8').toString('base64'));
  });

  it('says why a login was refused', () => {
    expect(loginFailureText('not-authorized', undefined, 'password')).toBe('Wrong username or password.');
    expect(loginFailureText('invalid-mechanism', 'x', 'password')).toBe('This server does not accept password logins.');
    expect(loginFailureText('not-allowed', 'token expired', 'token')).toBe("Your meeting link's access token was refused: token expired.");
    expect(loginFailureText('not-allowed', undefined, 'token')).toBe("Your meeting link's access token was refused.");
    expect(loginFailureText('not-allowed', undefined, 'anonymous')).toBe('The server refused the login (not-allowed).');
  });
});
