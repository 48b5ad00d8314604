import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TestClient } from './client.js';
import { type TestServer, startTestServer, waitFor } from './helpers.js';

const SM = 'urn:xmpp:sm:3';
let srv: TestServer;
afterEach(async () => {
  await srv.stop();
});

describe('XEP-0198 stream management (enabled by config)', () => {
  beforeEach(async () => {
    srv = await startTestServer({ streamManagement: true, smResumeTimeoutSeconds: 2 });
  });

  it('advertises sm after authentication, enables with resumption and answers <r/> with the inbound count', async () => {
    const c = await TestClient.connect(srv);
    const features = c.all((s) => s.name === 'stream:features');
    expect(features[1]?.getChild('sm', SM)).toBeDefined();
    c.sendRaw(`<enable xmlns="${SM}" resume="true"/>`);
    const enabled = await c.expect((s) => s.name === 'enabled');
    expect(enabled.attrs.resume).toBe('true');
    expect(enabled.attrs.id).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    for (let i = 0; i < 3; i++) await c.iq(`<iq type="get" id="p${i}" to="${srv.domain}"><ping xmlns="urn:xmpp:ping"/></iq>`);
    c.sendRaw(`<r xmlns="${SM}"/>`);
    const a = await c.expect((s) => s.name === 'a');
    expect(a.attrs.h).toBe('3');
    c.close();
  });

  it('resumes a dropped session: same full JID, unacknowledged stanzas re-sent, rooms kept', async () => {
    const c = await TestClient.connect(srv);
    const jid = c.jid;
    c.sendRaw(`<enable xmlns="${SM}" resume="true"/>`);
    const id = (await c.expect((s) => s.name === 'enabled')).attrs.id as string;
    c.ws.terminate(); // connection dies without a stream close
    await waitFor(() => (srv.xmpp.sessions.get(jid)?.detached ? undefined : 'not detached yet'));

    const other = await TestClient.connect(srv);
    other.send(`<message type="chat" to="${jid}" id="m1"><body>while you were away</body></message>`);
    await waitFor(() => ((srv.xmpp.sessions.get(jid)?.sm?.unacked.length ?? 0) > 0 ? undefined : 'not queued'));

    const back = await TestClient.open(`${srv.wsUrl}?previd=${encodeURIComponent(id)}`);
    back.sendRaw(`<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="${srv.domain}" version="1.0"/>`);
    await back.expect((s) => s.name === 'stream:features');
    back.sendRaw('<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="ANONYMOUS"/>');
    await back.expect((s) => s.name === 'success');
    back.sendRaw(`<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="${srv.domain}" version="1.0"/>`);
    await back.expect((s) => s.name === 'stream:features');
    back.sendRaw(`<resume xmlns="${SM}" previd="${id}" h="0"/>`);
    const resumed = await back.expect((s) => s.name === 'resumed' || s.name === 'failed');
    expect(resumed.name).toBe('resumed');
    const msg = await back.expect((s) => s.name === 'message' && s.attrs.id === 'm1');
    expect(msg.attrs.to).toBe(jid);
    // Still reachable at the old full JID.
    other.send(`<message type="chat" to="${jid}" id="m2"><body>hello again</body></message>`);
    await back.expect((s) => s.name === 'message' && s.attrs.id === 'm2');
    back.close();
    other.close();
  });

  it('fails resumption with an unknown id, and ends a detached session after the resume timeout', async () => {
    const c = await TestClient.connect(srv);
    const jid = c.jid;
    c.sendRaw(`<enable xmlns="${SM}" resume="true"/>`);
    await c.expect((s) => s.name === 'enabled');
    c.ws.terminate();
    await waitFor(() => (srv.xmpp.sessions.get(jid)?.detached ? undefined : 'not detached'));

    const d = await TestClient.open(srv.wsUrl);
    d.sendRaw(`<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="${srv.domain}" version="1.0"/>`);
    await d.expect((s) => s.name === 'stream:features');
    d.sendRaw('<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="ANONYMOUS"/>');
    await d.expect((s) => s.name === 'success');
    d.sendRaw(`<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="${srv.domain}" version="1.0"/>`);
    await d.expect((s) => s.name === 'stream:features');
    d.sendRaw(`<resume xmlns="${SM}" previd="nope" h="0"/>`);
    const failed = await d.expect((s) => s.name === 'failed');
    expect(failed.getChild('item-not-found')).toBeDefined();
    d.close();

    await waitFor(() => (srv.xmpp.sessions.has(jid) ? 'detached session still there' : undefined), 5000);
  });
});

describe('stream management off (the default)', () => {
  beforeEach(async () => {
    srv = await startTestServer();
  });

  it('is not advertised, and <enable/> gets <failed/> instead of silence', async () => {
    const c = await TestClient.connect(srv);
    expect(c.all((s) => s.name === 'stream:features').some((f) => f.getChild('sm', SM))).toBe(false);
    c.sendRaw(`<enable xmlns="${SM}" resume="true"/>`);
    await c.expect((s) => s.name === 'failed');
    c.close();
  });
});
