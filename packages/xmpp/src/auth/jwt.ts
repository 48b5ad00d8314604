/**
 * JSON Web Tokens as Jitsi's Prosody token authentication (mod_auth_token, token/util.lib.lua) checks them, for a
 * shared secret: HS256 only, signature first, then the claims.
 *
 * - Header: `alg` must be exactly `HS256` (so `none`, other HMAC sizes and every asymmetric algorithm are refused:
 *   no algorithm confusion); `crit` is refused (RFC 7515 §4.1.11: we understand no extensions).
 * - Signature: HMAC-SHA256 over `<header>.<payload>` with the secret, compared in constant time; only canonical
 *   base64url is accepted, so one token has one spelling.
 * - Claims: `exp` required (a token that never expires is refused) and checked with a small clock skew; `nbf`
 *   checked when present; `iss` must be an accepted issuer (default: the app id); `aud` must be present and, unless
 *   `*` is accepted, name an accepted audience; `room` must be present unless `requireRoomClaim` is off.
 * - `context.user` (`id`, `name`, `email`, `avatar`: strings only, as Prosody copies them) becomes the identity;
 *   `context.user.moderator` (`true`/`"true"`/`false`/`"false"`) is the common community extension
 *   (mod_token_affiliation) and decides the focus's moderator grant.
 *
 * Errors are `TokenError`s with a code; their messages never contain the token or its claims.
 *
 * References:
 * - https://www.rfc-editor.org/rfc/rfc7519 (JWT), https://www.rfc-editor.org/rfc/rfc7515 (JWS),
 *   https://www.rfc-editor.org/rfc/rfc7518#section-3.2 (HS256), https://www.rfc-editor.org/rfc/rfc8725 (BCP: pin the
 *   algorithm, validate every claim)
 * - PROTOCOL-FEATURES.md §9.1; jitsi-meet `doc/tokens.md`, `resources/prosody-plugins/token/util.lib.lua`
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Why a token was refused. */
export type TokenErrorCode =
  | 'missing'
  | 'malformed'
  | 'unsupported-algorithm'
  | 'bad-signature'
  | 'missing-expiry'
  | 'expired'
  | 'not-yet-valid'
  | 'bad-issuer'
  | 'bad-audience'
  | 'missing-room'
  | 'room-not-allowed';

/** The SASL `<text>` each code is reported with (short, like Prosody's; no token content). */
const MESSAGES: Record<TokenErrorCode, string> = {
  missing: 'token required',
  malformed: 'malformed token',
  'unsupported-algorithm': 'token algorithm not accepted (HS256 only)',
  'bad-signature': 'invalid token signature',
  'missing-expiry': "token has no 'exp' claim",
  expired: 'token expired',
  'not-yet-valid': "token not valid yet ('nbf' claim)",
  'bad-issuer': "invalid issuer ('iss' claim)",
  'bad-audience': "invalid audience ('aud' claim)",
  'missing-room': "token has no 'room' claim",
  'room-not-allowed': 'room not allowed by the token',
};

export class TokenError extends Error {
  override readonly name = 'TokenError';
  readonly code: TokenErrorCode;

  constructor(code: TokenErrorCode) {
    super(MESSAGES[code]);
    this.code = code;
  }
}

/** What the verifier needs (the `auth.jwt` config section). */
export interface TokenVerifierOptions {
  appId: string;
  appSecret: string;
  /** Accepted `iss` values; empty = `[appId]`. */
  acceptedIssuers: readonly string[];
  /** Accepted `aud` values; `*` accepts any (but `aud` must still be present). */
  acceptedAudiences: readonly string[];
  requireRoomClaim: boolean;
  clockSkewSeconds: number;
}

/** `context.user` as far as we read it. */
export interface TokenUser {
  id?: string;
  name?: string;
  email?: string;
  avatar?: string;
  /** `context.user.moderator` when present (true/"true" or false/"false"). */
  moderator?: boolean;
}

/** A token that passed every check. */
export interface VerifiedToken {
  /** `room` claim: a room name (the localpart of the room JID) or `*`; undefined when absent and not required. */
  room: string | undefined;
  /** `sub` claim (tenant or domain), informational. */
  sub: string | undefined;
  /** `exp`, ms since the epoch. */
  expiresAt: number;
  user: TokenUser | undefined;
}

/** Longest token accepted, in characters (a URL query parameter; Prosody has no limit, browsers ~8 KB). */
export const MAX_TOKEN_LENGTH = 8192;

const B64URL = /^[A-Za-z0-9_-]+$/;

function decodeSegment(s: string): Buffer {
  if (!B64URL.test(s)) throw new TokenError('malformed');
  const buf = Buffer.from(s, 'base64url');
  // Canonical encoding only (no stray trailing bits): one token, one spelling.
  if (buf.toString('base64url') !== s) throw new TokenError('malformed');
  return buf;
}

