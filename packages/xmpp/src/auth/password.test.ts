import { describe, expect, it } from 'vitest';
import { authConfigSchema, resolveGuestDomain } from './config.js';
import { hashPassword, isPasswordHash, parsePasswordHash, PASSWORD_HASH_RE, verifyPassword } from './password.js';

describe('password hashes (scrypt)', () => {
  it('hashes with the default cost in the PHC-style format and verifies only the right password', async () => {
    const h = await hashPassword('correct horse battery staple');
    expect(h).toMatch(/^\$scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(await verifyPassword('correct horse battery staple', h)).toBe(true);
    expect(await verifyPassword('correct horse battery stapl', h)).toBe(false);
    expect(await verifyPassword('', h)).toBe(false);
  });

  it('uses a fresh salt each time', async () => {
    const [a, b] = await Promise.all([hashPassword('pw', { ln: 10 }), hashPassword('pw', { ln: 10 })]);
    expect(a).not.toBe(b);
    expect(await verifyPassword('pw', a)).toBe(true);
    expect(await verifyPassword('pw', b)).toBe(true);
  });

  it('normalises Unicode (NFC) so the same password typed differently matches', async () => {
    const h = await hashPassword('Ca\u0301fe', { ln: 10 });
    expect(await verifyPassword('C\u00e1fe', h)).toBe(true);
  });

  it('refuses malformed hashes and parameters out of range (without throwing)', async () => {
    const good = await hashPassword('pw', { ln: 10 });
    expect(isPasswordHash(good)).toBe(true);
    for (const bad of [
      'pw',
      '',
      good.replace('$scrypt$', '$argon2id$'),
      good.replace('ln=10', 'ln=9'), // too cheap
      good.replace('ln=10', 'ln=25'), // too much memory
      good.replace('r=8', 'r=0'),
      good.slice(0, -10),
    ]) {
      expect(isPasswordHash(bad), bad).toBe(false);
      expect(await verifyPassword('pw', bad)).toBe(false);
    }
    expect(parsePasswordHash(good)).toMatchObject({ ln: 10, r: 8, p: 1 });
    expect(PASSWORD_HASH_RE.test(good)).toBe(true);
  });
});

describe('auth config', () => {
  const hash = '$scrypt$ln=15,r=8,p=1$YwlEdRTeiDirT7zx85BQVQ$ZbnGwQZKb2hDzLRwPMSUld9wP7l4dLoe//k30PGFLJw';
  const issues = (input: unknown) => {
    const r = authConfigSchema.safeParse(input);
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('defaults to anonymous with guests on and no users', () => {
    expect(authConfigSchema.parse({})).toEqual({ mode: 'anonymous', guests: true, users: [] });
  });

  it('secure-domain needs users; users and jwt are refused in the modes that do not use them', () => {
    expect(issues({ mode: 'secure-domain' })).toEqual(['users: secure-domain mode needs at least one user (nobody could create a room)']);
    expect(issues({ mode: 'secure-domain', users: [{ username: 'alice', passwordHash: hash }] })).toEqual([]);
    expect(issues({ users: [{ username: 'alice', passwordHash: hash }] })[0]).toMatch(/^users: users are only used when auth.mode is "secure-domain"/);
    expect(issues({ mode: 'jwt' })).toEqual(['jwt: jwt mode needs jwt.appId and jwt.appSecret']);
    expect(issues({ jwt: { appId: 'a', appSecret: 'x'.repeat(32) } })[0]).toMatch(/^jwt: jwt is only used/);
  });

  it('refuses a plain-text password, a short secret, bad usernames and duplicates', () => {
    expect(issues({ mode: 'secure-domain', users: [{ username: 'alice', passwordHash: 'hunter2' }] })[0]).toMatch(/hash-password/);
    expect(issues({ mode: 'jwt', jwt: { appId: 'a', appSecret: 'short' } })[0]).toMatch(/^jwt.appSecret: at least 32/);
    expect(issues({ mode: 'secure-domain', users: [{ username: 'al ice', passwordHash: hash }] })[0]).toMatch(/^users.0.username/);
    expect(issues({ mode: 'secure-domain', users: [{ username: 'a@b', passwordHash: hash }] })[0]).toMatch(/^users.0.username/);
    expect(
      issues({ mode: 'secure-domain', users: [{ username: 'Alice', passwordHash: hash }, { username: 'alice', passwordHash: hash }] }),
    ).toEqual(['users.1.username: duplicate user "alice"']);
  });

  it('resolves the guest domain only in a secure mode with guests on', () => {
    const sd = authConfigSchema.parse({ mode: 'secure-domain', users: [{ username: 'alice', passwordHash: hash }] });
    expect(resolveGuestDomain(sd, 'meet.jitsi')).toBe('guest.meet.jitsi');
    expect(resolveGuestDomain({ ...sd, guestDomain: 'Visitors.Example' }, 'meet.jitsi')).toBe('visitors.example');
    expect(resolveGuestDomain({ ...sd, guests: false }, 'meet.jitsi')).toBeUndefined();
    expect(resolveGuestDomain(authConfigSchema.parse({}), 'meet.jitsi')).toBeUndefined();
  });
});
