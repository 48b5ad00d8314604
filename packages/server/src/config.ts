/**
 * The app config: one typed object, validated once at start-up and handed to each part as its section.
 *
 * Loading order (later wins): schema defaults → `--config FILE` (or env `JITSI_ONE_CONFIG`; JSON or YAML by
 * extension) → environment variables → command-line flags → programmatic `overrides` (tests, embedding).
 * Every object is strict: an unknown key is an error naming the key, so a typo never silently falls back to a
 * default. Errors name the key path, what was expected and what was found; see `ConfigError`.
 *
 * Every key is documented next to its schema entry; README.md has the same table for operators.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { authConfigSchema, resolveDomains, resolveGuestDomain, xmppConfigSchema } from '@jitsi-one/xmpp';
import { webConfigSchema } from '@jitsi-one/web';
import { bridgeServiceConfigSchema } from '@jitsi-one/bridge';
import { focusConfigSchema } from '@jitsi-one/focus';
import { CONFIG_FILE_ENV, envSettings, parseCliArgs, type Setting } from './args.js';
import { ConfigError, type ConfigIssue } from './errors.js';

// ------------------------------------------------------------------------------------------------- schemas

export const tlsConfigSchema = z
  .strictObject({
    /** PEM certificate (chain) file. With `keyFile`; without both a self-signed certificate is made in memory. */
    certFile: z.string().min(1).optional(),
    /** PEM private key file for `certFile`. */
    keyFile: z.string().min(1).optional(),
  })
  .refine((t) => (t.certFile === undefined) === (t.keyFile === undefined), {
    message: 'set both certFile and keyFile, or neither (then a self-signed certificate is generated)',
  });

export const httpConfigSchema = z.strictObject({
  /** TCP port of the HTTPS (or HTTP) server for the web client, BOSH and WebSocket. 0 = any free port. */
  port: z.number().int().min(0).max(65535).default(8443),
  /** Address to listen on. `0.0.0.0` = all IPv4 interfaces, `::` = all interfaces. */
  host: z.string().min(1).default('0.0.0.0'),
  /**
   * Serve plain HTTP. Only for running behind a TLS-terminating reverse proxy, which must send
   * `X-Forwarded-Proto` (and `Host` or `X-Forwarded-Host`); connections are then treated as secure.
   */
  insecureHttp: z.boolean().default(false),
  /** Certificate for HTTPS (and XMPP STARTTLS). Ignored for HTTP when `insecureHttp` is set. */
  tls: tlsConfigSchema.prefault({}),
});

/**
 * The embedded STUN server (RFC 5389 Binding only, see `@jitsi-one/bridge` `createStunServer`). When enabled and
 * `xmpp.externalServices` is empty it is announced with XEP-0215, so P2P calls use it instead of a third-party one.
 */
export const stunConfigSchema = z.strictObject({
  /** Run the STUN server. */
  enabled: z.boolean().default(true),
  /** UDP port (3478 is the IANA port for STUN). 0 = any free port. */
  port: z.number().int().min(0).max(65535).default(3478),
  /** Address to bind. `0.0.0.0` = all IPv4 interfaces, `::` = all interfaces (IPv6 socket). */
  host: z.string().min(1).default('0.0.0.0'),
  /**
   * Host name or IP address announced to clients. Unset: `bridge.transport.publicAddress`, else `stun.host` or
   * `http.host` when they name one address, else `localhost` (only right when clients run on this machine).
   */
  advertisedHost: z.string().min(1).optional(),
  /** Requests answered per second per client IP address (the burst is the same); the rest are dropped. */
  maxRequestsPerSecondPerAddress: z.number().int().min(1).max(10000).default(20),
});

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Optional file logging (see log-file.ts): one file per UTC day, old files deleted. Off unless `path` is set. */
export const logFileConfigSchema = z.strictObject({
  /**
   * File pattern, e.g. `/var/log/jitsi-one/jitsi-one.log` → `jitsi-one.2025-01-31.log` in that directory (the
   * directory must exist). Unset: no file; logs go to stdout. Set: logs go to the files instead of stdout.
   */
  path: z.string().min(1).optional(),
  /** Hours a file is kept after its UTC day ended (a line lives between this and this + 24 h). 0 = today only. */
  retentionHours: z.number().int().min(0).max(8760).default(24),
});

