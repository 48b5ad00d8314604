import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signToken, tokenAllowsRoom, tokenFromUrl, TokenError, type TokenErrorCode, type TokenVerifierOptions, verifyToken } from './jwt.js';

const SECRET = 'a-shared-secret-of-at-least-32-characters!';
const OPTS: TokenVerifierOptions = {
  appId: 'my-app',
  appSecret: SECRET,
  acceptedIssuers: [],
  acceptedAudiences: ['*'],
  requireRoomClaim: true,
  clockSkewSeconds: 60,
};
const NOW = 1_800_000_000_000; // ms
const now = NOW / 1000;

function claims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { iss: 'my-app', aud: 'jitsi', sub: 'meet.jitsi', room: 'room1', exp: now + 3600, ...extra };
}

function codeOf(fn: () => unknown): TokenErrorCode | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof TokenError) return err.code;
    throw err;
  }
  return undefined;
}

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

describe('verifyToken()', () => {
  it('accepts a valid HS256 token and reads room, sub, exp and context.user', () => {
    const t = signToken(claims({ context: { user: { id: 'u1', name: 'Alice', email: 'a@example.org', avatar: 'https://x/a.png', moderator: true } } }), SECRET);
    const v = verifyToken(t, OPTS, NOW);
    expect(v).toEqual({
      room: 'room1',
      sub: 'meet.jitsi',
      expiresAt: (now + 3600) * 1000,
      user: { id: 'u1', name: 'Alice', email: 'a@example.org', avatar: 'https://x/a.png', moderator: true },
    });
  });

  it('reads the moderator flag as a boolean or a "true"/"false" string, ignores other types and non-string fields', () => {
    const user = (u: unknown) => verifyToken(signToken(claims({ context: { user: u } }), SECRET), OPTS, NOW).user;
    expect(user({ moderator: 'true' })).toEqual({ moderator: true });
    expect(user({ moderator: 'false', name: 42 })).toEqual({ moderator: false });
    expect(user({ moderator: 1, id: { x: 1 } })).toEqual({});
    expect(verifyToken(signToken(claims(), SECRET), OPTS, NOW).user).toBeUndefined();
  });

  it.each<[string, string | undefined, TokenErrorCode]>([
    ['no token', undefined, 'missing'],
    ['an empty token', '', 'missing'],
    ['two segments', 'abc.def', 'malformed'],
    ['four segments', 'a.b.c.d', 'malformed'],
    ['non-base64url header', '!!!.e30.sig', 'malformed'],
    ['a header that is not JSON', `${Buffer.from('nope').toString('base64url')}.e30.c2ln`, 'malformed'],
    ['a header that is an array', `${b64([1])}.e30.c2ln`, 'malformed'],
    ['an oversized token', `${'a'.repeat(9000)}.b.c`, 'malformed'],
  ])('refuses %s', (_what, token, code) => {
    expect(codeOf(() => verifyToken(token, OPTS, NOW))).toBe(code);
  });

  it.each([
    ['none', { alg: 'none', typ: 'JWT' }],
    ['HS512', { alg: 'HS512' }],
    ['RS256', { alg: 'RS256' }],
    ['lower-case hs256', { alg: 'hs256' }],
    ['a missing alg', { typ: 'JWT' }],
    ['a crit header', { alg: 'HS256', crit: ['exp'] }],
  ])('refuses alg %s before looking at the signature', (_what, header) => {
    const body = b64(claims());
    // Even a correct HMAC does not help: the algorithm is pinned.
    const sig = createHmac('sha256', SECRET).update(`${b64(header)}.${body}`).digest('base64url');
    expect(codeOf(() => verifyToken(`${b64(header)}.${body}.${sig}`, OPTS, NOW))).toBe('unsupported-algorithm');
    expect(codeOf(() => verifyToken(`${b64(header)}.${body}.`, OPTS, NOW))).toBe('unsupported-algorithm');
  });

  it('refuses an unsigned token that claims HS256 (empty signature)', () => {
    const [h, p] = signToken(claims(), SECRET).split('.') as [string, string];
    expect(codeOf(() => verifyToken(`${h}.${p}.`, OPTS, NOW))).toBe('bad-signature');
  });

  it('refuses a wrong secret, a tampered payload, a truncated signature and a non-canonical signature encoding', () => {
    expect(codeOf(() => verifyToken(signToken(claims(), `${SECRET}x`), OPTS, NOW))).toBe('bad-signature');
    const [h, p, s] = signToken(claims(), SECRET).split('.') as [string, string, string];
    const tampered = b64({ ...claims(), room: '*' });
    expect(codeOf(() => verifyToken(`${h}.${tampered}.${s}`, OPTS, NOW))).toBe('bad-signature');
    expect(codeOf(() => verifyToken(`${h}.${p}.${s.slice(0, -3)}`, OPTS, NOW))).toBe('bad-signature'); // 30 bytes
    // 32 bytes → 43 base64url characters; the last one carries 2 unused bits. Flipping them decodes to the same
    // bytes but is another spelling of the token.
    const last = s[s.length - 1] as string;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const twin = alphabet[alphabet.indexOf(last) ^ 1] as string;
    expect(codeOf(() => verifyToken(`${h}.${p}.${s.slice(0, -1)}${twin}`, OPTS, NOW))).toBe('malformed');
    expect(codeOf(() => verifyToken(`${h}.${p}.${s}`, OPTS, NOW))).toBeUndefined();
  });

  it('a typ other than JWT is malformed; typ may be absent', () => {
    expect(codeOf(() => verifyToken(signToken(claims(), SECRET, { alg: 'HS256', typ: 'JOSE+JSON' }), OPTS, NOW))).toBe('malformed');
    expect(codeOf(() => verifyToken(signToken(claims(), SECRET, { alg: 'HS256' }), OPTS, NOW))).toBeUndefined();
  });

  it('checks the signature before any claim: an expired token with a bad signature is a bad signature', () => {
    expect(codeOf(() => verifyToken(signToken(claims({ exp: now - 10_000 }), 'wrong-secret-wrong-secret-wrong-secret'), OPTS, NOW))).toBe(
      'bad-signature',
    );
  });

  it('requires exp and checks it with the clock skew', () => {
    const { exp: _omit, ...noExp } = claims();
    expect(codeOf(() => verifyToken(signToken(noExp, SECRET), OPTS, NOW))).toBe('missing-expiry');
    expect(codeOf(() => verifyToken(signToken(claims({ exp: String(now + 100) }), SECRET), OPTS, NOW))).toBe('malformed');
    expect(codeOf(() => verifyToken(signToken(claims({ exp: now - 60 }), SECRET), OPTS, NOW))).toBeUndefined();
    expect(codeOf(() => verifyToken(signToken(claims({ exp: now - 61 }), SECRET), OPTS, NOW))).toBe('expired');
    expect(codeOf(() => verifyToken(signToken(claims({ exp: now - 1 }), SECRET), { ...OPTS, clockSkewSeconds: 0 }, NOW))).toBe('expired');
  });

  it('checks nbf with the clock skew', () => {
    expect(codeOf(() => verifyToken(signToken(claims({ nbf: now + 60 }), SECRET), OPTS, NOW))).toBeUndefined();
    expect(codeOf(() => verifyToken(signToken(claims({ nbf: now + 61 }), SECRET), OPTS, NOW))).toBe('not-yet-valid');
    expect(codeOf(() => verifyToken(signToken(claims({ nbf: 'soon' }), SECRET), OPTS, NOW))).toBe('malformed');
  });

  it('checks iss against the app id or the accepted issuers', () => {
    expect(codeOf(() => verifyToken(signToken(claims({ iss: 'other' }), SECRET), OPTS, NOW))).toBe('bad-issuer');
    const { iss: _omit, ...noIss } = claims();
    expect(codeOf(() => verifyToken(signToken(noIss, SECRET), OPTS, NOW))).toBe('bad-issuer');
    const opts = { ...OPTS, acceptedIssuers: ['a', 'b'] };
    expect(codeOf(() => verifyToken(signToken(claims({ iss: 'b' }), SECRET), opts, NOW))).toBeUndefined();
    expect(codeOf(() => verifyToken(signToken(claims({ iss: 'my-app' }), SECRET), opts, NOW))).toBe('bad-issuer');
  });

  it('requires aud, and with a list of audiences one of them', () => {
    const { aud: _omit, ...noAud } = claims();
    expect(codeOf(() => verifyToken(signToken(noAud, SECRET), OPTS, NOW))).toBe('bad-audience');
    expect(codeOf(() => verifyToken(signToken(claims({ aud: [] }), SECRET), OPTS, NOW))).toBe('bad-audience');
    expect(codeOf(() => verifyToken(signToken(claims({ aud: 5 }), SECRET), OPTS, NOW))).toBe('bad-audience');
    const opts = { ...OPTS, acceptedAudiences: ['jitsi'] };
    expect(codeOf(() => verifyToken(signToken(claims({ aud: ['x', 'jitsi'] }), SECRET), opts, NOW))).toBeUndefined();
    expect(codeOf(() => verifyToken(signToken(claims({ aud: 'other' }), SECRET), opts, NOW))).toBe('bad-audience');
  });

  it('requires the room claim unless told not to', () => {
    const { room: _omit, ...noRoom } = claims();
    expect(codeOf(() => verifyToken(signToken(noRoom, SECRET), OPTS, NOW))).toBe('missing-room');
    expect(verifyToken(signToken(noRoom, SECRET), { ...OPTS, requireRoomClaim: false }, NOW).room).toBeUndefined();
    expect(codeOf(() => verifyToken(signToken(claims({ room: 7 }), SECRET), OPTS, NOW))).toBe('malformed');
  });

  it('a payload that is not a JSON object is malformed', () => {
    const h = b64({ alg: 'HS256' });
    for (const payload of [Buffer.from('[1,2]').toString('base64url'), Buffer.from('"x"').toString('base64url'), Buffer.from('{').toString('base64url')]) {
      const sig = createHmac('sha256', SECRET).update(`${h}.${payload}`).digest('base64url');
      expect(codeOf(() => verifyToken(`${h}.${payload}.${sig}`, OPTS, NOW))).toBe('malformed');
    }
  });

  it('error messages never contain the token or its claims', () => {
    const t = signToken(claims({ exp: now - 1000, room: 'secret-room-name' }), SECRET);
    try {
      verifyToken(t, OPTS, NOW);
      expect.unreachable();
    } catch (err) {
      expect(String(err)).not.toContain('secret-room-name');
      expect(String(err)).not.toContain(t.split('.')[1]);
    }
  });
});

