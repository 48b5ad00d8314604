/**
 * XEP-0199 in both directions: the server answers client pings on every host, and pings idle clients itself
 * (XMPP ping IQ plus a WebSocket ping frame), dropping the silent ones.
 *
 * The test config sets pingIntervalSeconds and pingTimeoutSeconds to 1, so the liveness timer ticks every 500 ms.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type Element, NS_FRAMING, NS_SASL, NS_STANZAS, NS_STREAM_ERRORS, XmlStreamParser } from '../src/index.js';
import { TestClient } from './client.js';
import { type TestServer, startTestServer, waitFor } from './helpers.js';

const PING = 'urn:xmpp:ping';
const WAIT = 10_000;

let srv: TestServer;
beforeEach(async () => {
  srv = await startTestServer({ pingIntervalSeconds: 1, pingTimeoutSeconds: 1 });
});
afterEach(async () => {
  await srv.stop();
});

const isServerPing = (e: Element) => e.name === 'iq' && e.attrs.type === 'get' && e.getChild('ping')?.attrs.xmlns === PING;

/**
 * A WebSocket XMPP client whose liveness behaviour the test controls: `autoPong` (the ws library answering
 * WebSocket pings) and `answerPings` (answering XMPP ping IQs). Listeners are attached before the handshake.
 */
class ScriptedClient {
  readonly ws: WebSocket;
  readonly received: Element[] = [];
  /** WebSocket ping frames received from the server. */
  wsPings = 0;
  closed = false;
  closeCode: number | undefined;
  jid = '';
  answerPings: boolean;
  readonly #opened: Promise<void>;

  constructor(url: string, opts: { autoPong: boolean; answerPings: boolean }) {
    this.answerPings = opts.answerPings;
    this.ws = new WebSocket(url, 'xmpp', { autoPong: opts.autoPong });
    const parser = new XmlStreamParser('framed', {
      element: (el) => {
        this.received.push(el);
        if (this.answerPings && isServerPing(el)) {
          this.ws.send(`<iq xmlns="jabber:client" type="result" id="${el.attrs.id}" to="${el.attrs.from}"/>`);
        }
      },
      error: (err) => {
        throw err;
      },
    });
    this.ws.on('message', (d) => parser.write(d.toString()));
    this.ws.on('ping', () => void this.wsPings++);
    this.ws.on('error', () => {});
    this.ws.on('close', (code) => {
      this.closed = true;
      this.closeCode = code;
    });
    this.#opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
  }

  opened(): Promise<void> {
    return this.#opened;
  }

  send(data: string): void {
    this.ws.send(data);
  }

  async next(match: (e: Element) => boolean, from = 0): Promise<Element> {
    let found: Element | undefined;
    await waitFor(() => {
      found = this.received.slice(from).find(match);
      return found ? undefined : 'not received';
    }, WAIT);
    return found as Element;
  }

  /** Open, authenticate anonymously, restart and bind. */
  async login(domain: string): Promise<void> {
    await this.opened();
    const open = `<open xmlns="${NS_FRAMING}" to="${domain}" version="1.0"/>`;
    this.send(open);
    await this.next((e) => e.name === 'stream:features');
    this.send(`<auth xmlns="${NS_SASL}" mechanism="ANONYMOUS"/>`);
    await this.next((e) => e.name === 'success');
    const mark = this.received.length;
    this.send(open);
    await this.next((e) => e.name === 'stream:features', mark);
    this.send(`<iq xmlns="jabber:client" type="set" id="bind"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"/></iq>`);
    const r = await this.next((e) => e.name === 'iq' && e.attrs.id === 'bind');
    this.jid = r.getChild('bind')?.getChildText('jid') ?? '';
  }

  pingsReceived(): Element[] {
    return this.received.filter(isServerPing);
  }
}