export const logConfigSchema = z.strictObject({
  /** Lowest level written (JSON lines on stdout). */
  level: z.enum(LOG_LEVELS).default('info'),
  /**
   * Mask personal data (IP addresses, nicknames, JIDs, message bodies, secrets) in log fields. Turning this off is
   * for debugging on your own machine only.
   */
  redact: z.boolean().default(true),
  /** Optional daily log files with retention (see `logFileConfigSchema`). */
  file: logFileConfigSchema.prefault({}),
});

/**
 * The operations listener (ops-server.ts): `/metrics` (Prometheus) and `/admin/drain`, plain HTTP on its own port.
 * Off by default: `npm start` opens only the ports clients need, and two servers (or test runs) on one machine do not
 * collide on the port.
 */
export const metricsConfigSchema = z.strictObject({
  /** Run the listener. */
  enabled: z.boolean().default(false),
  /** Address to listen on. Loopback by default; `/admin/*` answers loopback clients only, whatever this is. */
  host: z.string().min(1).default('127.0.0.1'),
  /** TCP port (9464: the usual Prometheus exporter port). 0 = any free port. */
  port: z.number().int().min(0).max(65535).default(9464),
});

/** `/about/health` (see health.ts). */
export const healthConfigSchema = z.strictObject({
  /** Unhealthy (503) when the event loop lagged more than this many ms within the last 5 s. */
  maxEventLoopLagMs: z.number().int().min(10).max(600_000).default(1000),
});

/**
 * Makes every plain `z.object` inside a schema strict (unknown keys are errors), keeping defaults, optionality and
 * checks. Section schemas owned by other packages (e.g. `xmppConfigSchema`) may use non-strict objects; the app
 * config must still reject typos anywhere.
 */
export function deepStrict<T extends z.ZodType>(schema: T): T {
  return strictify(schema) as T;
}

function strictify(s: z.ZodType): z.ZodType {
  if (s instanceof z.ZodObject) {
    const def = s._zod.def;
    // Objects that deliberately accept extra keys (looseObject, catchall) stay as they are.
    if (def.catchall !== undefined && !(def.catchall instanceof z.ZodNever)) return s;
    const shape: Record<string, z.ZodType> = {};
    for (const [k, v] of Object.entries(s.shape)) shape[k] = strictify(v as z.ZodType);
    const strict = z.strictObject(shape);
    return def.checks?.length ? strict.check(...(def.checks as z.core.$ZodCheck<Record<string, unknown>>[])) : strict;
  }
  if (s instanceof z.ZodDefault) {
    const def = s._zod.def;
    return strictify(def.innerType as z.ZodType).default(() => def.defaultValue);
  }
  if (s instanceof z.ZodPrefault) {
    const def = s._zod.def;
    return strictify(def.innerType as z.ZodType).prefault(() => def.defaultValue);
  }
  if (s instanceof z.ZodOptional) return strictify(s._zod.def.innerType as z.ZodType).optional();
  if (s instanceof z.ZodNullable) return strictify(s._zod.def.innerType as z.ZodType).nullable();
  if (s instanceof z.ZodArray) {
    const def = s._zod.def;
    const arr = z.array(strictify(def.element as z.ZodType));
    return def.checks?.length ? arr.check(...(def.checks as z.core.$ZodCheck<unknown[]>[])) : arr;
  }
  return s;
}

