/**
 * The `auth` section of the app config: who may create rooms (Jitsi's "secure domain" and JWT deployments).
 *
 * - `anonymous` (default): as before; anyone who can connect may create and join rooms.
 * - `secure-domain`: the main domain requires a login (SASL PLAIN) with an account of `users`; guests log in
 *   anonymously on `guestDomain` (`hosts.anonymousdomain` in /config.js). Only logged-in users make the focus
 *   create a room; guests join rooms that exist (Prosody VirtualHost + guest host, Jicofo's XMPP-domain auth).
 * - `jwt`: the main domain accepts SASL ANONYMOUS only with a valid HS256 token in `?token=` of the WebSocket or
 *   BOSH URL (Prosody mod_auth_token); the token's `room` claim limits which rooms its holder may create and join.
 *   Guests as above when `guests` is on.
 *
 * References: PROTOCOL-FEATURES.md §9; PROTOCOL.md §1.1, §2.3, §3.1.
 */
import { z } from 'zod';
import { parsePasswordHash } from './password.js';

export const AUTH_MODES = ['anonymous', 'secure-domain', 'jwt'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

/** An account localpart we accept in config: what users type in the login dialog. */
export const USERNAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export const authUserSchema = z.object({
  /** Login name; the account is `<username>@<xmpp.domain>` (case-insensitive). */
  username: z.string().refine((u) => USERNAME_RE.test(u), 'expected 1–64 letters, digits, ".", "_" or "-" (starting with a letter or digit)'),
  /** scrypt hash from `npm run hash-password` (`$scrypt$ln=…,r=…,p=…$salt$hash`); never the password itself. */
  passwordHash: z
    .string()
    .refine((h) => parsePasswordHash(h) !== undefined, 'expected a hash made with `npm run hash-password` ($scrypt$ln=…,r=…,p=…$salt$hash)'),
});

export const jwtConfigSchema = z.object({
  /** The application id: the accepted token issuer (`iss`) unless `acceptedIssuers` is set (Prosody `app_id`). */
  appId: z.string().min(1),
  /** HS256 shared secret (Prosody `app_secret`). At least 32 characters (RFC 7518 §3.2: a key as long as the hash). */
  appSecret: z.string().min(32, 'at least 32 characters (RFC 7518 §3.2)'),
  /** Accepted `iss` values. Empty: `[appId]`. */
  acceptedIssuers: z.array(z.string().min(1)).default([]),
  /** Accepted `aud` values; `*` accepts any. `aud` must be present either way (Prosody's default is `*`). */
  acceptedAudiences: z.array(z.string().min(1)).min(1).default(['*']),
  /** Refuse tokens without a `room` claim (Prosody `asap_require_room_claim`). */
  requireRoomClaim: z.boolean().default(true),
  /** Clock skew (seconds) allowed when checking `exp` and `nbf`. */
  clockSkewSeconds: z.number().int().min(0).max(600).default(60),
});

export const authConfigSchema = z
  .object({
    /** `anonymous`, `secure-domain` (accounts + guests) or `jwt` (tokens + guests). */
    mode: z.enum(AUTH_MODES).default('anonymous'),
    /**
     * In `secure-domain` and `jwt` mode: let guests log in anonymously on `guestDomain` and join rooms that exist.
     * They can never create a room. Off: only logged-in users or token holders get in at all.
     */
    guests: z.boolean().default(true),
    /** Domain guests log in on (`hosts.anonymousdomain`). Default `guest.<xmpp.domain>`. */
    guestDomain: z.string().min(1).optional(),
    /** `secure-domain` only: the accounts that may log in on the main domain (SASL PLAIN) and create rooms. */
    users: z.array(authUserSchema).default([]),
    /** `jwt` only: token verification. */
    jwt: jwtConfigSchema.optional(),
  })
  .superRefine((c, ctx) => {
    if (c.mode === 'secure-domain' && c.users.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['users'], message: 'secure-domain mode needs at least one user (nobody could create a room)' });
    }
    if (c.mode !== 'secure-domain' && c.users.length > 0) {
      ctx.addIssue({ code: 'custom', path: ['users'], message: `users are only used when auth.mode is "secure-domain" (it is "${c.mode}")` });
    }
    if (c.mode === 'jwt' && c.jwt === undefined) {
      ctx.addIssue({ code: 'custom', path: ['jwt'], message: 'jwt mode needs jwt.appId and jwt.appSecret' });
    }
    if (c.mode !== 'jwt' && c.jwt !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['jwt'], message: `jwt is only used when auth.mode is "jwt" (it is "${c.mode}")` });
    }
    const seen = new Set<string>();
    c.users.forEach((u, i) => {
      const name = u.username.toLowerCase();
      if (seen.has(name)) ctx.addIssue({ code: 'custom', path: ['users', i, 'username'], message: `duplicate user "${name}"` });
      seen.add(name);
    });
  });

export type AuthConfigInput = z.input<typeof authConfigSchema>;
export type AuthConfig = z.output<typeof authConfigSchema>;
export type JwtConfig = z.output<typeof jwtConfigSchema>;

/** The guest domain in use, or undefined when there is none (anonymous mode, or guests off). */
export function resolveGuestDomain(auth: AuthConfig, mainDomain: string): string | undefined {
  if (auth.mode === 'anonymous' || !auth.guests) return undefined;
  return (auth.guestDomain ?? `guest.${mainDomain}`).toLowerCase();
}