/** The client got a connection-timeout stream error and <close/>, and its socket is closed. */
async function expectTimedOut(received: Element[], isClosed: () => boolean): Promise<void> {
  await waitFor(() => (isClosed() ? undefined : 'socket still open'), WAIT);
  const err = received.find((e) => e.name === 'stream:error');
  expect(err?.getChild('connection-timeout')?.attrs.xmlns).toBe(NS_STREAM_ERRORS);
  expect(received[received.length - 1]?.name).toBe('close');
}

async function expectNoSessions(): Promise<void> {
  await waitFor(
    () => (srv.xmpp.allSessions.size === 0 && srv.xmpp.sessions.size === 0 ? undefined : `sessions: ${srv.xmpp.allSessions.size}/${srv.xmpp.sessions.size}`),
    WAIT,
  );
}

describe('client → server pings', () => {
  it('are answered on every host: main domain, auth domain, MUC domain', async () => {
    const c = await TestClient.connect(srv);
    for (const host of [srv.domain, srv.xmpp.domains.authDomain, srv.muc]) {
      const id = c.nextId();
      const r = await c.iq(`<iq type="get" id="${id}" to="${host}"><ping xmlns="${PING}"/></iq>`);
      expect(r.attrs.type, host).toBe('result');
      expect(r.attrs.from).toBe(host);
      expect(r.attrs.to).toBe(c.jid);
    }
    c.close();
  });

  it('to one\'s own bare JID are answered by the server; to another user\'s bare JID are not', async () => {
    const a = await TestClient.connect(srv);
    const b = await TestClient.connect(srv);
    const own = a.jid.split('/')[0] as string;
    const r = await a.iq(`<iq type="get" id="self" to="${own}"><ping xmlns="${PING}"/></iq>`);
    expect(r.attrs.type).toBe('result');
    const other = b.jid.split('/')[0] as string;
    const r2 = await a.iq(`<iq type="get" id="other" to="${other}"><ping xmlns="${PING}"/></iq>`);
    expect(r2.attrs.type).toBe('error');
    expect(r2.getChild('error')?.getChild('service-unavailable')?.attrs.xmlns).toBe(NS_STANZAS);
    a.close();
    b.close();
  });

  it('with no `to` (the own account) are answered', async () => {
    const c = await TestClient.connect(srv);
    const r = await c.iq(`<iq type="get" id="noto"><ping xmlns="${PING}"/></iq>`);
    expect(r.attrs.type).toBe('result');
    c.close();
  });
});