describe('tokenAllowsRoom()', () => {
  const v = (room: string | undefined) => ({ room, sub: undefined, expiresAt: 0, user: undefined });
  it('matches the room claim case-insensitively, * and an absent claim allow any room', () => {
    expect(tokenAllowsRoom(v('Room1'), 'room1')).toBe(true);
    expect(tokenAllowsRoom(v('room1'), 'room2')).toBe(false);
    expect(tokenAllowsRoom(v('*'), 'anything')).toBe(true);
    expect(tokenAllowsRoom(v(undefined), 'anything')).toBe(true);
  });
  it('compares URL-encoded room names either way, and survives bad encodings', () => {
    expect(tokenAllowsRoom(v('my room'), 'my%20room')).toBe(true);
    expect(tokenAllowsRoom(v('my%20room'), 'my room')).toBe(true);
    expect(tokenAllowsRoom(v('%E0%A4%A'), 'x')).toBe(false);
  });
});

describe('tokenFromUrl()', () => {
  it('reads ?token= and &token=, ignores everything else', () => {
    expect(tokenFromUrl('/xmpp-websocket?room=r1&token=a.b.c')).toBe('a.b.c');
    expect(tokenFromUrl('/http-bind?token=x.y.z')).toBe('x.y.z');
    expect(tokenFromUrl('/xmpp-websocket?room=r1')).toBeUndefined();
    expect(tokenFromUrl('/xmpp-websocket?token=')).toBeUndefined();
    expect(tokenFromUrl(undefined)).toBeUndefined();
  });
});
