/**
 * strophe.js (the XMPP library lib-jitsi-meet uses) against our server in Node: BOSH first (PROTOCOL.md §2.2),
 * then WebSocket (§2.1).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StreamError } from '../src/index.js';
import { TestClient } from './client.js';
import { type TestServer, startTestServer, waitFor } from './helpers.js';
import { $iq, $msg, Status, connectStrophe, disconnectStrophe, stropheExpect, stropheIq, stropheStatus } from './strophe.js';

let srv: TestServer;
beforeEach(async () => {
  srv = await startTestServer();
});
afterEach(async () => {
  await srv.stop();
});

const jidRe = (domain: string) => new RegExp(`^[0-9a-f-]{36}@${domain.replace(/\./g, '\\.')}/.+$`);
const gone = () => (srv.xmpp.sessions.size === 0 && srv.xmpp.allSessions.size === 0 && srv.xmpp.bosh.size === 0 ? undefined : `sessions ${srv.xmpp.allSessions.size}, bosh ${srv.xmpp.bosh.size}`);

describe('strophe.js over BOSH', () => {
  it('connects anonymously to a full JID, pings the domain and disconnects cleanly', async () => {
    const conn = await connectStrophe(srv.boshUrl, srv.domain);
    expect(conn.jid).toMatch(jidRe(srv.domain));
    expect(srv.xmpp.sessions.get(conn.jid)?.transport.kind).toBe('bosh');
    const pong = await stropheIq(conn, $iq({ type: 'get', to: srv.domain }).c('ping', { xmlns: 'urn:xmpp:ping' }));
    expect(pong.getAttribute('type')).toBe('result');
    expect(pong.getAttribute('from')).toBe(srv.domain);
    await disconnectStrophe(conn);
    await waitFor(gone);
  });

  it('exchanges messages with a WebSocket client in both directions', async () => {
    const conn = await connectStrophe(srv.boshUrl, srv.domain);
    const ws = await TestClient.connect(srv);
    // WebSocket → BOSH: answered on the held long-poll request.
    const incoming = stropheExpect(conn, 'message', (m) => m.getAttribute('from') === ws.jid);
    ws.send(`<message type="chat" to="${conn.jid}"><body>hello over BOSH</body></message>`);
    const m = await incoming;
    expect(m.getElementsByTagName('body')[0]?.textContent).toBe('hello over BOSH');
    expect(m.getAttribute('xmlns')).toBe('jabber:client');
    // BOSH → WebSocket.
    conn.send($msg({ type: 'chat', to: ws.jid }).c('body').t('hello over WebSocket'));
    const back = await ws.expect((s) => s.name === 'message' && s.attrs.from === conn.jid);
    expect(back.getChildText('body')).toBe('hello over WebSocket');
    // A burst in the same tick reaches strophe complete and in order.
    const seen: string[] = [];
    const all = new Promise<void>((resolve) => {
      conn.addHandler((el) => {
        seen.push(el.getElementsByTagName('body')[0]?.textContent ?? '');
        if (seen.length === 20) resolve();
        return seen.length < 20;
      }, null, 'message');
    });
    for (let i = 0; i < 20; i++) ws.send(`<message type="chat" to="${conn.jid}"><body>${i}</body></message>`);
    await all;
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
    ws.close();
    await disconnectStrophe(conn);
    await waitFor(gone);
  });

  it('reports a stream error from the server as CONNFAIL with its condition', async () => {
    const conn = await connectStrophe(srv.boshUrl, srv.domain);
    srv.xmpp.sessions.get(conn.jid)?.close(new StreamError('conflict', 'replaced'));
    // remote-stream-error with <conflict/> inside: strophe reports 'conflict' (bosh.ts _connect_cb/_dataRecv).
    const fail = await stropheStatus(conn, Status.CONNFAIL);
    expect(fail.condition).toBe('conflict');
    await waitFor(gone);
  });

  it('reports server shutdown as CONNFAIL system-shutdown', async () => {
    const conn = await connectStrophe(srv.boshUrl, srv.domain);
    await srv.xmpp.stop();
    const fail = await stropheStatus(conn, Status.CONNFAIL);
    expect(fail.condition).toBe('system-shutdown');
    await waitFor(gone);
  });

  it('fails to connect to an unknown domain with host-unknown', async () => {
    const statuses: { status: number; condition: string | null | undefined }[] = [];
    await expect(connectStrophe(srv.boshUrl, 'unknown.example', { statuses })).rejects.toThrow(/CONNFAIL host-unknown/);
    await waitFor(gone);
  });
});

describe('strophe.js over WebSocket', () => {
  it('connects anonymously, pings and disconnects', async () => {
    const conn = await connectStrophe(srv.wsUrl, srv.domain);
    expect(conn.jid).toMatch(jidRe(srv.domain));
    expect(srv.xmpp.sessions.get(conn.jid)?.transport.kind).toBe('websocket');
    const pong = await stropheIq(conn, $iq({ type: 'get', to: srv.domain }).c('ping', { xmlns: 'urn:xmpp:ping' }));
    expect(pong.getAttribute('type')).toBe('result');
    await disconnectStrophe(conn);
    await waitFor(() => (srv.xmpp.sessions.size === 0 && srv.xmpp.allSessions.size === 0 ? undefined : 'sessions left'));
  });
});
