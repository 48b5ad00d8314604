/**
 * SASL (RFC 6120 §6) over the WebSocket test transport (which counts as secure): ANONYMOUS on the main domain,
 * PLAIN with configured accounts on the auth domain, failures, and what gets logged.
 */
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type Element,
  NS_FRAMING,
  NS_SASL,
  NS_STREAM_ERRORS,
  Session,
  type Transport,
  XmlStreamParser,
  createXmppServer,
  xmppConfigSchema,
} from '../src/index.js';
import { TestClient } from './client.js';
import { type TestServer, startTestServer, waitFor } from './helpers.js';

const AUTH = 'auth.meet.jitsi';
const PASSWORD = 's3cret';
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let srv: TestServer;
beforeEach(async () => {
  srv = await startTestServer({ accounts: [{ jid: `alice@${AUTH}`, password: PASSWORD }] }, { logLevel: 'debug' });
});
afterEach(async () => {
  await srv.stop();
});

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const plain = (authcid: string, password: string, authzid = '') => b64(`${authzid}\0${authcid}\0${password}`);
const open = (domain: string) => `<open xmlns="${NS_FRAMING}" to="${domain}" version="1.0"/>`;

/** Open a stream to `domain` and return the offered SASL mechanisms. */
async function openStream(domain: string): Promise<{ c: TestClient; mechanisms: string[] }> {
  const c = await TestClient.open(srv.wsUrl);
  c.sendRaw(open(domain));
  const f = await c.expect((s) => s.name === 'stream:features');
  const mechanisms = f.getChild('mechanisms', NS_SASL)?.getChildren('mechanism').map((m) => m.getText()) ?? [];
  return { c, mechanisms };
}

function auth(c: TestClient, mechanism: string | undefined, payload = ''): void {
  c.sendRaw(`<auth xmlns="${NS_SASL}"${mechanism === undefined ? '' : ` mechanism="${mechanism}"`}>${payload}</auth>`);
}

/** The SASL outcome: 'success' or the failure condition. */
async function outcome(c: TestClient): Promise<string> {
  const r = await c.expect((s) => (s.name === 'success' || s.name === 'failure') && s.attrs.xmlns === NS_SASL);
  if (r.name === 'success') return 'success';
  const cond = r.children.find((x) => typeof x !== 'string') as Element | undefined;
  return cond?.name ?? '(none)';
}

/** One attempt on a fresh connection. */
async function attempt(domain: string, mechanism: string | undefined, payload = ''): Promise<string> {
  const { c } = await openStream(domain);
  auth(c, mechanism, payload);
  const r = await outcome(c);
  c.close();
  return r;
}

/** After SASL success: restart, bind, return the full JID. */
async function bind(c: TestClient, domain: string): Promise<string> {
  c.sendRaw(open(domain));
  const f = await c.expect((s) => s.name === 'stream:features');
  expect(f.getChild('bind')).toBeDefined();
  expect(f.getChild('mechanisms')).toBeUndefined();
  c.sendRaw(`<iq type="set" id="b" xmlns="jabber:client"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/></iq>`);
  const r = await c.expect((s) => s.name === 'iq' && s.attrs.id === 'b');
  return r.getChild('bind')?.getChildText('jid') ?? '';
}

describe('mechanisms offered', () => {
  it('the anonymous main domain without accounts offers ANONYMOUS only (no PLAIN)', async () => {
    const { c, mechanisms } = await openStream(srv.domain);
    expect(mechanisms).toEqual(['ANONYMOUS']);
    c.close();
  });

  it('the auth domain (accounts, not anonymous) offers PLAIN only', async () => {
    const { c, mechanisms } = await openStream(AUTH);
    expect(mechanisms).toEqual(['PLAIN']);
    c.close();
  });
});

