/**
 * Command-line flags and environment variables, turned into config settings (key path + value + where it came
 * from). Values stay strings when they do not look like the expected type, so that schema validation reports them
 * with their key path (`http.port: expected number, got "eighty" (from --port)`).
 */
import { ConfigError, type ConfigIssue } from './errors.js';

/** One value for one key path, with a label naming its origin for error messages. */
export interface Setting {
  readonly path: readonly string[];
  readonly value: unknown;
  readonly source: string;
}

type ValueKind = 'string' | 'number' | 'boolean' | 'port-or-off';

interface OptionSpec {
  readonly path: readonly string[];
  readonly kind: ValueKind;
  readonly help: string;
}

/** Flags that set a config key. `--config`, `--check-config` and `--help` are handled separately. */
export const CLI_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  '--port': { path: ['http', 'port'], kind: 'number', help: 'HTTP(S) port (0 = any free port)' },
  '--host': { path: ['http', 'host'], kind: 'string', help: 'address to listen on' },
  '--insecure-http': {
    path: ['http', 'insecureHttp'],
    kind: 'boolean',
    help: 'serve plain HTTP (only behind a TLS-terminating proxy)',
  },
  '--domain': { path: ['xmpp', 'domain'], kind: 'string', help: 'main XMPP domain (hosts.domain)' },
  '--log-level': { path: ['log', 'level'], kind: 'string', help: 'fatal|error|warn|info|debug|trace|silent' },
  '--c2s-port': { path: ['xmpp', 'c2s', 'port'], kind: 'port-or-off', help: 'XMPP client TCP port, or "off"' },
  '--udp-port': { path: ['bridge', 'transport', 'port'], kind: 'number', help: 'media (bridge) UDP port (0 = any free port)' },
  '--stun-port': { path: ['stun', 'port'], kind: 'number', help: 'STUN server UDP port (0 = any free port)' },
};

/** Environment variables that set a config key. `JITSI_ONE_CONFIG` names a config file. */
export const ENV_VARS: Readonly<Record<string, OptionSpec>> = {
  PORT: { path: ['http', 'port'], kind: 'number', help: 'http.port' },
  HOST: { path: ['http', 'host'], kind: 'string', help: 'http.host' },
  INSECURE_HTTP: { path: ['http', 'insecureHttp'], kind: 'boolean', help: 'http.insecureHttp' },
  TLS_CERT_FILE: { path: ['http', 'tls', 'certFile'], kind: 'string', help: 'http.tls.certFile' },
  TLS_KEY_FILE: { path: ['http', 'tls', 'keyFile'], kind: 'string', help: 'http.tls.keyFile' },
  DOMAIN: { path: ['xmpp', 'domain'], kind: 'string', help: 'xmpp.domain' },
  C2S_PORT: { path: ['xmpp', 'c2s', 'port'], kind: 'port-or-off', help: 'xmpp.c2s.port' },
  UDP_PORT: { path: ['bridge', 'transport', 'port'], kind: 'number', help: 'bridge.transport.port' },
  STUN_PORT: { path: ['stun', 'port'], kind: 'number', help: 'stun.port' },
  LOG_LEVEL: { path: ['log', 'level'], kind: 'string', help: 'log.level' },
};

export const CONFIG_FILE_ENV = 'JITSI_ONE_CONFIG';

export const USAGE = `Usage: jitsi-one [options]

Options:
  --config FILE        read configuration from FILE (.json, .yaml or .yml)
${Object.entries(CLI_OPTIONS)
  .map(([flag, spec]) => `  ${(spec.kind === 'boolean' ? flag : `${flag} VALUE`).padEnd(20)} ${spec.help}`)
  .join('\n')}
  --check-config       validate the configuration, print "config ok" and exit
  --help               show this help

Precedence: built-in defaults < config file < environment < command line.
Environment: ${CONFIG_FILE_ENV} (config file), ${Object.keys(ENV_VARS).join(', ')}.
`;

export interface CliArgs {
  /** Settings from flags, in the order given (later wins). */
  readonly settings: readonly Setting[];
  readonly configFile: string | undefined;
  readonly checkConfig: boolean;
  readonly help: boolean;
}

function convert(raw: string, kind: ValueKind): unknown {
  switch (kind) {
    case 'string':
      return raw;
    case 'number':
      return /^\s*-?\d+(?:\.\d+)?\s*$/.test(raw) ? Number(raw) : raw;
    case 'boolean': {
      const v = raw.trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(v)) return true;
      if (['false', '0', 'no', 'off'].includes(v)) return false;
      return raw;
    }
    case 'port-or-off': {
      const v = raw.trim().toLowerCase();
      if (['off', 'none', 'null', 'false'].includes(v)) return null;
      return convert(raw, 'number');
    }
  }
}

/**
 * Parses `argv` (the arguments after the script name, i.e. `process.argv.slice(2)`). Accepts `--flag value` and
 * `--flag=value`. Throws ConfigError for unknown options, missing values and stray arguments.
 */
export function parseCliArgs(argv: readonly string[]): CliArgs {
  const settings: Setting[] = [];
  const issues: ConfigIssue[] = [];
  let configFile: string | undefined;
  let checkConfig = false;
  let help = false;

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('--')) {
      issues.push({ path: '', message: arg === '-h' ? 'use --help' : `unexpected argument ${JSON.stringify(arg)}` });
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    const inline = eq === -1 ? undefined : arg.slice(eq + 1);
    const takeValue = (): string | undefined => {
      if (inline !== undefined) return inline;
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) {
        issues.push({ path: '', message: `option ${flag} needs a value` });
        return undefined;
      }
      i++;
      return next;
    };

    if (flag === '--help') {
      help = true;
    } else if (flag === '--check-config') {
      checkConfig = true;
    } else if (flag === '--config') {
      const v = takeValue();
      if (v !== undefined) configFile = v;
    } else {
      const spec = CLI_OPTIONS[flag];
      if (!spec) {
        issues.push({ path: '', message: `unknown option ${flag} (see --help)` });
        continue;
      }
      // A bare boolean flag means true; `--insecure-http=false` is allowed.
      const raw = spec.kind === 'boolean' ? (inline ?? 'true') : takeValue();
      if (raw !== undefined) settings.push({ path: spec.path, value: convert(raw, spec.kind), source: flag });
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return { settings, configFile, checkConfig, help };
}

/** Settings from the environment. Empty variables count as unset. */
export function envSettings(env: Readonly<Record<string, string | undefined>>): Setting[] {
  const settings: Setting[] = [];
  for (const [name, spec] of Object.entries(ENV_VARS)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    settings.push({ path: spec.path, value: convert(raw, spec.kind), source: `env ${name}` });
  }
  return settings;
}
