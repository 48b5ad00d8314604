import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';

function memoryLogger(redact: boolean) {
  const lines: string[] = [];
  const log = createLogger({ level: 'trace', redact }, { write: (s: string) => void lines.push(s) });
  return { log, output: () => lines.join('') };
}

const IP = '203.0.113.77';
const IP6 = '2001:db8:85a3::8a2e:370:7334';
const NICK = 'Alice Wonderland';
const JID = 'alice@meet.jitsi/laptop';
const SECRET = 's3cr3t-pa55';

function logEverything(log: ReturnType<typeof createLogger>): void {
  log.info({ remoteAddress: IP, nick: NICK }, 'connected');
  log.info({ conn: { ip: IP6 } }, 'nested one level');
  log.info({ session: { occupant: { jid: JID, displayName: NICK } } }, 'nested deeper');
  log.info({ occupants: [{ nick: NICK }, { nickname: NICK }] }, 'in an array');
  log.child({ ip: IP }).child({ session: { nickname: NICK } }).warn('child bindings');
  log.debug({ stanza: { body: `hello from ${NICK}` } }, 'message');
  log.info({ password: SECRET, token: SECRET }, 'secrets');
  const err = Object.assign(new Error(`connect ECONNREFUSED ${IP}:443`), { address: IP });
  log.error({ err }, 'an error');
  log.info(`an IP ${IP} that slipped into a message`);
}

describe('createLogger()', () => {
  it('writes JSON lines with level labels and no pid/hostname', () => {
    const { log, output } = memoryLogger(true);
    log.info({ port: 1 }, 'hello');
    const line = JSON.parse(output()) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 'info', port: 1, msg: 'hello' });
    expect(line).not.toHaveProperty('pid');
    expect(line).not.toHaveProperty('hostname');
  });

  it('with redact masks IPs, nicknames, JIDs, bodies and secrets in every position', () => {
    const { log, output } = memoryLogger(true);
    logEverything(log);
    const out = output();
    for (const secret of [IP, IP6, NICK, 'Alice', 'alice', 'laptop', SECRET, '113.77']) {
      expect(out).not.toContain(secret);
    }
    expect(out).toContain('203.0.x.x'); // masked, not deleted
    expect(out).toContain('2001:db8::x');
    expect(out).toContain('@meet.jitsi/~');
    expect(out).toContain('[redacted]');
    expect(out.trim().split('\n')).toHaveLength(9);
  });

  it('without redact logs values as they are', () => {
    const { log, output } = memoryLogger(false);
    logEverything(log);
    const out = output();
    expect(out).toContain(IP);
    expect(out).toContain(NICK);
    expect(out).toContain(JID);
  });

  it('respects the level', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'warn', redact: true }, { write: (s: string) => void lines.push(s) });
    log.info('not written');
    log.warn('written');
    expect(lines).toHaveLength(1);
  });
});