describe('ANONYMOUS', () => {
  it('gives a random UUID node on the main domain, different each time', async () => {
    const a = await TestClient.connect(srv);
    const b = await TestClient.connect(srv);
    for (const jid of [a.jid, b.jid]) {
      const [bare, resource] = jid.split('/') as [string, string];
      const [node, domain] = bare.split('@') as [string, string];
      expect(node).toMatch(UUID_RE);
      expect(domain).toBe(srv.domain);
      expect(resource.length).toBeGreaterThan(0);
    }
    expect(a.jid.split('@')[0]).not.toBe(b.jid.split('@')[0]);
    a.close();
    b.close();
  });

  it('ignores any initial response', async () => {
    const { c } = await openStream(srv.domain);
    auth(c, 'ANONYMOUS', b64('trace-token'));
    expect(await outcome(c)).toBe('success');
    expect((await bind(c, srv.domain)).split('@')[0]).toMatch(UUID_RE);
    c.close();
  });

  it('is refused on a host without anonymous login', async () => {
    expect(await attempt(AUTH, 'ANONYMOUS')).toBe('invalid-mechanism');
  });

  it('works on an extra host configured as anonymous', async () => {
    await srv.stop();
    srv = await startTestServer({ hosts: [{ domain: 'guest.meet.jitsi', anonymous: true }] });
    const c = await TestClient.open(srv.wsUrl);
    await c.login('guest.meet.jitsi');
    expect(c.jid).toMatch(/^[0-9a-f-]{36}@guest\.meet\.jitsi\/.+$/);
    c.close();
  });
});