describe('server → client liveness', () => {
  it('a silent client (no WebSocket pong, no XMPP ping answer) is pinged, then disconnected and forgotten', async () => {
    const c = new ScriptedClient(srv.wsUrl, { autoPong: false, answerPings: false });
    await c.login(srv.domain);
    expect(srv.xmpp.sessions.has(c.jid)).toBe(true);
    const ping = await c.next(isServerPing);
    expect(ping.attrs.from).toBe(srv.domain);
    expect(ping.attrs.to).toBe(c.jid);
    await expectTimedOut(c.received, () => c.closed);
    // Both probes were sent before the close.
    expect(c.wsPings).toBeGreaterThanOrEqual(1);
    expect(c.received.indexOf(ping)).toBeLessThan(c.received.findIndex((e) => e.name === 'stream:error'));
    expect(c.closeCode).toBe(1000);
    expect(srv.xmpp.sessions.has(c.jid)).toBe(false);
    await expectNoSessions();
    expect(srv.xmpp.sessionsByBare.size).toBe(0);
  });

  it('a client that answers XMPP pings (but not WebSocket pings) survives several intervals', async () => {
    const c = new ScriptedClient(srv.wsUrl, { autoPong: false, answerPings: true });
    await c.login(srv.domain);
    await waitFor(() => (c.pingsReceived().length >= 2 ? undefined : `${c.pingsReceived().length} pings so far`), WAIT);
    expect(c.closed).toBe(false);
    expect(srv.xmpp.sessions.has(c.jid)).toBe(true);
    expect(c.received.some((e) => e.name === 'stream:error')).toBe(false);
    // The session is still fully usable.
    c.send(`<iq xmlns="jabber:client" type="get" id="still" to="${srv.domain}"><ping xmlns="${PING}"/></iq>`);
    expect((await c.next((e) => e.name === 'iq' && e.attrs.id === 'still')).attrs.type).toBe('result');
    // Once it stops answering, it is dropped.
    c.answerPings = false;
    await expectTimedOut(c.received, () => c.closed);
    await expectNoSessions();
  });

  it('a client whose WebSocket library auto-pongs survives several intervals without answering XMPP pings', async () => {
    const c = new ScriptedClient(srv.wsUrl, { autoPong: true, answerPings: false });
    await c.login(srv.domain);
    await waitFor(() => (c.pingsReceived().length >= 2 ? undefined : `${c.pingsReceived().length} pings so far`), WAIT);
    expect(c.wsPings).toBeGreaterThanOrEqual(2);
    expect(c.closed).toBe(false);
    expect(srv.xmpp.sessions.has(c.jid)).toBe(true);
    expect(c.received.some((e) => e.name === 'stream:error')).toBe(false);
  });

  it('the same holds for the regular test client (ws defaults)', async () => {
    const c = await TestClient.connect(srv);
    await waitFor(() => (c.all(isServerPing).length >= 2 ? undefined : `${c.all(isServerPing).length} pings so far`), WAIT);
    expect(c.closed).toBe(false);
    expect(srv.xmpp.sessions.has(c.jid)).toBe(true);
    c.close();
  });

  it('a connected but never authenticated socket is closed after the idle interval', async () => {
    const c = new ScriptedClient(srv.wsUrl, { autoPong: true, answerPings: true });
    await c.opened();
    await waitFor(() => (srv.xmpp.allSessions.size === 1 ? undefined : 'session not registered'));
    await expectTimedOut(c.received, () => c.closed);
    await expectNoSessions();
  });

  it('a socket that opened the stream but never authenticated is closed after the idle interval', async () => {
    const c = new ScriptedClient(srv.wsUrl, { autoPong: true, answerPings: true });
    await c.opened();
    c.send(`<open xmlns="${NS_FRAMING}" to="${srv.domain}" version="1.0"/>`);
    await c.next((e) => e.name === 'stream:features');
    await expectTimedOut(c.received, () => c.closed);
    expect(c.received.some((e) => e.name === 'success')).toBe(false);
    await expectNoSessions();
  });

  it('a client that authenticated but never bound a resource is closed after the idle interval', async () => {
    const c = new ScriptedClient(srv.wsUrl, { autoPong: true, answerPings: true });
    await c.opened();
    c.send(`<open xmlns="${NS_FRAMING}" to="${srv.domain}" version="1.0"/>`);
    await c.next((e) => e.name === 'stream:features');
    c.send(`<auth xmlns="${NS_SASL}" mechanism="ANONYMOUS"/>`);
    await c.next((e) => e.name === 'success');
    await expectTimedOut(c.received, () => c.closed);
    await expectNoSessions();
  });

  it('one silent client being dropped does not affect a live one', async () => {
    const live = new ScriptedClient(srv.wsUrl, { autoPong: false, answerPings: true });
    const silent = new ScriptedClient(srv.wsUrl, { autoPong: false, answerPings: false });
    await Promise.all([live.login(srv.domain), silent.login(srv.domain)]);
    await expectTimedOut(silent.received, () => silent.closed);
    expect(live.closed).toBe(false);
    expect(srv.xmpp.sessions.has(live.jid)).toBe(true);
    await waitFor(() => (srv.xmpp.allSessions.size === 1 ? undefined : `${srv.xmpp.allSessions.size} sessions`), WAIT);
    live.send(`<iq xmlns="jabber:client" type="get" id="after" to="${srv.domain}"><ping xmlns="${PING}"/></iq>`);
    expect((await live.next((e) => e.name === 'iq' && e.attrs.id === 'after')).attrs.type).toBe('result');
  });
});
