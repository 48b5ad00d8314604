/**
 * XEP-0114 component connections over real loopback sockets: handshake, routing both ways, errors while
 * disconnected, spoofing, duplicates and liveness.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TestClient } from './client.js';
import { type TestServer, startTestServer, waitFor } from './helpers.js';
import { RawStream } from './tcp-stream.js';

const COMP = 'comp.meet.jitsi';
const SECRET = 's3cret';
let srv: TestServer | undefined;
const streams: RawStream[] = [];

afterEach(async () => {
  for (const s of streams.splice(0)) s.destroy();
  await srv?.stop();
  srv = undefined;
});

async function start(overrides: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  srv = await startTestServer({ componentPort: 0, components: [{ domain: COMP, secret: SECRET }], ...overrides });
  return srv;
}

async function component(s: TestServer, domain = COMP, secret: string | null = SECRET): Promise<RawStream> {
  const c = await RawStream.connect(s.xmpp.componentPort as number);
  streams.push(c);
  await c.component(domain, secret ?? undefined);
  return c;
}

async function connected(s: TestServer): Promise<RawStream> {
  const c = await component(s);
  await c.expect((el) => el.name === 'handshake');
  return c;
}

const errorCondition = (el: { getChild(name: string): { children: unknown[] } | undefined }) =>
  (el.getChild('error')?.children.find((c) => typeof c !== 'string') as { name: string } | undefined)?.name;

describe('XEP-0114 components', () => {
  it('registers the component domain as a host at construction', async () => {
    const s = await start();
    expect(s.xmpp.hosts.get(COMP)?.kind).toBe('component');
    expect(s.xmpp.componentPort).toBeGreaterThan(0);
  });

  it('handshakes, receives an IQ from a WebSocket client, answers it, and can send to the client', async () => {
    const s = await start();
    const comp = await component(s);
    const header = comp.headers[0] as Record<string, string>;
    expect(comp.raw).toMatch(/^<\?xml version='1.0'\?><stream:stream xmlns='jabber:component:accept' xmlns:stream='http:\/\/etherx.jabber.org\/streams' id='[0-9a-f]+' from='comp.meet.jitsi'>/);
    expect(header.id).toMatch(/^[0-9a-f]{24}$/);
    const ok = await comp.expect((el) => el.name === 'handshake');
    expect(ok.children).toHaveLength(0);
    await waitFor(() => (s.xmpp.hosts.get(COMP)?.external ? undefined : 'not connected'));

    const client = await TestClient.connect(s);
    client.send(`<iq type="get" id="q1" to="${COMP}"><query xmlns="urn:example:colibri"/></iq>`);
    const got = await comp.expect((el) => el.name === 'iq' && el.attrs.id === 'q1');
    expect(got.attrs.from).toBe(client.jid);
    expect(got.attrs.xmlns).toBeUndefined(); // inherits jabber:component:accept from the stream
    expect(got.getChild('query')?.attrs.xmlns).toBe('urn:example:colibri');
    comp.send(`<iq type='result' id='q1' from='${COMP}' to='${client.jid}'><query xmlns='urn:example:colibri'><answer>42</answer></query></iq>`);
    const reply = await client.expect((el) => el.name === 'iq' && el.attrs.id === 'q1');
    expect(reply.attrs.type).toBe('result');
    expect(reply.attrs.from).toBe(COMP);
    expect(reply.attrs.xmlns).toBe('jabber:client');
    expect(reply.getChild('query')?.getChildText('answer')).toBe('42');

    // From a JID at the component domain, with an explicit namespace.
    comp.send(`<message xmlns='jabber:component:accept' from='bot@${COMP}/x' to='${client.jid}' id='m1'><body>hi</body></message>`);
    const msg = await client.expect((el) => el.name === 'message' && el.attrs.id === 'm1');
    expect(msg.attrs.from).toBe(`bot@${COMP}/x`);
    expect(msg.attrs.xmlns).toBe('jabber:client');
    client.close();
  });

  it('gets error replies for what it sends to nowhere, and bad-request without a to', async () => {
    const s = await start();
    const comp = await connected(s);
    comp.send(`<iq type='get' id='e1' from='${COMP}' to='nobody@${s.domain}/gone'><ping xmlns='urn:xmpp:ping'/></iq>`);
    const e1 = await comp.expect((el) => el.attrs.id === 'e1');
    expect(e1.attrs.type).toBe('error');
    expect(errorCondition(e1)).toBe('service-unavailable');
    expect(e1.attrs.xmlns).toBeUndefined();
    comp.send(`<iq type='get' id='e2' from='${COMP}'><ping xmlns='urn:xmpp:ping'/></iq>`);
    const e2 = await comp.expect((el) => el.attrs.id === 'e2');
    expect(errorCondition(e2)).toBe('bad-request');
    // A server entity answers the component too.
    comp.send(`<iq type='get' id='e3' from='${COMP}' to='${s.domain}'><ping xmlns='urn:xmpp:ping'/></iq>`);
    expect((await comp.expect((el) => el.attrs.id === 'e3')).attrs.type).toBe('result');
  });

  it('a wrong secret gets not-authorized and the domain stays unserved', async () => {
    const s = await start();
    const comp = await component(s, COMP, 'wrong');
    expect(await comp.streamError()).toBe('not-authorized');
    await comp.waitClosed();
    expect(s.xmpp.hosts.get(COMP)?.external).toBeUndefined();
    expect(JSON.stringify(s.logs)).not.toContain(SECRET);
  });

  it('stanzas before the handshake get not-authorized', async () => {
    const s = await start();
    const comp = await component(s, COMP, null);
    comp.send(`<message from='${COMP}' to='x@${s.domain}'/>`);
    expect(await comp.streamError()).toBe('not-authorized');
    await comp.waitClosed();
  });

  it('an unknown component domain gets host-unknown; a wrong namespace gets invalid-namespace', async () => {
    const s = await start();
    const comp = await component(s, 'other.meet.jitsi', SECRET);
    expect(await comp.streamError()).toBe('host-unknown');
    await comp.waitClosed();
    const c2 = await RawStream.connect(s.xmpp.componentPort as number);
    streams.push(c2);
    c2.send(`<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='${COMP}'>`);
    expect(await c2.streamError()).toBe('invalid-namespace');
    await c2.waitClosed();
  });

  it('a stanza with a spoofed from ends the stream with invalid-from', async () => {
    const s = await start();
    const comp = await connected(s);
    const client = await TestClient.connect(s);
    comp.send(`<message from='admin@${s.domain}' to='${client.jid}' id='spoof'><body>trust me</body></message>`);
    expect(await comp.streamError()).toBe('invalid-from');
    await comp.waitClosed();
    expect(client.all((el) => el.attrs.id === 'spoof')).toHaveLength(0);
    await waitFor(() => (s.xmpp.hosts.get(COMP)?.external === undefined ? undefined : 'still connected'));
    client.close();
  });

  it('an IQ to the component while it is disconnected gets service-unavailable (before and after a connection)', async () => {
    const s = await start();
    const client = await TestClient.connect(s);
    const r1 = await client.iq(`<iq type="get" id="d1" to="${COMP}"><query xmlns="urn:example:q"/></iq>`);
    expect(r1.attrs.type).toBe('error');
    expect(r1.getChild('error')?.attrs.type).toBe('wait');
    expect(r1.getChild('error')?.getChild('service-unavailable')).toBeDefined();
    const m1 = client.expect((el) => el.name === 'message' && el.attrs.id === 'dm');
    client.send(`<message type="chat" to="x@${COMP}" id="dm"><body>anyone?</body></message>`);
    expect((await m1).attrs.type).toBe('error');

    const comp = await connected(s);
    client.send(`<iq type="get" id="d2" to="${COMP}"><query xmlns="urn:example:q"/></iq>`);
    await comp.expect((el) => el.attrs.id === 'd2');
    comp.send('</stream:stream>');
    await comp.waitClosed();
    await waitFor(() => (s.xmpp.hosts.get(COMP)?.external === undefined ? undefined : 'still connected'));
    const r3 = await client.iq(`<iq type="get" id="d3" to="${COMP}"><query xmlns="urn:example:q"/></iq>`);
    expect(r3.getChild('error')?.getChild('service-unavailable')).toBeDefined();
    client.close();
  });

  it('refuses a second connection for a connected domain with conflict and keeps the first', async () => {
    const s = await start();
    const first = await connected(s);
    const second = await component(s);
    expect(await second.streamError()).toBe('conflict');
    await second.waitClosed();
    const client = await TestClient.connect(s);
    client.send(`<iq type="get" id="k1" to="${COMP}"><query xmlns="urn:example:q"/></iq>`);
    await first.expect((el) => el.attrs.id === 'k1');
    // Once the first is gone, the domain is free again.
    first.destroy();
    await waitFor(() => (s.xmpp.hosts.get(COMP)?.external === undefined ? undefined : 'still connected'));
    const third = await connected(s);
    client.send(`<iq type="get" id="k2" to="${COMP}"><query xmlns="urn:example:q"/></iq>`);
    await third.expect((el) => el.attrs.id === 'k2');
    client.close();
  });

  it('pings an idle component; one that answers stays, a silent one is dropped', async () => {
    const s = await start({ pingIntervalSeconds: 1, pingTimeoutSeconds: 1 });
    const comp = await connected(s);
    const ping = await comp.expect((el) => el.name === 'iq' && el.getChild('ping') !== undefined);
    expect(ping.attrs.from).toBe(s.domain);
    expect(ping.attrs.to).toBe(COMP);
    comp.send(`<iq type='result' id='${ping.attrs.id}' from='${COMP}' to='${s.domain}'/>`);
    const ping2 = await comp.expect((el) => el.name === 'iq' && el.getChild('ping') !== undefined);
    expect(comp.closed).toBe(false);
    expect(ping2.attrs.id).not.toBe(ping.attrs.id);
    expect(await comp.streamError()).toBe('connection-timeout');
    await comp.waitClosed();
    await waitFor(() => (s.xmpp.hosts.get(COMP)?.external === undefined ? undefined : 'still connected'));
  });

  it('closes a connection that does not finish the handshake within one interval, even if it trickles whitespace', async () => {
    const s = await start({ pingIntervalSeconds: 1, pingTimeoutSeconds: 1 });
    const comp = await component(s, COMP, null);
    const t0 = Date.now();
    const trickle = setInterval(() => comp.send(' '), 100);
    try {
      expect(await comp.streamError()).toBe('connection-timeout');
    } finally {
      clearInterval(trickle);
    }
    await comp.waitClosed();
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it('refuses a component domain that collides with another host', async () => {
    await expect(startTestServer({ components: [{ domain: 'conference.meet.jitsi', secret: 'x' }] })).rejects.toThrow(/already a host/);
  });
});