export const appConfigSchema = z.strictObject({
  /** The web server. */
  http: httpConfigSchema.prefault({}),
  /** The XMPP server (see `@jitsi-one/xmpp` `xmppConfigSchema`). */
  xmpp: deepStrict(xmppConfigSchema).prefault({}),
  /**
   * Who may create rooms (see `@jitsi-one/xmpp` `authConfigSchema`): `anonymous` (anyone), `secure-domain` (accounts
   * log in, guests join existing rooms) or `jwt` (signed tokens, guests join existing rooms).
   */
  auth: deepStrict(authConfigSchema).prefault({}),
  /** Logging. */
  log: logConfigSchema.prefault({}),
  /** Texts of the built-in pages (see `@jitsi-one/web` `webConfigSchema`). */
  web: webConfigSchema.prefault({}),
  /**
   * The media bridge (see `@jitsi-one/bridge` `bridgeServiceConfigSchema`): its UDP port and advertised addresses
   * under `transport`, forwarding and feedback tuning. `webSocketBaseUrl` unset: derived from the HTTP server's URL.
   */
  bridge: deepStrict(bridgeServiceConfigSchema).prefault({}),
  /**
   * The conference focus (see `@jitsi-one/focus` `focusConfigSchema`). Its JID is `focus@<xmpp.authDomain>/focus`,
   * added to `xmpp.muc.admins` automatically.
   */
  focus: deepStrict(focusConfigSchema).prefault({}),
  /** The embedded STUN server for P2P (see `stunConfigSchema`). */
  stun: stunConfigSchema.prefault({}),
  /** `/metrics` and the admin call on a loopback listener (see `metricsConfigSchema`). */
  metrics: metricsConfigSchema.prefault({}),
  /** `/about/health` thresholds (see `healthConfigSchema`). */
  health: healthConfigSchema.prefault({}),
}).superRefine((c, ctx) => {
  // The guest domain is a host of its own: it must not be one of the XMPP domains.
  const d = resolveDomains(c.xmpp);
  const guest = resolveGuestDomain(c.auth, d.domain);
  const taken = [d.domain, d.authDomain, d.mucDomain, d.focusDomain, ...c.xmpp.hosts.map((h) => h.domain.toLowerCase())];
  if (guest !== undefined && taken.includes(guest)) {
    ctx.addIssue({ code: 'custom', path: ['auth', 'guestDomain'], message: `${guest} is already an XMPP domain of this server; guests need their own` });
  }
});

export type AppConfig = z.output<typeof appConfigSchema>;
/** What a config file or `overrides` may contain: any subset of keys; omitted keys take their defaults. */
export type AppConfigInput = z.input<typeof appConfigSchema>;
export type HttpConfig = AppConfig['http'];
export type LogConfig = AppConfig['log'];
export type StunConfig = AppConfig['stun'];
export type AuthConfig = AppConfig['auth'];
export type MetricsConfig = AppConfig['metrics'];
export type HealthConfig = AppConfig['health'];

/** The config with every default filled in (what `config.example.json` contains). */
export function defaultConfig(): AppConfig {
  return appConfigSchema.parse({});
}

// ------------------------------------------------------------------------------------------------- loading

export interface LoadConfigOptions {
  /** Command-line arguments after the script name (`process.argv.slice(2)`). Default none. */
  argv?: readonly string[];
  /** Environment (`process.env`). Default none: nothing is read from the real environment implicitly. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Applied last, over everything else. */
  overrides?: AppConfigInput;
}

/**
 * Builds and validates the app config. Pure apart from reading the config file: never exits, never logs.
 * @throws ConfigError listing every problem found (bad values, unknown keys, unreadable file, bad flags).
 */
export function loadConfig({ argv = [], env = {}, overrides }: LoadConfigOptions = {}): AppConfig {
  const cli = parseCliArgs(argv);
  const input: Record<string, unknown> = {};
  const sources = new Map<string, string>();

  const filePath = cli.configFile ?? (env[CONFIG_FILE_ENV] || undefined);
  if (filePath !== undefined) {
    const label = `file ${filePath}`;
    const data = readConfigFile(filePath, cli.configFile !== undefined ? '--config' : `env ${CONFIG_FILE_ENV}`);
    mergeInto(input, data, [], label, sources);
  }
  for (const s of [...envSettings(env), ...cli.settings]) setIn(input, s, sources);
  if (overrides !== undefined) mergeInto(input, overrides as Record<string, unknown>, [], 'overrides', sources);

  const result = appConfigSchema.safeParse(input, { reportInput: true });
  if (!result.success) {
    throw new ConfigError(result.error.issues.flatMap((issue) => toConfigIssues(issue, sources)));
  }
  return result.data;
}

