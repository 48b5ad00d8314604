/**
 * Masking of personal data in log fields. Values are masked, not deleted, so logs stay correlatable within one run:
 * IPv4 keeps its /16 (`203.0.x.x`), IPv6 its /32 (`2001:db8::x`), names/JIDs/bodies become a short keyed hash
 * (`~3fa91c0e`; the key is random per process, so hashes do not link runs), secrets become `[redacted]`.
 *
 * Fields are matched by key name at any of the first four nesting levels (pino `redact` paths `k`, `*.k`,
 * `*.*.k`, `*.*.*.k`). Log data under these key names; put nothing personal in message strings.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';

type Kind = 'secret' | 'address' | 'jid' | 'personal' | 'endpoint';

/** Field names masked by the logger, by kind. Extend here (camelCase names as used in log calls). */
export const REDACTED_KEYS: Readonly<Record<Kind, readonly string[]>> = {
  secret: ['password', 'secret', 'token', 'authorization', 'cookie', 'pwd', 'credentials'],
  address: ['ip', 'address', 'remoteAddress', 'remoteIp', 'clientAddress', 'forwardedFor', 'candidate', 'candidates'],
  jid: ['jid', 'fullJid', 'bareJid', 'realJid', 'occupantJid', 'userJid'],
  personal: ['nick', 'nickname', 'displayName', 'email', 'body', 'subject', 'userAgent', 'room', 'roomName'],
  // Endpoint ids are MUC nicks: random hex from Jitsi clients, but any XMPP client may pick a name. Hashed with
  // the same key as `nick`, so a focus line (`nick`) and a bridge line (`epId`) about one participant still match.
  endpoint: ['epId', 'endpointId', 'dominantSpeaker', 'actor', 'target'],
};

const KIND_BY_KEY = new Map<string, Kind>();
for (const [kind, keys] of Object.entries(REDACTED_KEYS) as [Kind, readonly string[]][]) {
  for (const k of keys) KIND_BY_KEY.set(k, kind);
}

/** Nesting levels covered: `key`, `*.key`, `*.*.key`, `*.*.*.key`. */
const DEPTH = 4;

/** pino `redact.paths` for every key in REDACTED_KEYS. */
export function redactPaths(): string[] {
  const paths: string[] = [];
  for (const key of KIND_BY_KEY.keys()) {
    for (let d = 0; d < DEPTH; d++) paths.push(`${'*.'.repeat(d)}${key}`);
  }
  return paths;
}

const HASH_KEY = randomBytes(32);

/** `~` + 8 hex chars of HMAC-SHA256 under a per-process random key. */
export function shortHash(value: string): string {
  return `~${createHmac('sha256', HASH_KEY).update(value).digest('hex').slice(0, 8)}`;
}

export function maskIPv4(ip: string): string {
  const [a, b] = ip.split('.');
  return `${a}.${b}.x.x`;
}

export function maskIPv6(ip: string): string {
  const lower = ip.toLowerCase();
  const zone = lower.indexOf('%');
  const addr = zone === -1 ? lower : lower.slice(0, zone);
  if (addr === '::1' || addr === '::') return addr;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(addr);
  if (mapped?.[1] && isIPv4(mapped[1])) return `::ffff:${maskIPv4(mapped[1])}`;
  const [head = ''] = addr.split('::');
  const groups = head.split(':').filter((g) => g !== '');
  const prefix = [groups[0] ?? '0', groups[1] ?? '0'].join(':');
  return `${prefix}::x`;
}

/** Candidate IPs in free text: runs of hex digits, dots and colons. */
const IP_CANDIDATE = /[0-9A-Fa-f:.]*[:.][0-9A-Fa-f:.]*/g;

function maskCandidate(token: string): string {
  if (isIPv4(token)) return maskIPv4(token);
  if (isIPv6(token)) return maskIPv6(token);
  // `1.2.3.4:5678` → masked address, port dropped.
  const colon = token.lastIndexOf(':');
  if (colon > 0 && isIPv4(token.slice(0, colon))) return maskIPv4(token.slice(0, colon));
  return token;
}

/** Masks every IP address inside `text` and leaves the rest alone (for error messages and stacks). */
export function maskIpsInText(text: string): string {
  // Second pass: dotted quads glued to other text (`addr=1.2.3.4`) that the first pass saw as one token.
  return text
    .replace(IP_CANDIDATE, maskCandidate)
    .replace(IPV4_IN_TEXT, (m) => (isIPv4(m) ? maskIPv4(m) : m));
}

const IPV4_IN_TEXT = /(?<![\d.])\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?![\d.])/g;

/** An address field: IPs masked; anything else that is not an IP (a hostname, say) is hashed. */
export function maskAddress(value: string): string {
  const masked = maskIpsInText(value);
  return masked === value ? shortHash(value) : masked;
}

/** `alice@meet.jitsi/res` → `~hash@meet.jitsi/~hash`; a bare domain JID is not personal and stays. */
export function maskJid(jid: string): string {
  const at = jid.indexOf('@');
  const slash = jid.indexOf('/', at === -1 ? 0 : at);
  const local = at === -1 ? undefined : jid.slice(0, at);
  const domain = jid.slice(at + 1, slash === -1 ? undefined : slash);
  const resource = slash === -1 ? undefined : jid.slice(slash + 1);
  return `${local === undefined ? '' : `${shortHash(local)}@`}${domain}${resource === undefined ? '' : `/${shortHash(resource)}`}`;
}

function stringify(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Masks `value` according to the kind of `key` (unknown keys are hashed). */
export function maskValue(key: string, value: unknown, depth = 0): unknown {
  if (value === undefined || value === null) return value;
  const kind = KIND_BY_KEY.get(key) ?? 'personal';
  if (kind === 'secret') return '[redacted]';
  if (Array.isArray(value)) return depth > 2 ? '[redacted]' : value.map((v) => maskValue(key, v, depth + 1));
  switch (kind) {
    case 'address':
      return typeof value === 'string' ? maskAddress(value) : shortHash(stringify(value));
    case 'jid':
      return typeof value === 'string' ? maskJid(value) : shortHash(stringify(value));
    case 'personal':
    case 'endpoint':
      return shortHash(stringify(value));
  }
}

/** pino `redact.censor`: called with the value and its path (the last element is the key). */
export function censor(value: unknown, path: readonly unknown[]): unknown {
  const last = path[path.length - 1];
  return maskValue(typeof last === 'string' ? last : '', value);
}
