/**
 * Password hashes for the accounts of `auth.users` (secure-domain mode): scrypt from node:crypto, stored as a
 * PHC-style string `$scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt>$<hash>` (salt and hash in unpadded standard base64, as
 * the PHC string format and passlib write them). Verification runs scrypt on the libuv thread pool (async), so a
 * burst of logins never blocks the event loop, and compares in constant time.
 *
 * Make a hash with `npm run hash-password` (packages/server/src/hash-password.ts).
 *
 * References:
 * - https://www.rfc-editor.org/rfc/rfc7914 (scrypt)
 * - https://github.com/P-H-C/phc-string-format/blob/master/phc-sf-spec.md
 * - https://nodejs.org/api/crypto.html#cryptoscryptpassword-salt-keylen-options-callback
 */
import { randomBytes, scrypt, type ScryptOptions, timingSafeEqual } from 'node:crypto';

/** Cost parameters of new hashes: N = 2^15, r = 8, p = 1 (32 MiB, about 0.1 s per check on one core). */
export const SCRYPT_DEFAULTS = { ln: 15, r: 8, p: 1 } as const;
const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** Upper bound of the memory one verification may use (128 · N · r): hashes asking for more are refused. */
const MAX_MEMORY_BYTES = 256 * 1024 * 1024;

/** What `$scrypt$…` strings look like (checked by the config schema so a pasted typo fails at start-up). */
export const PASSWORD_HASH_RE = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]{22,}={0,2})\$([A-Za-z0-9+/]{43,}={0,2})$/;

export interface ParsedPasswordHash {
  ln: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

/** Parse a `$scrypt$…` string; undefined if it is not one or its parameters are out of the accepted range. */
export function parsePasswordHash(encoded: string): ParsedPasswordHash | undefined {
  const m = PASSWORD_HASH_RE.exec(encoded);
  if (!m) return undefined;
  const [ln, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (ln < 10 || ln > 20 || r < 1 || r > 32 || p < 1 || p > 16) return undefined;
  if (128 * 2 ** ln * r > MAX_MEMORY_BYTES) return undefined;
  const salt = Buffer.from(m[4] as string, 'base64');
  const hash = Buffer.from(m[5] as string, 'base64');
  if (salt.length < 16 || hash.length < 32) return undefined;
  return { ln, r, p, salt, hash };
}

/** Whether `encoded` is a password hash this module can verify. */
export function isPasswordHash(encoded: string): boolean {
  return parsePasswordHash(encoded) !== undefined;
}

function derive(password: string, salt: Buffer, keyLength: number, ln: number, r: number, p: number): Promise<Buffer> {
  const options: ScryptOptions = { N: 2 ** ln, r, p, maxmem: 2 * 128 * 2 ** ln * r + 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, keyLength, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

function b64(buf: Buffer): string {
  return buf.toString('base64').replace(/=+$/, '');
}

/** Hash a password with fresh random salt. */
export async function hashPassword(password: string, params: { ln?: number; r?: number; p?: number } = {}): Promise<string> {
  const ln = params.ln ?? SCRYPT_DEFAULTS.ln;
  const r = params.r ?? SCRYPT_DEFAULTS.r;
  const p = params.p ?? SCRYPT_DEFAULTS.p;
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, KEY_BYTES, ln, r, p);
  const encoded = `$scrypt$ln=${ln},r=${r},p=${p}$${b64(salt)}$${b64(key)}`;
  if (!isPasswordHash(encoded)) throw new RangeError('scrypt parameters out of range');
  return encoded;
}

/** Check a password against a hash in constant time. False for a malformed hash (never throws for bad input). */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const h = parsePasswordHash(encoded);
  if (!h) return false;
  const key = await derive(password, h.salt, h.hash.length, h.ln, h.r, h.p);
  return key.length === h.hash.length && timingSafeEqual(key, h.hash);
}

/**
 * Spend what one verification with the default parameters costs, for logins of unknown users (the answer's
 * timing must not reveal which accounts exist).
 */
export async function burnPasswordCheck(password: string): Promise<void> {
  await derive(password, randomBytes(SALT_BYTES), KEY_BYTES, SCRYPT_DEFAULTS.ln, SCRYPT_DEFAULTS.r, SCRYPT_DEFAULTS.p);
}