function decodeJsonObject(s: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(decodeSegment(s).toString('utf8'));
  } catch (err) {
    if (err instanceof TokenError) throw err;
    throw new TokenError('malformed');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TokenError('malformed');
  return value as Record<string, unknown>;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function numericDate(v: unknown): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new TokenError('malformed');
  return v;
}

function readUser(context: unknown): TokenUser | undefined {
  if (!isObject(context) || !isObject(context.user)) return undefined;
  const u = context.user;
  const user: TokenUser = {};
  for (const k of ['id', 'name', 'email', 'avatar'] as const) {
    const v = u[k];
    if (typeof v === 'string' && v.length <= 1024) user[k] = v;
  }
  const m = u.moderator;
  if (m === true || m === 'true') user.moderator = true;
  else if (m === false || m === 'false') user.moderator = false;
  return user;
}

/**
 * Verify a token at time `nowMs`. @throws TokenError naming the first check that failed (signature before claims).
 */
export function verifyToken(token: string | undefined, opts: TokenVerifierOptions, nowMs: number): VerifiedToken {
  if (token === undefined || token === '') throw new TokenError('missing');
  if (token.length > MAX_TOKEN_LENGTH) throw new TokenError('malformed');
  const parts = token.split('.');
  if (parts.length !== 3) throw new TokenError('malformed');
  const [h, p, s] = parts as [string, string, string];
  const header = decodeJsonObject(h);
  if (header.alg !== 'HS256') throw new TokenError('unsupported-algorithm');
  if (header.crit !== undefined) throw new TokenError('unsupported-algorithm');
  if (header.typ !== undefined && (typeof header.typ !== 'string' || header.typ.toUpperCase() !== 'JWT')) {
    throw new TokenError('malformed');
  }
  if (s === '') throw new TokenError('bad-signature');
  const given = decodeSegment(s);
  const expected = createHmac('sha256', opts.appSecret).update(`${h}.${p}`, 'utf8').digest();
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new TokenError('bad-signature');

  const claims = decodeJsonObject(p);
  const now = nowMs / 1000;
  const skew = opts.clockSkewSeconds;
  const exp = numericDate(claims.exp);
  if (exp === undefined) throw new TokenError('missing-expiry');
  if (now > exp + skew) throw new TokenError('expired');
  const nbf = numericDate(claims.nbf);
  if (nbf !== undefined && now + skew < nbf) throw new TokenError('not-yet-valid');

  const issuers = opts.acceptedIssuers.length > 0 ? opts.acceptedIssuers : [opts.appId];
  if (typeof claims.iss !== 'string' || !issuers.includes(claims.iss)) throw new TokenError('bad-issuer');

  const aud = claims.aud;
  const auds = typeof aud === 'string' ? [aud] : Array.isArray(aud) && aud.every((a) => typeof a === 'string') ? (aud as string[]) : undefined;
  if (!auds || auds.length === 0) throw new TokenError('bad-audience');
  if (!opts.acceptedAudiences.includes('*') && !auds.some((a) => opts.acceptedAudiences.includes(a))) {
    throw new TokenError('bad-audience');
  }

  const room = claims.room;
  if (room !== undefined && (typeof room !== 'string' || room === '')) throw new TokenError('malformed');
  if (room === undefined && opts.requireRoomClaim) throw new TokenError('missing-room');
  const sub = typeof claims.sub === 'string' ? claims.sub : undefined;
  return { room, sub, expiresAt: exp * 1000, user: readUser(claims.context) };
}

/**
 * Whether a verified token lets its holder into the room with localpart `roomName` (mod_token_verification: the
 * `room` claim equals the room name, case-insensitively, or is `*`; no claim and not required: any room).
 */
export function tokenAllowsRoom(token: VerifiedToken, roomName: string): boolean {
  if (token.room === undefined || token.room === '*') return true;
  const claim = token.room.toLowerCase();
  const name = roomName.toLowerCase();
  if (claim === name) return true;
  // Jitsi Meet URL-encodes room names; a claim may be written either way.
  try {
    return decodeURIComponent(name) === claim || decodeURIComponent(claim) === name;
  } catch {
    return false;
  }
}

/**
 * The `token` query parameter of a request URL, where lib-jitsi-meet puts the JWT on the WebSocket and BOSH URLs
 * (`?token=` or `&token=`). Undefined if absent, empty or unparsable.
 */
export function tokenFromUrl(url: string | undefined): string | undefined {
  try {
    return new URL(url ?? '/', 'http://x').searchParams.get('token') || undefined;
  } catch {
    return undefined;
  }
}

/** Sign claims with HS256 (tests and tooling; the server only verifies). */
export function signToken(claims: Record<string, unknown>, secret: string, header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' }): string {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o), 'utf8').toString('base64url');
  const input = `${enc(header)}.${enc(claims)}`;
  return `${input}.${createHmac('sha256', secret).update(input, 'utf8').digest('base64url')}`;
}
