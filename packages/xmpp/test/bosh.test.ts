/**
 * BOSH (XEP-0124 / XEP-0206) at the HTTP level: raw POSTs with fetch against a real loopback server.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Element, type XmppConfigInput, XmlStreamParser } from '../src/index.js';
import { TestClient } from './client.js';
import { type TestServer, startTestServer, waitFor } from './helpers.js';

const NS_HTTPBIND = 'http://jabber.org/protocol/httpbind';
const XBOSH = 'xmlns:xmpp="urn:xmpp:xbosh"';

let srv: TestServer | undefined;
afterEach(async () => {
  await srv?.stop();
  srv = undefined;
});

async function start(config: XmppConfigInput = {}): Promise<TestServer> {
  srv = await startTestServer(config);
  return srv;
}

function parse(text: string): Element {
  let out: Element | undefined;
  const p = new XmlStreamParser('framed', {
    element: (el) => {
      out = el;
    },
    error: (err) => {
      throw err;
    },
  }, { maxStanzaSize: 10_000_000 });
  p.write(text);
  if (!out) throw new Error(`no element in ${JSON.stringify(text)}`);
  return out;
}

interface Reply {
  status: number;
  text: string;
  body: Element;
  headers: Headers;
}

async function post(url: string, data: string, init: RequestInit = {}): Promise<Reply> {
  const r = await fetch(url, { method: 'POST', body: data, headers: { 'Content-Type': 'text/xml; charset=utf-8' }, ...init });
  const text = await r.text();
  return { status: r.status, text, body: text ? parse(text) : parse('<empty/>'), headers: r.headers };
}

const children = (el: Element) => el.children.filter((c): c is Element => typeof c !== 'string');

/** A scripted BOSH client speaking exactly like strophe.js (PROTOCOL.md §2.2). */
class RawBosh {
  sid = '';
  rid: number;
  jid = '';
  constructor(readonly s: TestServer) {
    this.rid = 1_000_000 + Math.floor(Math.random() * 1_000_000);
  }

  async create(extra = 'wait="60" hold="1"'): Promise<Reply> {
    const r = await post(this.s.boshUrl, `<body rid="${this.rid}" xmlns="${NS_HTTPBIND}" to="${this.s.domain}" xml:lang="en" ${extra} content="text/xml; charset=utf-8" ver="1.6" xmpp:version="1.0" ${XBOSH}/>`);
    this.sid = r.body.attrs.sid ?? '';
    return r;
  }

  /** Body XML for the next rid (not sent). */
  body(payload = '', attrs = '', rid = ++this.rid): string {
    return `<body rid="${rid}" sid="${this.sid}" xmlns="${NS_HTTPBIND}"${attrs ? ` ${attrs}` : ''}${payload ? `>${payload}</body>` : '/>'}`;
  }

  send(payload = '', attrs = ''): Promise<Reply> {
    return post(this.s.boshUrl, this.body(payload, attrs));
  }

  /** Anonymous SASL, restart and bind (what strophe does); leaves no request held. */
  async login(extra?: string): Promise<void> {
    await this.create(extra);
    const auth = await this.send('<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="ANONYMOUS"/>');
    expect(children(auth.body)[0]?.name).toBe('success');
    const restart = await this.send('', `to="${this.s.domain}" xml:lang="en" xmpp:restart="true" ${XBOSH}`);
    const features = children(restart.body)[0];
    expect(features?.name).toBe('stream:features');
    expect(features?.getChild('bind')?.attrs.xmlns).toBe('urn:ietf:params:xml:ns:xmpp-bind');
    const bind = await this.send('<iq type="set" id="_bind_auth_2" xmlns="jabber:client"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/></iq>');
    this.jid = children(bind.body)[0]?.getChild('bind')?.getChildText('jid') ?? '';
  }

  get state() {
    return this.s.xmpp.bosh.inspect(this.sid);
  }
}

const noBosh = (s: TestServer) => () => (s.xmpp.bosh.size === 0 && s.xmpp.allSessions.size === 0 && s.xmpp.sessions.size === 0 ? undefined : `bosh ${s.xmpp.bosh.size}, sessions ${s.xmpp.allSessions.size}`);

