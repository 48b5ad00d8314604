/**
 * Helpers shared by the muc-*.test.ts conversation tests.
 */
import { type Element, NS_MUC, NS_MUC_USER } from '../src/index.js';
import { TestClient } from './client.js';
import type { TestServer } from './helpers.js';

export const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';

/** The muc#user `<x>` of a stanza. */
export function mucUser(s: Element): Element | undefined {
  return s.getChildren('x').find((x) => x.attrs.xmlns === NS_MUC_USER);
}

/** Its `<item>`. */
export function item(s: Element): Element | undefined {
  return mucUser(s)?.getChild('item');
}

/** Status codes in its muc#user `<x>`, sorted. */
export function codes(s: Element): string[] {
  return (mucUser(s)?.getChildren('status') ?? []).map((st) => st.attrs.code as string).sort();
}

/** The error condition name of an error stanza. */
export function errorCondition(s: Element): string | undefined {
  for (const c of s.getChild('error')?.children ?? []) {
    if (typeof c === 'string') continue;
    const e = c as Element;
    if (e.attrs.xmlns === NS_STANZAS && e.name !== 'text') return e.name;
  }
  return undefined;
}

export const isPresence = (from: string, type?: string) => (s: Element) =>
  s.name === 'presence' && s.attrs.from === from && s.attrs.type === type;

/** Send a join presence and wait for the self-presence (or the error). */
export async function join(c: TestClient, occupantJid: string, payload = '', mucXInner = ''): Promise<Element> {
  c.send(`<presence to="${occupantJid}"><x xmlns="${NS_MUC}">${mucXInner}</x>${payload}</presence>`);
  return c.expect(
    (s) =>
      s.name === 'presence' &&
      s.attrs.from === occupantJid &&
      (s.attrs.type === 'error' || (s.attrs.type === undefined && codes(s).includes('110'))),
  );
}

/** Connect n anonymous clients. */
export async function clients(srv: TestServer, n: number): Promise<TestClient[]> {
  const out: TestClient[] = [];
  for (let i = 0; i < n; i++) out.push(await TestClient.connect(srv));
  return out;
}

/** Log in with SASL PLAIN over WebSocket (the test server marks WebSockets secure). */
export async function connectPlain(srv: TestServer, user: string, password: string, domain: string): Promise<TestClient> {
  const c = await TestClient.open(srv.wsUrl);
  await c.login(domain, 'PLAIN', Buffer.from(`\0${user}\0${password}`).toString('base64'));
  return c;
}

/** An owner-form submission IQ. */
export function configSubmit(room: string, id: string, fields: Record<string, string>): string {
  const f = Object.entries(fields)
    .map(([k, v]) => `<field var="${k}"><value>${v}</value></field>`)
    .join('');
  return (
    `<iq type="set" id="${id}" to="${room}"><query xmlns="http://jabber.org/protocol/muc#owner">` +
    `<x xmlns="jabber:x:data" type="submit"><field var="FORM_TYPE"><value>http://jabber.org/protocol/muc#roomconfig</value></field>${f}</x>` +
    `</query></iq>`
  );
}
