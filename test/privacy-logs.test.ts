/**
 * Issue 7, privacy: log hygiene. A full meeting runs through `startServer` with every log line captured: three
 * participants with display names, group and private chat, P2P between two and the bridge from the third (over
 * BOSH), a moderator muting another participant, a failed login (SASL PLAIN with a wrong password, and with an unknown user, against a secure-domain server),
 * malformed input (garbage XML before and after login, stream errors), and plain HTTP requests for the room's page
 * and an unknown path. Then every captured line is searched for the clients' addresses, the display names, the MUC
 * nicks, the chat text, the room name, the JIDs' node and resource parts, the login name and password, and the
 * malformed input. A hit fails the test with the offending line.
 *
 * Run at the default level (info) and at debug level (redaction on, its default); a third run at debug level with
 * redaction explicitly off shows that the scan does find what leaks then.
 *
 * Addresses: the servers listen on 127.0.0.2 (HTTP, bridge UDP, STUN); the participants connect from 127.0.0.1
 * (the kernel's source address on lo) and the raw clients bind 127.0.0.3. So 127.0.0.1 or 127.0.0.3 in a line can
 * only be a client's address, never the server's own (which may be logged, e.g. as the bound host).
 *
 * Room names count as personal (a Jitsi room name is often a person's or a team's name): they must not appear
 * either. MUC nicks are endpoint ids (random hex in Jitsi clients) but any XMPP client may pick a name, so the test
 * uses name-like nicks and requires them masked too.
 */
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { hashPassword } from '@jitsi-one/xmpp';
import { type RunningServer, startServer } from '../packages/server/src/index.js';
import { CHAT, DISPLAY_NAMES, NICKS, PARTICIPANT_ADDRESS, RAW_CLIENT_ADDRESS, RawXmpp, SERVER_ADDRESS, runMeeting } from './privacy-meeting.js';

const ROOM_LOCAL = 'quietroomkestrel';
const LOGIN_USER = 'mallorylogin';
const LOGIN_PASSWORD = 'CorrectHorseBattery';
const WRONG_PASSWORD = 'WrongHorseStaple';
const UNKNOWN_USER = 'nobodyhereuser';
const MALFORMED = ['garbagemarkerone', 'garbagemarkertwo'] as const;
const HTTP_MARKER = 'unknownpathmarker';

const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

function serverConfig(level: 'debug' | undefined, redact?: false) {
  return {
    http: { port: 0, host: SERVER_ADDRESS, insecureHttp: true },
    xmpp: { c2s: { port: null } },
    bridge: { transport: { port: 0, bindAddress: SERVER_ADDRESS, hostAddresses: [SERVER_ADDRESS] } },
    stun: { port: 0, host: SERVER_ADDRESS },
    // Unset = the default level; redaction is only ever set to turn it off (its default is on).
    ...(level !== undefined ? { log: { level, ...(redact !== undefined ? { redact } : {}) } } : {}),
  };
}

