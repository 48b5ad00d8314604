/**
 * The MUC as strophe.js (the library under lib-jitsi-meet) sees it over WebSocket: join, the self-presence that
 * makes LJM consider itself joined (muc#user x found by namespace), groupchat reflection, and sendIQ between
 * occupants matched by the original id. strophe.js 5 runs in Node with @xmldom/xmldom and ws.
 */
import { $iq, $msg, $pres, Strophe } from 'strophe.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer, waitFor } from './helpers.js';

type Connection = InstanceType<typeof Strophe.Connection>;

/** The part of the (xmldom) DOM used here; the repo compiles without lib.dom. */
interface Element {
  readonly tagName: string;
  readonly nodeType: number;
  readonly childNodes: ArrayLike<Element>;
  readonly firstElementChild: Element | null;
  readonly textContent: string | null;
  getAttribute(name: string): string | null;
  getElementsByTagName(name: string): ArrayLike<Element>;
}

Strophe.setLogLevel(Strophe.LogLevel.FATAL);

let srv: TestServer;
const conns: Connection[] = [];

beforeEach(async () => {
  srv = await startTestServer();
});
afterEach(async () => {
  for (const c of conns.splice(0)) c.disconnect('done');
  await srv.stop();
});

async function connect(): Promise<{ conn: Connection; stanzas: Element[] }> {
  const conn = new Strophe.Connection(srv.wsUrl);
  conns.push(conn);
  const stanzas: Element[] = [];
  conn.addHandler((el: Element) => {
    stanzas.push(el);
    return true;
  });
  await new Promise<void>((resolve, reject) => {
    conn.connect(srv.domain, null, (status: number) => {
      if (status === Strophe.Status.CONNECTED) resolve();
      else if (status === Strophe.Status.CONNFAIL || status === Strophe.Status.AUTHFAIL) reject(new Error(`status ${status}`));
    });
  });
  return { conn, stanzas };
}

/** LJM-style: `:scope>x[*|xmlns="…muc#user"]`, found by literal xmlns attribute among the children. */
function mucUserX(el: Element): Element | undefined {
  return Array.from(el.childNodes).find((n) => n.nodeType === 1 && n.tagName === 'x' && n.getAttribute('xmlns') === 'http://jabber.org/protocol/muc#user');
}

function statusCodes(el: Element): string[] {
  const x = mucUserX(el);
  return x ? Array.from(x.getElementsByTagName('status')).map((s) => s.getAttribute('code') as string) : [];
}

describe('strophe.js client', () => {
  it('joins, sees the other occupant with its real JID, gets groupchat echoes and routes sendIQ between occupants', async () => {
    const room = `strophe@${srv.muc}`;
    const alice = await connect();
    const bob = await connect();

    alice.conn.send($pres({ to: `${room}/alice` }).c('x', { xmlns: Strophe.NS.MUC }).up().c('stats-id').t('alice-stats').tree());
    await waitFor(() => (alice.stanzas.some((s) => s.getAttribute('from') === `${room}/alice` && statusCodes(s).includes('110')) ? undefined : 'alice not joined'));
    bob.conn.send($pres({ to: `${room}/bob` }).c('x', { xmlns: Strophe.NS.MUC }).tree());
    await waitFor(() => (bob.stanzas.some((s) => s.getAttribute('from') === `${room}/bob` && statusCodes(s).includes('110')) ? undefined : 'bob not joined'));

    const aliceAtBob = bob.stanzas.find((s) => s.tagName === 'presence' && s.getAttribute('from') === `${room}/alice`) as Element;
    // The muc#user x is the first element child (LJM removes the first `x` before parsing the rest).
    expect(aliceAtBob.firstElementChild?.getAttribute('xmlns')).toBe('http://jabber.org/protocol/muc#user');
    const item = mucUserX(aliceAtBob)?.getElementsByTagName('item')[0];
    expect(item?.getAttribute('jid')).toBe(alice.conn.jid);
    expect(item?.getAttribute('role')).toBe('moderator');
    expect(aliceAtBob.getElementsByTagName('stats-id')[0]?.textContent).toBe('alice-stats');

    bob.conn.send($msg({ to: room, type: 'groupchat', id: 'hello-1' }).c('body').t('hi all').tree());
    await waitFor(() => (bob.stanzas.some((s) => s.tagName === 'message' && s.getAttribute('id') === 'hello-1') ? undefined : 'no echo'));
    await waitFor(() => (alice.stanzas.some((s) => s.getAttribute('id') === 'hello-1' && s.getAttribute('from') === `${room}/bob`) ? undefined : 'not delivered'));

    // Bob answers any IQ get from the room like LJM answers disco#info.
    bob.conn.addHandler(
      (iq: Element) => {
        bob.conn.send($iq({ type: 'result', id: iq.getAttribute('id') as string, to: iq.getAttribute('from') as string }).c('query', { xmlns: Strophe.NS.DISCO_INFO }).c('feature', { var: 'urn:xmpp:jingle:1' }).tree());
        return true;
      },
      Strophe.NS.DISCO_INFO,
      'iq',
      'get',
    );
    const result = await new Promise<Element>((resolve, reject) => {
      alice.conn.sendIQ($iq({ type: 'get', to: `${room}/bob`, id: 'disco-1' }).c('query', { xmlns: Strophe.NS.DISCO_INFO }).tree(), resolve, (e: unknown) => reject(new Error(String(e))), 5000);
    });
    expect(result.getAttribute('from')).toBe(`${room}/bob`);
    expect(result.getAttribute('id')).toBe('disco-1');
    expect(result.getElementsByTagName('feature')[0]?.getAttribute('var')).toBe('urn:xmpp:jingle:1');

    // Room disco#info as LJM requests it after joining.
    const info = await new Promise<Element>((resolve, reject) => {
      alice.conn.sendIQ($iq({ type: 'get', to: room }).c('query', { xmlns: Strophe.NS.DISCO_INFO }).tree(), resolve, (e: unknown) => reject(new Error(String(e))), 5000);
    });
    const fields = Array.from(info.getElementsByTagName('field')).map((f) => f.getAttribute('var'));
    expect(fields).toContain('muc#roominfo_meetingId');

    bob.conn.send($pres({ to: `${room}/bob`, type: 'unavailable' }).tree());
    await waitFor(() =>
      alice.stanzas.some((s) => s.getAttribute('from') === `${room}/bob` && s.getAttribute('type') === 'unavailable') ? undefined : 'no leave',
    );
  });
});