/** Reads and parses a JSON or YAML config file; the top level must be an object. */
export function readConfigFile(path: string, via = '--config'): Record<string, unknown> {
  const ext = extname(path).toLowerCase();
  if (ext !== '.json' && ext !== '.yaml' && ext !== '.yml') {
    throw new ConfigError([{ path: '', message: `config file ${path} must end in .json, .yaml or .yml`, source: via }]);
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : String(code ?? err);
    throw new ConfigError([{ path: '', message: `cannot read config file ${path}: ${why}`, source: via }], {
      cause: err,
    });
  }
  let data: unknown;
  try {
    data = ext === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    const first = String((err as Error).message ?? err).split('\n')[0];
    throw new ConfigError([{ path: '', message: `cannot parse config file ${path}: ${first}`, source: via }], {
      cause: err,
    });
  }
  if (data === null || data === undefined) return {}; // an empty YAML file
  if (!isPlainObject(data)) {
    throw new ConfigError([
      { path: '', message: `config file ${path} must contain an object at the top level`, source: via },
    ]);
  }
  return data;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

const KEY_SEP = '\u0000';

/** Own-property assignment: a `__proto__` key from a file stays an (unknown, rejected) key, never a prototype. */
function assign(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function mergeInto(
  target: Record<string, unknown>,
  source: Record<string, unknown>,
  path: string[],
  label: string,
  sources: Map<string, string>,
): void {
  for (const key of Object.keys(source)) {
    const value = source[key];
    if (value === undefined) continue;
    const p = [...path, key];
    const existing = Object.hasOwn(target, key) ? target[key] : undefined;
    sources.set(p.join(KEY_SEP), label);
    if (isPlainObject(value)) {
      const obj = isPlainObject(existing) ? existing : {};
      if (obj !== existing) assign(target, key, obj);
      mergeInto(obj, value, p, label, sources);
    } else {
      // Arrays and scalars replace what was there.
      assign(target, key, value);
    }
  }
}

function setIn(target: Record<string, unknown>, s: Setting, sources: Map<string, string>): void {
  let obj = target;
  s.path.forEach((key, i) => {
    if (i === s.path.length - 1) {
      assign(obj, key, s.value);
      return;
    }
    const next = Object.hasOwn(obj, key) ? obj[key] : undefined;
    if (isPlainObject(next)) obj = next;
    else {
      const created: Record<string, unknown> = {};
      assign(obj, key, created);
      obj = created;
    }
  });
  sources.set(s.path.join(KEY_SEP), s.source);
}

// ------------------------------------------------------------------------------------------------- messages

/** `['xmpp', 'accounts', 0, 'jid']` → `xmpp.accounts[0].jid`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const k of path) {
    if (typeof k === 'number') out += `[${k}]`;
    else out += out ? `.${String(k)}` : String(k);
  }
  return out;
}

/** Longest recorded prefix of `path` wins: a file that set a whole array is the source of its elements. */
function sourceOf(path: readonly PropertyKey[], sources: Map<string, string>): string | undefined {
  for (let n = path.length; n > 0; n--) {
    const s = sources.get(path.slice(0, n).map(String).join(KEY_SEP));
    if (s !== undefined) return s;
  }
  return undefined;
}

const SECRET_KEY = /pass(word)?|secret|token|key$/i;

function describe(value: unknown, path: readonly PropertyKey[]): string {
  const last = path[path.length - 1];
  const hidden = typeof last === 'string' && SECRET_KEY.test(last) && !/file$/i.test(last);
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  switch (typeof value) {
    case 'string':
      if (hidden) return 'a string';
      return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
    case 'number':
    case 'boolean':
      return hidden ? `a ${typeof value}` : String(value);
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}

function typeName(expected: string): string {
  switch (expected) {
    case 'int':
      return 'integer';
    case 'object':
      return 'an object';
    case 'array':
      return 'a list';
    default:
      return expected;
  }
}

function unitOf(origin: string, n: number | bigint): string {
  if (origin === 'string') return `${n} character${n === 1 ? '' : 's'}`;
  if (origin === 'array' || origin === 'set') return `${n} item${n === 1 ? '' : 's'}`;
  return String(n);
}

function sizeOf(origin: string, input: unknown): number | undefined {
  if (origin === 'string' && typeof input === 'string') return input.length;
  if (origin === 'array' && Array.isArray(input)) return input.length;
  return undefined;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const got = (v: unknown): string => `got ${describe(v, issue.path)}`;
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return `required, expected ${typeName(issue.expected)}`;
      return `expected ${typeName(issue.expected)}, ${got(issue.input)}`;
    case 'too_big':
    case 'too_small': {
      const big = issue.code === 'too_big';
      const bound = big ? (issue as z.core.$ZodIssueTooBig).maximum : (issue as z.core.$ZodIssueTooSmall).minimum;
      const inclusive = issue.inclusive !== false;
      const size = sizeOf(issue.origin, issue.input);
      if (issue.origin === 'string' || issue.origin === 'array' || issue.origin === 'set') {
        const kind = issue.origin === 'string' ? 'string' : 'list';
        const rel = issue.exact ? 'exactly' : big ? 'at most' : 'at least';
        const found = size === undefined ? describe(issue.input, issue.path) : unitOf(issue.origin, size);
        return `expected ${kind} of ${rel} ${unitOf(issue.origin, bound)}, got ${found}`;
      }
      const sym = issue.exact ? '=' : big ? (inclusive ? '≤' : '<') : inclusive ? '≥' : '>';
      const kind = issue.origin === 'int' ? 'integer' : 'number';
      return `expected ${kind} ${sym} ${String(bound)}, ${got(issue.input)}`;
    }
    case 'invalid_value': {
      const values = issue.values.map((v) => JSON.stringify(v));
      const exp = values.length === 1 ? values[0] : `one of ${values.join(', ')}`;
      return `expected ${exp}, ${got(issue.input)}`;
    }
    case 'invalid_format':
      return `expected ${issue.format === 'regex' ? `a string matching ${issue.pattern ?? 'the pattern'}` : issue.format}, ${got(issue.input)}`;
    case 'not_multiple_of':
      return `expected a multiple of ${issue.divisor}, ${got(issue.input)}`;
    case 'invalid_union':
      return `does not match any allowed form, ${got(issue.input)}`;
    default:
      return issue.message;
  }
}

/** Keys the schema accepts at `path` (for "did you mean" hints). */
function knownKeys(path: readonly PropertyKey[]): string[] {
  let s: z.ZodType | undefined = appConfigSchema;
  const unwrap = (t: z.ZodType): z.ZodType => {
    let cur = t;
    while (
      cur instanceof z.ZodDefault ||
      cur instanceof z.ZodPrefault ||
      cur instanceof z.ZodOptional ||
      cur instanceof z.ZodNullable
    ) {
      cur = cur._zod.def.innerType as z.ZodType;
    }
    return cur;
  };
  for (const k of path) {
    if (!s) return [];
    const t = unwrap(s);
    if (t instanceof z.ZodObject && typeof k === 'string') s = t.shape[k] as z.ZodType | undefined;
    else if (t instanceof z.ZodArray && typeof k === 'number') s = t._zod.def.element as z.ZodType;
    else return [];
  }
  const t = s ? unwrap(s) : undefined;
  return t instanceof z.ZodObject ? Object.keys(t.shape) : [];
}

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number): number => d[i]?.[j] ?? 0;
  for (let i = 1; i <= a.length; i++) {
    const row = d[i] as number[];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, at(i - 2, j - 2) + 1);
      row[j] = v;
    }
  }
  return at(a.length, b.length);
}

function suggestion(key: string, candidates: readonly string[]): string {
  const lower = key.toLowerCase();
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const cl = c.toLowerCase();
    // A prefix match (`maxStanzaSizeBytes` → `maxStanzaSize`) is as good as a one-letter typo.
    const prefix = Math.min(cl.length, lower.length) >= 4 && (cl.startsWith(lower) || lower.startsWith(cl));
    const d = cl === lower ? 0 : prefix ? 1 : editDistance(lower, cl);
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return best !== undefined && bestD <= Math.max(1, Math.floor(key.length / 4)) ? ` (did you mean ${best}?)` : '';
}

function toConfigIssues(issue: z.core.$ZodIssue, sources: Map<string, string>): ConfigIssue[] {
  if (issue.code === 'unrecognized_keys') {
    const keys = knownKeys(issue.path);
    return issue.keys.map((key) => {
      const p = [...issue.path, key];
      return { path: formatPath(p), message: `unknown key${suggestion(key, keys)}`, source: sourceOf(p, sources) };
    });
  }
  return [{ path: formatPath(issue.path), message: describeIssue(issue), source: sourceOf(issue.path, sources) }];
}