function httpGet(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { localAddress: RAW_CLIENT_ADDRESS }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Words that must not appear (case-insensitive), each with what it is. */
function needles(jids: readonly string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [
    [PARTICIPANT_ADDRESS, 'participant IP address'],
    [RAW_CLIENT_ADDRESS, 'raw client IP address'],
    [ROOM_LOCAL, 'room name'],
    [LOGIN_USER, 'login name'],
    [UNKNOWN_USER, 'login name (unknown user)'],
    [WRONG_PASSWORD, 'password'],
    [HTTP_MARKER, 'requested URL path'],
    ...MALFORMED.map((m): [string, string] => [m, 'malformed input']),
    ...Object.values(NICKS).map((n): [string, string] => [n, 'MUC nick']),
  ];
  for (const name of Object.values(DISPLAY_NAMES)) for (const w of name.split(' ')) out.push([w, `display name "${name}"`]);
  for (const text of Object.values(CHAT)) for (const w of text.split(' ').filter((x) => x.length >= 6)) out.push([w, `chat text "${text}"`]);
  for (const jid of jids) {
    const at = jid.indexOf('@');
    const slash = jid.indexOf('/');
    if (at > 0) out.push([jid.slice(0, at), `JID node of ${jid}`]);
    if (slash > 0) out.push([jid.slice(slash + 1), `JID resource of ${jid}`]);
  }
  return out;
}

function leaks(lines: readonly string[], jids: readonly string[]): string[] {
  const found: string[] = [];
  const ns = needles(jids).map(([n, what]) => [n.toLowerCase(), what] as const);
  for (const line of lines) {
    const l = line.toLowerCase();
    for (const [n, what] of ns) if (l.includes(n)) found.push(`${what} (${n}) in: ${line.trim()}`);
  }
  return found;
}

/** The meeting, the failed logins, the malformed input and the HTTP requests; returns the JIDs seen. */
async function everything(level: 'debug' | undefined, lines: string[], redact?: false): Promise<string[]> {
  const logDestination = { write: (s: string) => void lines.push(s) };
  const server = await startServer({ config: serverConfig(level, redact), logDestination });
  servers.push(server);
  const room = `${ROOM_LOCAL}@${server.mucDomain}`;
  const { jids } = await runMeeting({ wsUrl: server.wsUrl, boshUrl: server.boshUrl, domain: server.domain, focusDomain: server.focusDomain, room });

  // Malformed input: garbage before login, and a broken stanza after it. Both end in a stream error.
  const pre = await RawXmpp.open(server.wsUrl, RAW_CLIENT_ADDRESS);
  await pre.openStream(server.domain);
  pre.send(`<<${MALFORMED[0]} from="${PARTICIPANT_ADDRESS}">`);
  await pre.expect(/<stream:error|<error/);
  await pre.waitClosed();
  const post = await RawXmpp.open(server.wsUrl, RAW_CLIENT_ADDRESS);
  jids.push(await post.anonymous(server.domain));
  post.send(`<message xmlns="jabber:client" to="${room}" type="groupchat"><body>${MALFORMED[1]}</body></mess>`);
  await post.expect(/not-well-formed|stream:error|<error/);
  await post.waitClosed();

  // HTTP: the room's page and an unknown path, from the raw client address.
  expect(await httpGet(`${server.url}${ROOM_LOCAL}`)).toBe(200);
  await httpGet(`${server.url}static/${HTTP_MARKER}`);
  await httpGet(`${server.url}${HTTP_MARKER}/${ROOM_LOCAL}`);

  // A failed login needs accounts: a second server in secure-domain mode, logging to the same place.
  const secure = await startServer({
    config: { ...serverConfig(level, redact), auth: { mode: 'secure-domain', users: [{ username: LOGIN_USER, passwordHash: await hashPassword(LOGIN_PASSWORD) }] } },
    logDestination,
  });
  servers.push(secure);
  for (const user of [LOGIN_USER, UNKNOWN_USER]) {
    const c = await RawXmpp.open(secure.wsUrl, RAW_CLIENT_ADDRESS);
    const features = await c.openStream(secure.domain);
    expect(features).toContain('PLAIN');
    expect(await c.plain(user, WRONG_PASSWORD)).toContain('not-authorized');
    c.close();
    await c.waitClosed();
  }

  await Promise.all(servers.splice(0).map((s) => s.stop()));
  return jids;
}

function parsed(lines: readonly string[]): Array<Record<string, unknown>> {
  return lines.map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('issue 7: no personal data in the logs', () => {
  it('at the default level (info), no line has a client IP, nick, display name, chat text, room name, JID or login', async () => {
    const lines: string[] = [];
    const jids = await everything(undefined, lines);
    const records = parsed(lines);
    // The capture works and saw the meeting (these lines exist at info).
    expect(records.every((r) => r.level !== 'debug' && r.level !== 'trace')).toBe(true);
    for (const msg of ['conference created', 'endpoint created', 'endpoint transport connected', 'authentication failed']) {
      expect(records.some((r) => r.msg === msg), `no "${msg}" line`).toBe(true);
    }
    expect(jids).toHaveLength(4);
    expect(leaks(lines, jids)).toEqual([]);
  }, 120_000);

  it('at debug level (redaction on by default), personal fields are masked and nothing leaks', async () => {
    const lines: string[] = [];
    const jids = await everything('debug', lines);
    const records = parsed(lines);
    for (const msg of ['participant joined', 'occupant joined', 'stream error', 'ICE learned peer-reflexive address', 'session accepted']) {
      expect(records.some((r) => r.msg === msg), `no "${msg}" line`).toBe(true);
    }
    // Masked, not dropped: the address keeps its /16, names become keyed hashes.
    const prflx = records.find((r) => r.msg === 'ICE learned peer-reflexive address');
    expect(prflx?.address).toBe('127.0.x.x');
    expect(String(records.find((r) => r.msg === 'participant joined')?.nick)).toMatch(/^~[0-9a-f]{8}$/);
    expect(leaks(lines, jids)).toEqual([]);
  }, 120_000);

  it('the scan does find leaks: at debug level with redaction explicitly off, addresses, room and nicks show', async () => {
    const lines: string[] = [];
    const jids = await everything('debug', lines, false);
    const found = leaks(lines, jids).map((l) => l.slice(0, l.indexOf(' (')));
    for (const kind of ['participant IP address', 'room name', 'MUC nick']) expect(found, kind).toContain(kind);
  }, 120_000);
});