describe('PLAIN', () => {
  it('the right password logs in on the auth domain', async () => {
    const c = await TestClient.open(srv.wsUrl);
    await c.login(AUTH, 'PLAIN', plain('alice', PASSWORD));
    expect(c.jid).toMatch(new RegExp(`^alice@${AUTH.replace(/\./g, '\\.')}/.+$`));
    const pong = await c.iq(`<iq type="get" id="p" to="${AUTH}"><ping xmlns="urn:xmpp:ping"/></iq>`);
    expect(pong.attrs.type).toBe('result');
    c.close();
  });

  it('accepts the bare JID as authzid (as strophe.js sends it) and a differently-cased username', async () => {
    const { c } = await openStream(AUTH);
    auth(c, 'PLAIN', plain('alice', PASSWORD, `alice@${AUTH}`));
    expect(await outcome(c)).toBe('success');
    expect(await bind(c, AUTH)).toMatch(/^alice@auth\.meet\.jitsi\//);
    c.close();
    expect(await attempt(AUTH, 'PLAIN', plain('ALICE', PASSWORD))).toBe('success');
  });

  it('a wrong password gets <failure><not-authorized/>, and the stream stays usable for a retry', async () => {
    const { c } = await openStream(AUTH);
    auth(c, 'PLAIN', plain('alice', 'wrong-password'));
    expect(await outcome(c)).toBe('not-authorized');
    expect(c.closed).toBe(false);
    auth(c, 'PLAIN', plain('alice', PASSWORD));
    expect(await outcome(c)).toBe('success');
    expect(await bind(c, AUTH)).toMatch(/^alice@auth\.meet\.jitsi\//);
    c.close();
  });

  it('an unknown user gets not-authorized (same as a wrong password)', async () => {
    expect(await attempt(AUTH, 'PLAIN', plain('mallory', PASSWORD))).toBe('not-authorized');
  });

  it('the password is case-sensitive and must match exactly', async () => {
    expect(await attempt(AUTH, 'PLAIN', plain('alice', PASSWORD.toUpperCase()))).toBe('not-authorized');
    expect(await attempt(AUTH, 'PLAIN', plain('alice', `${PASSWORD} `))).toBe('not-authorized');
    expect(await attempt(AUTH, 'PLAIN', plain('alice', ''))).toBe('not-authorized');
  });

  it('an authcid that is not a plain username is refused', async () => {
    expect(await attempt(AUTH, 'PLAIN', plain(`alice@${AUTH}`, PASSWORD))).toBe('not-authorized');
    expect(await attempt(AUTH, 'PLAIN', plain('alice/res', PASSWORD))).toBe('not-authorized');
    expect(await attempt(AUTH, 'PLAIN', plain('', PASSWORD))).toBe('not-authorized');
  });

  it('another authzid gets invalid-authzid', async () => {
    expect(await attempt(AUTH, 'PLAIN', plain('alice', PASSWORD, `bob@${AUTH}`))).toBe('invalid-authzid');
  });

  it('three failures close the stream with a stream error', async () => {
    const { c } = await openStream(AUTH);
    for (let i = 0; i < 2; i++) {
      auth(c, 'PLAIN', plain('alice', `guess${i}`));
      expect(await outcome(c)).toBe('not-authorized');
      expect(c.closed).toBe(false);
    }
    auth(c, 'PLAIN', plain('alice', 'guess2'));
    expect(await outcome(c)).toBe('not-authorized');
    const err = await c.expect((s) => s.name === 'stream:error');
    expect(err.getChild('policy-violation')?.attrs.xmlns).toBe(NS_STREAM_ERRORS);
    await c.expect((s) => s.name === 'close');
    await c.waitClosed();
    await waitFor(() => (srv.xmpp.allSessions.size === 0 ? undefined : `${srv.xmpp.allSessions.size} sessions left`));
  });

  it('any mix of SASL failures counts toward the three', async () => {
    const { c } = await openStream(AUTH);
    auth(c, 'SCRAM-SHA-1');
    expect(await outcome(c)).toBe('invalid-mechanism');
    auth(c, 'PLAIN', '!!!');
    expect(await outcome(c)).toBe('incorrect-encoding');
    auth(c, 'PLAIN', plain('alice', 'nope'));
    expect(await outcome(c)).toBe('not-authorized');
    await c.expect((s) => s.name === 'stream:error');
    await c.waitClosed();
  });

  it('bad base64 gets incorrect-encoding', async () => {
    expect(await attempt(AUTH, 'PLAIN', 'not base64!')).toBe('incorrect-encoding');
    expect(await attempt(AUTH, 'PLAIN', '%%%%')).toBe('incorrect-encoding');
    expect(await attempt(AUTH, 'PLAIN', 'YWxp=Y2U=')).toBe('incorrect-encoding');
  });

  it('an empty or malformed response gets malformed-request', async () => {
    expect(await attempt(AUTH, 'PLAIN', '')).toBe('malformed-request');
    expect(await attempt(AUTH, 'PLAIN', '=')).toBe('malformed-request');
    expect(await attempt(AUTH, 'PLAIN', b64('alice\0s3cret'))).toBe('malformed-request'); // two parts
    expect(await attempt(AUTH, 'PLAIN', b64('a\0alice\0s3cret\0x'))).toBe('malformed-request'); // four parts
  });

  it('is refused on the anonymous-only main domain (no accounts there)', async () => {
    expect(await attempt(srv.domain, 'PLAIN', plain('alice', PASSWORD))).toBe('invalid-mechanism');
  });
});

describe('other SASL failures', () => {
  it('an unknown or missing mechanism gets invalid-mechanism', async () => {
    expect(await attempt(AUTH, 'SCRAM-SHA-1')).toBe('invalid-mechanism');
    expect(await attempt(srv.domain, 'DIGEST-MD5')).toBe('invalid-mechanism');
    expect(await attempt(srv.domain, 'anonymous')).toBe('invalid-mechanism'); // mechanism names are case-sensitive
    expect(await attempt(srv.domain, undefined)).toBe('invalid-mechanism');
  });

  it('<abort/> gets aborted, and a stray SASL element malformed-request', async () => {
    const { c } = await openStream(srv.domain);
    c.sendRaw(`<abort xmlns="${NS_SASL}"/>`);
    expect(await outcome(c)).toBe('aborted');
    c.sendRaw(`<response xmlns="${NS_SASL}">AAAA</response>`);
    expect(await outcome(c)).toBe('malformed-request');
    c.close();
  });
});

describe('logging', () => {
  it('a failed login never logs the username or the password (even at debug level)', async () => {
    // Warm up: make sure debug logging actually records session activity.
    await attempt(srv.domain, 'ANONYMOUS');
    expect(srv.logs.length).toBeGreaterThan(0);
    const before = srv.logs.length;
    const secrets = ['alice', 'mallory', 'wrong-horse', 'hunter2'];
    expect(await attempt(AUTH, 'PLAIN', plain('alice', 'wrong-horse'))).toBe('not-authorized');
    expect(await attempt(AUTH, 'PLAIN', plain('mallory', 'hunter2'))).toBe('not-authorized');
    expect(await attempt(AUTH, 'PLAIN', plain('alice', 'hunter2', `mallory@${AUTH}`))).toBe('invalid-authzid');
    const payloads = [plain('alice', 'wrong-horse'), plain('mallory', 'hunter2')];
    // Three failures on one stream (closing it) too.
    const { c } = await openStream(AUTH);
    for (let i = 0; i < 3; i++) {
      auth(c, 'PLAIN', plain('alice', 'hunter2'));
      await outcome(c);
    }
    await c.waitClosed();
    await waitFor(() => (srv.xmpp.allSessions.size === 0 ? undefined : 'sessions left'));
    const logged = srv.logs.slice(before);
    expect(logged.some((l) => l.msg === 'authentication failed')).toBe(true);
    const text = JSON.stringify(logged);
    for (const s of [...secrets, ...payloads]) expect(text, `log contains ${s}`).not.toContain(s);
  });

  it('a successful login does not log the password either', async () => {
    const c = await TestClient.open(srv.wsUrl);
    await c.login(AUTH, 'PLAIN', plain('alice', PASSWORD));
    c.close();
    await c.waitClosed();
    const text = JSON.stringify(srv.logs);
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(plain('alice', PASSWORD));
  });
});

function parseOne(data: string): Element {
  const els: Element[] = [];
  new XmlStreamParser('framed', { element: (e) => void els.push(e), error: (e) => { throw e; } }).write(data);
  return els[0] as Element;
}

describe('PLAIN on an insecure transport (no socket: a fake unencrypted transport)', () => {
  function insecureSession() {
    const config = xmppConfigSchema.parse({ c2s: { port: null }, accounts: [{ jid: `alice@${AUTH}`, password: PASSWORD }] });
    const server = createXmppServer({ config, log: pino({ level: 'silent' }) });
    const out: Element[] = [];
    const parser = new XmlStreamParser('framed', { element: (el) => void out.push(el), error: (e) => { throw e; } });
    let closed = false;
    const transport: Transport = {
      kind: 'tcp',
      secure: false,
      remoteAddress: undefined,
      canStartTls: false,
      sendOpen: () => {},
      send: (data) => parser.write(data),
      close: () => void (closed = true),
    };
    const session = new Session(server, transport);
    server.registerSession(session);
    return { session, out, isClosed: () => closed };
  }

  it('PLAIN is not offered and is refused with encryption-required', async () => {
    const { session, out, isClosed } = insecureSession();
    session.streamOpened({ to: AUTH, version: '1.0' });
    const features = out.find((e) => e.name === 'stream:features');
    expect(features?.getChild('mechanisms')?.getChildren('mechanism').map((m) => m.getText())).toEqual([]);
    session.receive(parseOne(`<auth xmlns="${NS_SASL}" mechanism="PLAIN">${plain('alice', PASSWORD)}</auth>`));
    const failure = out.find((e) => e.name === 'failure');
    expect(failure?.getChild('encryption-required')).toBeDefined();
    expect(session.state).toBe('connected');
    expect(isClosed()).toBe(false);
  });
});