describe('HTTP surface', () => {
  it('answers CORS preflight, GET and other methods', async () => {
    const s = await start();
    const pre = await fetch(s.boshUrl, { method: 'OPTIONS', headers: { Origin: 'https://meet.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
    expect(pre.headers.get('access-control-allow-methods')).toContain('POST');
    expect(pre.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('content-type');
    expect(pre.headers.get('access-control-allow-credentials')).toBeNull();
    const get = await fetch(s.boshUrl);
    expect(get.status).toBe(200);
    expect(get.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await get.text()).toContain('BOSH');
    const put = await fetch(s.boshUrl, { method: 'PUT', body: 'x' });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toContain('POST');
  });
});

describe('session creation (XEP-0124 §7, XEP-0206 §4)', () => {
  it('responds with the session attributes and the stream features', async () => {
    const s = await start({ bosh: { inactivitySeconds: 30 } });
    const c = new RawBosh(s);
    const r = await c.create('wait="30" hold="1"');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/xml; charset=utf-8');
    expect(r.headers.get('access-control-allow-origin')).toBe('*');
    expect(r.text).toMatch(/^<body xmlns="http:\/\/jabber.org\/protocol\/httpbind"/);
    const a = r.body.attrs;
    expect(a.sid).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(a).toMatchObject({
      'xmlns:xmpp': 'urn:xmpp:xbosh',
      'xmlns:stream': 'http://etherx.jabber.org/streams',
      wait: '30',
      requests: '2',
      hold: '1',
      inactivity: '30',
      polling: '5',
      ver: '1.6',
      from: s.domain,
      'xmpp:version': '1.0',
      'xmpp:restartlogic': 'true',
    });
    expect(a.authid).toBe(c.state?.session.id);
    expect(a.type).toBeUndefined();
    const features = children(r.body);
    expect(features.map((f) => f.name)).toEqual(['stream:features']);
    expect(features[0]?.getChild('mechanisms')?.getChildText('mechanism')).toBe('ANONYMOUS');
    // A second session gets a different, unpredictable sid.
    const c2 = new RawBosh(s);
    await c2.create();
    expect(c2.sid).not.toBe(c.sid);
    expect(s.xmpp.bosh.size).toBe(2);
  });

  it('clamps wait and hold to the configuration', async () => {
    const s = await start({ bosh: { maxWaitSeconds: 20, maxHold: 2 } });
    const r = await new RawBosh(s).create('wait="600" hold="5"');
    expect(r.body.attrs).toMatchObject({ wait: '20', hold: '2', requests: '3' });
  });

  it('terminates host-unknown for an unknown domain and improper-addressing without to', async () => {
    const s = await start();
    const r = await post(s.boshUrl, `<body rid="1" xmlns="${NS_HTTPBIND}" to="nowhere.example" wait="60" hold="1" ver="1.6" xmpp:version="1.0" ${XBOSH}/>`);
    expect(r.status).toBe(200);
    expect(r.body.attrs).toMatchObject({ type: 'terminate', condition: 'host-unknown' });
    const r2 = await post(s.boshUrl, `<body rid="1" xmlns="${NS_HTTPBIND}" wait="60" hold="1" ver="1.6"/>`);
    expect(r2.body.attrs).toMatchObject({ type: 'terminate', condition: 'improper-addressing' });
    await waitFor(noBosh(s));
  });

  it('counts a BOSH session against the per-address connection limit', async () => {
    const s = await start({ limits: { maxConnectionsPerAddress: 1 } });
    const a = new RawBosh(s);
    await a.create();
    const b = await new RawBosh(s).create();
    expect(b.body.attrs).toMatchObject({ type: 'terminate', condition: 'policy-violation' });
    await a.send('', 'type="terminate"');
    await waitFor(noBosh(s));
    const c = await new RawBosh(s).create();
    expect(c.body.attrs.sid).toBeDefined();
  });
});

describe('SASL, restart and bind over BOSH (XEP-0206 §5)', () => {
  it('binds a full JID through xmpp:restart and routes stanzas', async () => {
    const s = await start();
    const c = new RawBosh(s);
    await c.login();
    expect(c.jid).toMatch(new RegExp(`@${s.domain.replace(/\./g, '\\.')}/.+`));
    expect(s.xmpp.sessions.get(c.jid)?.transport.kind).toBe('bosh');
    const ping = await c.send(`<iq type="get" id="p1" to="${s.domain}" xmlns="jabber:client"><ping xmlns="urn:xmpp:ping"/></iq>`);
    const iq = children(ping.body)[0];
    expect(iq?.attrs).toMatchObject({ type: 'result', id: 'p1', from: s.domain, xmlns: 'jabber:client' });
  });
});

describe('request ids (XEP-0124 §14)', () => {
  it('answers a repeated rid with the buffered response without processing it again', async () => {
    const s = await start();
    const c = new RawBosh(s);
    await c.login();
    const ws = await TestClient.connect(s);
    const data = c.body(`<message type="chat" to="${ws.jid}" xmlns="jabber:client"><body>once</body></message><iq type="get" id="p2" to="${s.domain}" xmlns="jabber:client"><ping xmlns="urn:xmpp:ping"/></iq>`);
    const first = await post(s.boshUrl, data);
    expect(children(first.body)[0]?.attrs.id).toBe('p2');
    const again = await post(s.boshUrl, data);
    expect(again.status).toBe(200);
    expect(again.text).toBe(first.text);
    // The message went out once.
    const next = await c.send(`<iq type="get" id="p3" to="${s.domain}" xmlns="jabber:client"><ping xmlns="urn:xmpp:ping"/></iq>`);
    expect(children(next.body)[0]?.attrs.id).toBe('p3');
    await ws.expect((m) => m.name === 'message');
    expect(ws.all((m) => m.name === 'message')).toHaveLength(1);
    ws.close();
  });

  it('terminates item-not-found for a rid beyond the window and for a rid no longer buffered', async () => {
    const s = await start();
    const c = new RawBosh(s);
    await c.login();
    c.rid += 2; // the window is `requests` (2) rids past the last processed one
    const far = await c.send();
    expect(far.body.attrs).toMatchObject({ type: 'terminate', condition: 'item-not-found' });
    await waitFor(noBosh(s));

    const d = new RawBosh(s);
    await d.login();
    const old = await post(s.boshUrl, d.body('', '', d.rid - 3));
    expect(old.body.attrs).toMatchObject({ type: 'terminate', condition: 'item-not-found' });
    await waitFor(noBosh(s));
  });

  it('processes requests that arrive out of order in rid order once the gap fills', async () => {
    const s = await start();
    const c = new RawBosh(s);
    await c.login('wait="1" hold="1"');
    const ws = await TestClient.connect(s);
    const msg = (t: string) => `<message type="chat" to="${ws.jid}" xmlns="jabber:client"><body>${t}</body></message>`;
    const r1 = c.rid + 1;
    const r2 = c.rid + 2;
    c.rid = r2;
    const second = post(s.boshUrl, c.body(msg('second'), '', r2));
    await waitFor(() => (c.state?.early === 1 ? undefined : 'second request not parked'));
    expect(ws.all((m) => m.name === 'message')).toHaveLength(0);
    const first = post(s.boshUrl, c.body(msg('first'), '', r1));
    const [a, b] = await Promise.all([first, second]);
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    await ws.expect((m) => m.name === 'message' && m.getChildText('body') === 'second');
    expect(ws.all((m) => m.name === 'message').map((m) => m.getChildText('body'))).toEqual(['first', 'second']);
    ws.close();
  });
});

describe('hold and wait (XEP-0124 §8)', () => {
  it('answers a held request as soon as a stanza arrives for the session', async () => {
    const s = await start();
    const c = new RawBosh(s);
    await c.login('wait="60" hold="1"');
    const poll = c.send();
    await waitFor(() => (c.state?.held === 1 ? undefined : 'poll not held'));
    const ws = await TestClient.connect(s);
    ws.send(`<message type="chat" to="${c.jid}"><body>wake up</body></message>`);
    const r = await poll;
    const m = children(r.body)[0];
    expect(m?.attrs).toMatchObject({ xmlns: 'jabber:client', from: ws.jid, to: c.jid });
    expect(m?.getChildText('body')).toBe('wake up');
    expect(c.state?.held).toBe(0);
    ws.close();
  });

  it('answers the older held request when a newer one arrives beyond hold', async () => {
    const s = await start();
    const c = new RawBosh(s);
    await c.login('wait="60" hold="1"');
    const older = c.send();
    await waitFor(() => (c.state?.held === 1 ? undefined : 'poll not held'));
    const newer = c.send();
    const r = await older;
    expect(r.text).toBe(`<body xmlns="${NS_HTTPBIND}"/>`);
    await waitFor(() => (c.state?.held === 1 && c.state.nextRid === c.rid + 1 ? undefined : 'newer not held'));
    // Ending the session releases the newer one.
    const bye = await c.send('<presence type="unavailable" xmlns="jabber:client"/>', 'type="terminate"');
    expect((await newer).body.attrs.type).toBe('terminate');
    expect(bye.text).toBe(`<body xmlns="${NS_HTTPBIND}"/>`);
  });

  it('answers an empty body after wait seconds', async () => {
    const s = await start();
    const c = new RawBosh(s);
    await c.login('wait="1" hold="1"');
    const t0 = Date.now();
    const r = await c.send();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    expect(r.status).toBe(200);
    expect(r.text).toBe(`<body xmlns="${NS_HTTPBIND}"/>`);
    expect(s.xmpp.sessions.has(c.jid)).toBe(true);
  });

  it('survives a held request whose connection the client closes', async () => {
    const s = await start();
    const c = new RawBosh(s);
    await c.login('wait="60" hold="1"');
    const ridHeld = c.rid + 1;
    const ctl = new AbortController();
    const poll = post(s.boshUrl, c.body(), { signal: ctl.signal }).catch((err: Error) => err);
    await waitFor(() => (c.state?.held === 1 ? undefined : 'poll not held'));
    ctl.abort(); // the browser navigates away / the socket dies under the held request
    expect(await poll).toBeInstanceOf(Error);
    await waitFor(() => (c.state?.held === 0 ? undefined : 'still held'));
    expect(s.xmpp.sessions.has(c.jid)).toBe(true);
    // Stanzas that arrive meanwhile are kept for the next request.
    const ws = await TestClient.connect(s);
    ws.send(`<message type="chat" to="${c.jid}"><body>kept</body></message>`);
    await waitFor(() => (c.state?.queued === 1 ? undefined : 'not queued'));
    // A re-send of the lost rid gets what it would have got (an empty body), the next one the message.
    const replay = await post(s.boshUrl, c.body('', '', ridHeld));
    expect(replay.text).toBe(`<body xmlns="${NS_HTTPBIND}"/>`);
    const next = await c.send();
    expect(children(next.body)[0]?.getChildText('body')).toBe('kept');
    ws.close();
  });
});

describe('ending sessions', () => {
  it('processes the payload of a client terminate, then ends the session', async () => {
    const s = await start();
    const c = new RawBosh(s);
    await c.login();
    const ws = await TestClient.connect(s);
    const bye = await c.send(`<message type="chat" to="${ws.jid}" xmlns="jabber:client"><body>bye</body></message><presence type="unavailable" xmlns="jabber:client"/>`, 'type="terminate"');
    expect(bye.status).toBe(200);
    expect(bye.body.attrs.type).toBe('terminate');
    expect(bye.body.attrs.condition).toBeUndefined();
    expect((await ws.expect((m) => m.name === 'message')).getChildText('body')).toBe('bye');
    await waitFor(() => (s.xmpp.sessions.has(c.jid) || s.xmpp.bosh.size > 0 ? 'still there' : undefined));
    // §10: the session no longer exists.
    const after = await c.send();
    expect(after.body.attrs).toMatchObject({ type: 'terminate', condition: 'item-not-found' });
    ws.close();
  });

  it('ends sessions without requests after the inactivity period (half-open clients)', async () => {
    const s = await start({ bosh: { inactivitySeconds: 1 } });
    // One that only created its session, one that logged in and then went quiet.
    const a = new RawBosh(s);
    await a.create();
    const b = new RawBosh(s);
    await b.login('wait="60" hold="1"');
    // b sends directed presence (as to a MUC room): when it times out, the server sends unavailable for it.
    const ws = await TestClient.connect(s);
    const r0 = await b.send(`<presence to="${ws.jid}" xmlns="jabber:client"/><iq type="get" id="p" to="${s.domain}" xmlns="jabber:client"><ping xmlns="urn:xmpp:ping"/></iq>`);
    expect(children(r0.body)[0]?.attrs.id).toBe('p');
    await ws.expect((p) => p.name === 'presence' && p.attrs.from === b.jid && p.attrs.type === undefined);
    expect(s.xmpp.bosh.size).toBe(2);
    await waitFor(() => (s.xmpp.bosh.size === 0 && s.xmpp.sessions.size === 1 && s.xmpp.allSessions.size === 1 ? undefined : `bosh ${s.xmpp.bosh.size}`), 5000);
    await ws.expect((p) => p.name === 'presence' && p.attrs.from === b.jid && p.attrs.type === 'unavailable');
    ws.close();
    await waitFor(noBosh(s));
    const r = await b.send();
    expect(r.body.attrs).toMatchObject({ type: 'terminate', condition: 'item-not-found' });
  });

  it('does not count inactivity while a request is held', async () => {
    const s = await start({ bosh: { inactivitySeconds: 1 } });
    const c = new RawBosh(s);
    await c.login('wait="2" hold="1"');
    // The held poll (2 s) outlives the inactivity period (1 s); the session survives it.
    const r = await c.send();
    expect(r.text).toBe(`<body xmlns="${NS_HTTPBIND}"/>`);
    expect(s.xmpp.sessions.has(c.jid)).toBe(true);
  });

  it('turns a stream error into remote-stream-error with the <stream:error/> inside', async () => {
    const s = await start();
    const c = new RawBosh(s);
    await c.login();
    const r = await c.send(`<message to="${s.domain}" from="mallory@${s.domain}/x" xmlns="jabber:client"><body>spoof</body></message>`);
    expect(r.body.attrs).toMatchObject({ type: 'terminate', condition: 'remote-stream-error', 'xmlns:stream': 'http://etherx.jabber.org/streams' });
    const err = children(r.body).find((e) => e.name === 'stream:error');
    expect(err?.getChild('invalid-from')?.attrs.xmlns).toBe('urn:ietf:params:xml:ns:xmpp-streams');
    await waitFor(noBosh(s));
  });

  it('delivers a stream error raised between requests on the next request', async () => {
    const s = await start();
    const c = new RawBosh(s);
    await c.login();
    s.xmpp.sessions.get(c.jid)?.close(new (await import('../src/index.js')).StreamError('conflict'));
    await waitFor(noBosh(s));
    const r = await c.send();
    expect(r.body.attrs).toMatchObject({ type: 'terminate', condition: 'remote-stream-error' });
    expect(children(r.body)[0]?.getChild('conflict')).toBeDefined();
  });

  it('answers held requests with system-shutdown when the server stops', async () => {
    const s = await start();
    const c = new RawBosh(s);
    await c.login('wait="60" hold="1"');
    const poll = c.send();
    await waitFor(() => (c.state?.held === 1 ? undefined : 'poll not held'));
    await s.xmpp.stop();
    const r = await poll;
    expect(r.body.attrs).toMatchObject({ type: 'terminate', condition: 'system-shutdown' });
    expect(s.xmpp.bosh.size).toBe(0);
    const late = await new RawBosh(s).create();
    expect(late.body.attrs).toMatchObject({ type: 'terminate', condition: 'system-shutdown' });
  });
});

describe('bad requests', () => {
  it('terminates bad-request for malformed XML and a wrong root element', async () => {
    const s = await start();
    for (const bad of ['<body xmlns="http://jabber.org/protocol/httpbind" rid="1"', 'not xml at all', `<body rid="1" xmlns="${NS_HTTPBIND}"><!-- c --></body>`, `<html rid="1" xmlns="${NS_HTTPBIND}"/>`, `<body rid="1" to="${s.domain}"/>`, `<body to="${s.domain}" xmlns="${NS_HTTPBIND}"/>`]) {
      const r = await post(s.boshUrl, bad);
      expect(r.status, bad).toBe(200);
      expect(r.body.attrs, bad).toMatchObject({ type: 'terminate', condition: 'bad-request' });
    }
    expect(s.xmpp.bosh.size).toBe(0);
  });

  it('ends the session whose request body is malformed', async () => {
    const s = await start();
    const c = new RawBosh(s);
    await c.login();
    const r = await post(s.boshUrl, c.body('<message xmlns="jabber:client"><body>unclosed</message>'));
    expect(r.body.attrs).toMatchObject({ type: 'terminate', condition: 'bad-request' });
    await waitFor(noBosh(s));
  });

  it('applies the stanza limits to each payload', async () => {
    const s = await start({ limits: { maxStanzaSize: 2048 } });
    const c = new RawBosh(s);
    await c.login();
    const r = await c.send(`<message xmlns="jabber:client" to="${s.domain}"><body>${'x'.repeat(3000)}</body></message>`);
    expect(r.body.attrs).toMatchObject({ type: 'terminate', condition: 'policy-violation' });
    await waitFor(noBosh(s));
  });

  it('refuses an oversized body with 413 and ends its session', async () => {
    const s = await start({ bosh: { maxBodyBytes: 4096 } });
    const c = new RawBosh(s);
    await c.login();
    const big = c.body(`<message xmlns="jabber:client" to="${s.domain}"><body>${'x'.repeat(8000)}</body></message>`);
    // Declared length over the limit: refused before reading.
    const r = await post(s.boshUrl, big);
    expect(r.status).toBe(413);
    expect(r.body.attrs).toMatchObject({ type: 'terminate', condition: 'policy-violation' });
    // Chunked (no Content-Length): refused while reading, and the session it named is ended.
    const d = new RawBosh(s);
    await d.login();
    const body = d.body(`<message xmlns="jabber:client" to="${s.domain}"><body>${'y'.repeat(8000)}</body></message>`);
    const stream = new ReadableStream<Uint8Array>({
      start(ctl) {
        const bytes = new TextEncoder().encode(body);
        for (let i = 0; i < bytes.length; i += 1000) ctl.enqueue(bytes.slice(i, i + 1000));
        ctl.close();
      },
    });
    const r2 = await post(s.boshUrl, '', { body: stream, duplex: 'half' } as RequestInit);
    expect(r2.status).toBe(413);
    await waitFor(() => (s.xmpp.sessions.has(d.jid) ? 'session still there' : undefined));
  });

  it('terminates item-not-found for an unknown sid (HTTP 404 for a legacy client)', async () => {
    const s = await start();
    const r = await post(s.boshUrl, `<body rid="5" sid="nope" xmlns="${NS_HTTPBIND}"/>`);
    expect(r.status).toBe(200);
    expect(r.body.attrs).toMatchObject({ type: 'terminate', condition: 'item-not-found' });
    // A client without ver (XEP-0124 §17.1) gets the deprecated HTTP code for binding errors of its session.
    const legacy = new RawBosh(s);
    const created = await post(s.boshUrl, `<body rid="${legacy.rid}" xmlns="${NS_HTTPBIND}" to="${s.domain}" wait="60" hold="1"/>`);
    legacy.sid = created.body.attrs.sid ?? '';
    expect(created.body.attrs.ver).toBe('1.11');
    legacy.rid += 5;
    const far = await legacy.send();
    expect(far.status).toBe(404);
    await waitFor(noBosh(s));
  });
});

describe('flow control', () => {
  it('gives a re-sent held rid the answer and the old connection a recoverable error', async () => {
    const s = await start();
    const c = new RawBosh(s);
    await c.login('wait="60" hold="1"');
    const data = c.body();
    const first = post(s.boshUrl, data);
    await waitFor(() => (c.state?.held === 1 ? undefined : 'poll not held'));
    const second = post(s.boshUrl, data);
    const old = await first;
    expect(old.body.attrs.type).toBe('error');
    const ws = await TestClient.connect(s);
    ws.send(`<message type="chat" to="${c.jid}"><body>to the new one</body></message>`);
    expect(children((await second).body)[0]?.getChildText('body')).toBe('to the new one');
    ws.close();
  });

  it('delays, but does not drop, requests over the byte rate', async () => {
    const s = await start({ limits: { bytesPerSecond: 1024, burstBytes: 1024 } });
    const c = new RawBosh(s);
    await c.login();
    const ws = await TestClient.connect(s);
    const t0 = Date.now();
    const r = await c.send(`<message type="chat" to="${ws.jid}" xmlns="jabber:client"><body>${'z'.repeat(1500)}</body></message><iq type="get" id="rl" to="${s.domain}" xmlns="jabber:client"><ping xmlns="urn:xmpp:ping"/></iq>`);
    expect(children(r.body)[0]?.attrs.id).toBe('rl');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
    expect((await ws.expect((m) => m.name === 'message')).getChildText('body')).toHaveLength(1500);
    expect(s.xmpp.sessions.has(c.jid)).toBe(true);
    ws.close();
  });
});
