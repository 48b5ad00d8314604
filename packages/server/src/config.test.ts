import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCliArgs } from './args.js';
import { type AppConfigInput, defaultConfig, loadConfig } from './config.js';
import { ConfigError } from './errors.js';

const dir = mkdtempSync(join(tmpdir(), 'jitsi-one-config-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** The ConfigError thrown by `fn`, or a test failure. */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig() defaults', () => {
  it('with no input returns the documented defaults', () => {
    const c = loadConfig();
    expect(c).toEqual(defaultConfig());
    expect(c.http).toEqual({ port: 8443, host: '0.0.0.0', insecureHttp: false, tls: {} });
    expect(c.log).toEqual({ level: 'info', redact: true, file: { retentionHours: 24 } });
    expect(c.metrics).toEqual({ enabled: false, host: '127.0.0.1', port: 9464 });
    expect(c.health).toEqual({ maxEventLoopLagMs: 1000 });
    expect(c.web).toEqual({ p2p: { enabled: true, backToP2PDelay: 5 }, recentRooms: true, channelLastN: -1 });
    expect(c.xmpp.domain).toBe('meet.jitsi');
    expect(c.xmpp.c2s.port).toBe(5222);
    expect(c.xmpp.limits.maxStanzaSize).toBe(262_144);
  });

  it('does not read the real environment or argv implicitly', () => {
    const before = process.env.PORT;
    process.env.PORT = '1234';
    try {
      expect(loadConfig().http.port).toBe(8443);
    } finally {
      if (before === undefined) delete process.env.PORT;
      else process.env.PORT = before;
    }
  });

  it('config.example.json parses and equals the defaults', () => {
    const example = fileURLToPath(new URL('../../../config.example.json', import.meta.url));
    // On failure regenerate it: npx tsx packages/server/src/example-config.ts > config.example.json
    expect(loadConfig({ argv: ['--config', example] })).toEqual(defaultConfig());
    expect(JSON.parse(readFileSync(example, 'utf8'))).toEqual(defaultConfig());
  });
});

describe('loadConfig() rejects bad values naming the key', () => {
  const cases: [string, unknown, string][] = [
    ['port too big', { http: { port: 70000 } }, 'config error: http.port: expected number ≤ 65535, got 70000'],
    ['port negative', { http: { port: -1 } }, 'config error: http.port: expected number ≥ 0, got -1'],
    ['port not a number', { http: { port: 'eighty' } }, 'config error: http.port: expected number, got "eighty"'],
    ['port fractional', { http: { port: 80.5 } }, 'config error: http.port: expected integer, got 80.5'],
    ['insecureHttp not boolean', { http: { insecureHttp: 'yes' } }, 'http.insecureHttp: expected boolean, got "yes"'],
    ['empty host', { http: { host: '' } }, 'http.host: expected string of at least 1 character, got 0 characters'],
    ['cert without key', { http: { tls: { certFile: 'a.pem' } } }, 'http.tls: set both certFile and keyFile'],
    ['bad log level', { log: { level: 'loud' } }, 'log.level: expected one of "fatal", "error"'],
    ['redact not boolean', { log: { redact: 1 } }, 'log.redact: expected boolean, got 1'],
    ['empty privacy notice', { web: { privacyNotice: '' } }, 'web.privacyNotice: expected string of at least 1'],
    ['xmpp domain empty', { xmpp: { domain: '' } }, 'xmpp.domain: expected string of at least 1'],
    ['xmpp limit too small', { xmpp: { limits: { maxStanzaSize: 10 } } }, 'xmpp.limits.maxStanzaSize: expected number ≥ 1024, got 10'],
    ['c2s port too big', { xmpp: { c2s: { port: 65536 } } }, 'xmpp.c2s.port: expected number ≤ 65535, got 65536'],
    ['account without password', { xmpp: { accounts: [{ jid: 'focus@auth.meet.jitsi' }] } }, 'xmpp.accounts[0].password: required, expected string'],
    ['section not an object', { http: 8443 }, 'http: expected an object, got 8443'],
    ['bridge UDP port too big', { bridge: { transport: { port: 70000 } } }, 'bridge.transport.port: expected number ≤ 65535, got 70000'],
    ['bridge bind address not IPv4', { bridge: { transport: { bindAddress: 'any' } } }, 'bridge.transport.bindAddress: expected ipv4, got "any"'],
    ['bridge id with a slash', { bridge: { id: 'a/b' } }, 'bridge.id: expected a string matching'],
  ];
  it.each(cases)('%s', (_name, overrides, expected) => {
    const err = configError(() => loadConfig({ overrides: overrides as AppConfigInput }));
    expect(err.message).toContain(expected);
    expect(err.message).not.toMatch(/\n\s+at /); // no stack trace in the message
  });

  it('reports every problem at once, one issue per key', () => {
    const err = configError(() => loadConfig({ overrides: { http: { port: 70000, host: '' }, log: { level: 'x' as 'info' } } }));
    expect(err.issues.map((i) => i.path).sort()).toEqual(['http.host', 'http.port', 'log.level']);
    expect(err.message.split('\n')).toHaveLength(3);
  });

  it('never echoes a secret value', () => {
    const err = configError(() =>
      loadConfig({ overrides: { xmpp: { accounts: [{ jid: 'a@auth.meet.jitsi', password: 12345 as unknown as string }] } } }),
    );
    expect(err.message).toContain('xmpp.accounts[0].password: expected string, got a number');
    expect(err.message).not.toContain('12345');
  });
});

describe('loadConfig() rejects unknown keys', () => {
  it.each([
    [{ bogus: 1 }, 'config error: bogus: unknown key'],
    [{ http: { prot: 1 } }, 'config error: http.prot: unknown key (did you mean port?)'],
    [{ http: { insecureHTTP: true } }, 'http.insecureHTTP: unknown key (did you mean insecureHttp?)'],
    [{ http: { tls: { cert: 'x' } } }, 'http.tls.cert: unknown key'],
    [{ xmpp: { domian: 'x' } }, 'xmpp.domian: unknown key (did you mean domain?)'],
    // xmppConfigSchema's nested objects are made strict too.
    [{ xmpp: { limits: { maxStanzaSizeBytes: 1 } } }, 'xmpp.limits.maxStanzaSizeBytes: unknown key (did you mean maxStanzaSize?)'],
    [{ xmpp: { accounts: [{ jid: 'a@auth.meet.jitsi', password: 'p', admin: true }] } }, 'xmpp.accounts[0].admin: unknown key'],
    [{ web: { imprnt: 'x' } }, 'web.imprnt: unknown key (did you mean imprint?)'],
    // bridgeServiceConfigSchema's objects are made strict too.
    [{ bridge: { transport: { prot: 1 } } }, 'bridge.transport.prot: unknown key (did you mean port?)'],
    [{ bridge: { video: { nackCache: 1 } } }, 'bridge.video.nackCache: unknown key (did you mean nackCacheSize?)'],
  ])('%j', (overrides, expected) => {
    expect(configError(() => loadConfig({ overrides: overrides as AppConfigInput })).message).toContain(expected);
  });

  it('a __proto__ key in a file is an unknown key and pollutes nothing', () => {
    const p = file('proto.json', '{"__proto__": {"polluted": true}, "http": {"port": 1}}');
    const err = configError(() => loadConfig({ argv: ['--config', p] }));
    expect(err.message).toContain('__proto__: unknown key');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('config files', () => {
  it('reads YAML', () => {
    const p = file(
      'c.yaml',
      ['http:', '  port: 9443', '  insecureHttp: true', 'xmpp:', '  domain: example.org', '  c2s:', '    port: null', 'log:', '  level: debug', ''].join('\n'),
    );
    const c = loadConfig({ argv: ['--config', p] });
    expect(c.http.port).toBe(9443);
    expect(c.http.insecureHttp).toBe(true);
    expect(c.http.host).toBe('0.0.0.0'); // untouched keys keep defaults
    expect(c.xmpp.domain).toBe('example.org');
    expect(c.xmpp.c2s).toMatchObject({ port: null, requireTls: true });
    expect(c.log.level).toBe('debug');
  });

  it('reads .yml and JSON', () => {
    expect(loadConfig({ argv: ['--config', file('c.yml', 'http: { port: 1 }\n')] }).http.port).toBe(1);
    expect(loadConfig({ argv: ['--config', file('c.json', '{"http": {"port": 2}}')] }).http.port).toBe(2);
  });

  it('an empty YAML file means all defaults', () => {
    expect(loadConfig({ argv: ['--config', file('empty.yaml', '')] })).toEqual(defaultConfig());
  });

  it('names the file as the source of a bad value', () => {
    const p = file('bad.yaml', 'http:\n  port: 70000\n');
    expect(configError(() => loadConfig({ argv: ['--config', p] })).message).toBe(
      `config error: http.port: expected number ≤ 65535, got 70000 (from file ${p})`,
    );
  });

  it.each([
    ['missing file', () => join(dir, 'nope.yaml'), 'cannot read config file'],
    ['wrong extension', () => file('c.toml', 'x = 1'), 'must end in .json, .yaml or .yml'],
    ['JSON syntax error', () => file('broken.json', '{"http": '), 'cannot parse config file'],
    ['YAML syntax error', () => file('broken.yaml', 'http:\n  port: [1\n'), 'cannot parse config file'],
    ['top-level list', () => file('list.yaml', '- 1\n- 2\n'), 'must contain an object at the top level'],
  ])('%s is a ConfigError', (_name, makePath, expected) => {
    const err = configError(() => loadConfig({ argv: ['--config', makePath()] }));
    expect(err.message).toMatch(/^config error: /);
    expect(err.message).toContain(expected);
  });
});

describe('precedence: defaults < file < env < CLI < overrides', () => {
  const p = file('prec.yaml', 'http:\n  port: 1000\n  host: 10.0.0.1\nxmpp:\n  domain: file.example\n');

  it('file over defaults', () => {
    const c = loadConfig({ argv: ['--config', p] });
    expect([c.http.port, c.http.host, c.xmpp.domain]).toEqual([1000, '10.0.0.1', 'file.example']);
  });

  it('env over file', () => {
    const c = loadConfig({ argv: ['--config', p], env: { PORT: '2000', DOMAIN: 'env.example', LOG_LEVEL: 'warn' } });
    expect([c.http.port, c.http.host, c.xmpp.domain, c.log.level]).toEqual([2000, '10.0.0.1', 'env.example', 'warn']);
  });

  it('CLI over env', () => {
    const c = loadConfig({
      argv: ['--config', p, '--port', '3000', '--domain=cli.example', '--host', '127.0.0.1', '--log-level', 'error'],
      env: { PORT: '2000', DOMAIN: 'env.example', HOST: '::', LOG_LEVEL: 'warn' },
    });
    expect([c.http.port, c.http.host, c.xmpp.domain, c.log.level]).toEqual([3000, '127.0.0.1', 'cli.example', 'error']);
  });

  it('overrides over CLI', () => {
    const c = loadConfig({ argv: ['--port', '3000'], env: { PORT: '2000' }, overrides: { http: { port: 0 } } });
    expect(c.http.port).toBe(0);
  });

  it('env JITSI_ONE_CONFIG names the file; --config wins over it', () => {
    const other = file('other.json', '{"http": {"port": 5555}}');
    expect(loadConfig({ env: { JITSI_ONE_CONFIG: p } }).http.port).toBe(1000);
    expect(loadConfig({ argv: ['--config', other], env: { JITSI_ONE_CONFIG: p } }).http.port).toBe(5555);
  });

  it('empty env variables count as unset', () => {
    expect(loadConfig({ env: { PORT: '', DOMAIN: '' } }).http.port).toBe(8443);
  });

  it('boolean and off-able values from env and flags', () => {
    expect(loadConfig({ env: { INSECURE_HTTP: 'true', C2S_PORT: 'off' } }).http.insecureHttp).toBe(true);
    expect(loadConfig({ env: { C2S_PORT: 'off' } }).xmpp.c2s.port).toBeNull();
    expect(loadConfig({ argv: ['--insecure-http'] }).http.insecureHttp).toBe(true);
    expect(loadConfig({ argv: ['--insecure-http=false'], env: { INSECURE_HTTP: '1' } }).http.insecureHttp).toBe(false);
    expect(loadConfig({ argv: ['--c2s-port', '0'] }).xmpp.c2s.port).toBe(0);
    expect(loadConfig({ argv: ['--c2s-port', 'off'] }).xmpp.c2s.port).toBeNull();
  });

  it('the bridge UDP port from --udp-port and UDP_PORT', () => {
    expect(loadConfig().bridge.transport.port).toBe(10000);
    expect(loadConfig({ env: { UDP_PORT: '10001' } }).bridge.transport.port).toBe(10001);
    expect(loadConfig({ argv: ['--udp-port', '0'], env: { UDP_PORT: '10001' } }).bridge.transport.port).toBe(0);
    expect(configError(() => loadConfig({ argv: ['--udp-port', 'x'] })).message).toBe(
      'config error: bridge.transport.port: expected number, got "x" (from --udp-port)',
    );
  });

  it('a bad env or flag value names the key and the variable or flag', () => {
    expect(configError(() => loadConfig({ env: { PORT: 'abc' } })).message).toBe(
      'config error: http.port: expected number, got "abc" (from env PORT)',
    );
    expect(configError(() => loadConfig({ argv: ['--port', '70000'] })).message).toBe(
      'config error: http.port: expected number ≤ 65535, got 70000 (from --port)',
    );
    expect(configError(() => loadConfig({ env: { INSECURE_HTTP: 'maybe' } })).message).toContain(
      'http.insecureHttp: expected boolean, got "maybe" (from env INSECURE_HTTP)',
    );
  });
});

describe('parseCliArgs()', () => {
  it('recognises --check-config and --help without touching config keys', () => {
    expect(parseCliArgs(['--check-config'])).toMatchObject({ checkConfig: true, help: false, settings: [] });
    expect(parseCliArgs(['--help'])).toMatchObject({ help: true });
  });

  it.each([
    [['--bogus'], 'config error: unknown option --bogus'],
    [['--port'], 'config error: option --port needs a value'],
    [['--port', '--host', 'x'], 'option --port needs a value'],
    [['--config'], 'option --config needs a value'],
    [['stray'], 'unexpected argument "stray"'],
  ])('%j is a ConfigError', (argv, expected) => {
    expect(configError(() => parseCliArgs(argv)).message).toContain(expected);
  });
});
