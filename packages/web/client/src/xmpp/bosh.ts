/**
 * XMPP over BOSH (XEP-0124 with XEP-0206) as strophe.js speaks it, for networks where the WebSocket cannot be
 * opened (Jitsi's `config.bosh`, here `/http-bind`):
 *
 * - the session request (`rid`, `to`, `wait=60`, `hold=1`, `ver=1.6`, `xmpp:version=1.0`) gets `sid` and the
 *   stream features back; after SASL a body with `xmpp:restart="true"` gets the new features;
 * - at most two requests are in flight (Strophe): an empty one is always held by the server so it can push, and
 *   queued stanzas go out in the other; every request carries the next `rid`;
 * - a failed request (network error, HTTP status other than 200) is sent again with the same `rid`; after more
 *   than four consecutive failures the connection is dropped; a `type="terminate"` body ends it.
 *
 * References:
 * - https://xmpp.org/extensions/xep-0124.html (§7 session creation, §8 requests, §14 rid, §17 errors)
 * - https://xmpp.org/extensions/xep-0206.html (§5 restart); /work/shared/PROTOCOL.md §2.2
 */
import type { Element } from '@jitsi-one/xmpp';
import { parseFrame } from './dom.js';
import type { Transport } from './transport.js';

const NS_HTTPBIND = 'http://jabber.org/protocol/httpbind';
const NS_XBOSH = 'urn:xmpp:xbosh';
/** Strophe's defaults. */
const WAIT_SECONDS = 60;
const MAX_IN_FLIGHT = 2;
const MAX_ERRORS = 4;
const RETRY_MS = 1000;

type Outgoing = { kind: 'stanzas'; data: string[] } | { kind: 'restart' };

export class BoshTransport implements Transport {
  readonly kind = 'bosh';
  onElement: (el: Element) => void = () => undefined;
  onClose: (error?: Error) => void = () => undefined;
  readonly #url: string;
  readonly #domain: string;
  #rid = Math.floor(Math.random() * 0xffff_ffff) + 1;
  #sid: string | undefined;
  #creating = false;
  #inFlight = 0;
  #maxInFlight = MAX_IN_FLIGHT;
  #errors = 0;
  readonly #queue: Outgoing[] = [];
  #ended = false;

  /** @param url the BOSH service URL (absolute, or relative to the page) */
  constructor(url: string, domain: string) {
    this.#url = new URL(url, location.href).href;
    this.#domain = domain;
  }

  openStream(): void {
    if (this.#sid === undefined) {
      if (!this.#creating) this.#create();
      return;
    }
    this.#queue.push({ kind: 'restart' });
    this.#pump();
  }

  send(data: string): void {
    if (this.#ended) return;
    const last = this.#queue[this.#queue.length - 1];
    if (last?.kind === 'stanzas') last.data.push(data);
    else this.#queue.push({ kind: 'stanzas', data: [data] });
    this.#pump();
  }

  close(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#sid !== undefined) {
      const body = `<body rid="${this.#rid++}" sid="${escapeAttr(this.#sid)}" type="terminate" xmlns="${NS_HTTPBIND}"/>`;
      void fetch(this.#url, { method: 'POST', body, headers: { 'Content-Type': 'text/xml; charset=utf-8' }, keepalive: true }).catch(() => undefined);
    }
    this.onClose();
  }

  abort(): void {
    this.#end(new Error('connection dropped'));
  }

  // ---------------------------------------------------------------------------------------------- internals

  #create(): void {
    this.#creating = true;
    const body =
      `<body content="text/xml; charset=utf-8" hold="1" rid="${this.#rid++}" to="${escapeAttr(this.#domain)}" ver="1.6" ` +
      `wait="${WAIT_SECONDS}" xml:lang="en" xmpp:version="1.0" xmlns="${NS_HTTPBIND}" xmlns:xmpp="${NS_XBOSH}"/>`;
    void this.#request(body, (res) => {
      const sid = res.attrs.sid as string | undefined;
      if (sid === undefined || sid === '') {
        this.#end(new Error('the BOSH server did not create a session'));
        return false;
      }
      this.#sid = sid;
      const requests = Number(res.attrs.requests);
      if (Number.isInteger(requests) && requests >= 1) this.#maxInFlight = Math.min(MAX_IN_FLIGHT, requests);
      return true;
    });
  }

  /** Sends what is queued, and keeps one empty request held by the server while nothing else is in flight. */
  #pump(): void {
    while (!this.#ended && this.#sid !== undefined && this.#inFlight < this.#maxInFlight) {
      const next = this.#queue.shift();
      const sid = escapeAttr(this.#sid);
      if (next?.kind === 'restart') {
        void this.#request(
          `<body rid="${this.#rid++}" sid="${sid}" to="${escapeAttr(this.#domain)}" xml:lang="en" xmpp:restart="true" xmlns="${NS_HTTPBIND}" xmlns:xmpp="${NS_XBOSH}"/>`,
        );
      } else if (next !== undefined) {
        void this.#request(`<body rid="${this.#rid++}" sid="${sid}" xmlns="${NS_HTTPBIND}">${next.data.join('')}</body>`);
      } else if (this.#inFlight === 0) {
        void this.#request(`<body rid="${this.#rid++}" sid="${sid}" xmlns="${NS_HTTPBIND}"/>`);
      } else {
        break;
      }
    }
  }

  /** POSTs one body (again, with the same rid, after a failure) and hands up the elements of the answer. */
  async #request(body: string, accept?: (res: Element) => boolean): Promise<void> {
    this.#inFlight++;
    for (;;) {
      let res: Element | undefined;
      try {
        const r = await fetch(this.#url, { method: 'POST', body, headers: { 'Content-Type': 'text/xml; charset=utf-8' }, cache: 'no-store' });
        if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
        res = parseFrame(await r.text());
        if (res === undefined || res.name !== 'body') throw new Error('malformed BOSH response');
      } catch (err) {
        if (this.#ended) return;
        if (++this.#errors > MAX_ERRORS) {
          this.#end(err instanceof Error ? err : new Error(String(err)));
          return;
        }
        await new Promise((r) => window.setTimeout(r, RETRY_MS));
        if (this.#ended) return;
        continue;
      }
      if (this.#ended) return;
      this.#errors = 0;
      this.#inFlight--;
      if (res.attrs.type === 'terminate') {
        this.#end(new Error(`the server ended the BOSH session (${String(res.attrs.condition ?? 'no condition')})`));
        return;
      }
      if (accept !== undefined && !accept(res)) return;
      for (const c of res.children) {
        if (typeof c === 'string') continue;
        if (this.#ended) return;
        if (c.name === 'stream:error' || c.name === 'error') {
          const condition = c.children.find((x) => typeof x !== 'string') as Element | undefined;
          this.#end(new Error(`stream error: ${condition?.name ?? 'unknown'}`));
          return;
        }
        this.onElement(c);
      }
      this.#pump();
      return;
    }
  }

  #end(error: Error): void {
    if (this.#ended) return;
    this.#ended = true;
    this.onClose(error);
  }
}

function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}
