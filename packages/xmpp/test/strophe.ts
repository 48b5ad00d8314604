/**
 * strophe.js (the XMPP library inside lib-jitsi-meet) running in Node against our server, over BOSH or WebSocket.
 *
 * strophe.js v5's Node entry (`exports.node` → dist/strophe.node.esm.js) installs DOMParser, XMLSerializer,
 * `document` (from @xmldom/xmldom) and WebSocket (from ws) as globals when imported. BOSH additionally needs
 * XMLHttpRequest, which Node does not have: `installXmlHttpRequest()` puts a small one on node:http in place.
 *
 *   const conn = await connectStrophe(srv.boshUrl, srv.domain);     // or srv.wsUrl for WebSocket
 *   conn.jid;                                                         // full JID with resource
 *   const pong = await stropheIq(conn, $iq({ type: 'get', to: srv.domain }).c('ping', { xmlns: 'urn:xmpp:ping' }));
 *   await disconnectStrophe(conn);
 */
import { type ClientRequest, type IncomingMessage, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { $iq, Strophe } from 'strophe.js';

/** What the tests use of a Strophe.Connection (strophe's own .d.ts needs the DOM lib, which we don't load). */
export interface StropheConnection {
  jid: string;
  connected: boolean;
  authenticated: boolean;
  connect(jid: string, pass: string | undefined, callback: (status: number, condition?: string | null) => void, wait?: number, hold?: number): void;
  disconnect(reason?: string): void;
  send(stanza: unknown): void;
  sendIQ(stanza: unknown, callback?: (el: StropheElement) => void, errback?: (el: StropheElement | null) => void, timeout?: number): string;
  addHandler(handler: (el: StropheElement) => boolean, ns?: string | null, name?: string | null, type?: string | null, id?: string | null, from?: string | null): unknown;
  deleteHandler(ref: unknown): void;
  /** Raw traffic hooks (strophe calls them when overridden). */
  rawInput(data: string): void;
  rawOutput(data: string): void;
}

/** The bits of a DOM element (xmldom) the tests read. */
export interface StropheElement {
  nodeName: string;
  getAttribute(name: string): string | null;
  getElementsByTagName(name: string): ArrayLike<StropheElement> & { length: number };
  textContent: string | null;
}

// strophe logs every request at DEBUG to the console; STROPHE_LOG=DEBUG|INFO|WARN|ERROR brings it back.
Strophe.setLogLevel(Strophe.LogLevel[(process.env.STROPHE_LOG ?? 'FATAL') as 'FATAL'] ?? Strophe.LogLevel.FATAL);

export const Status = Strophe.Status as unknown as Record<
  'ERROR' | 'CONNECTING' | 'CONNFAIL' | 'AUTHENTICATING' | 'AUTHFAIL' | 'CONNECTED' | 'DISCONNECTED' | 'DISCONNECTING' | 'ATTACHED' | 'REDIRECT' | 'CONNTIMEOUT' | 'BINDREQUIRED' | 'ATTACHFAIL' | 'RECONNECTING',
  number
>;

/** Status number → name, for readable assertion messages. */
export function statusName(status: number): string {
  return Object.entries(Status).find(([, v]) => v === status)?.[0] ?? String(status);
}

type Listener = () => void;

/**
 * A minimal XMLHttpRequest (the subset strophe's BOSH transport uses) over node:http(s): open/send/abort,
 * setRequestHeader, readyState/status/responseText/responseXML, getAllResponseHeaders, onreadystatechange.
 */
export class NodeXMLHttpRequest {
  static readonly UNSENT = 0;
  static readonly OPENED = 1;
  static readonly HEADERS_RECEIVED = 2;
  static readonly LOADING = 3;
  static readonly DONE = 4;

  readyState = 0;
  status = 0;
  statusText = '';
  responseText = '';
  responseXML: unknown = null;
  withCredentials = false;
  timeout = 0;
  onreadystatechange: Listener | null = null;
  onerror: Listener | null = null;
  onload: Listener | null = null;
  #method = 'GET';
  #url = '';
  #headers: Record<string, string> = {};
  #responseHeaders: IncomingMessage['headers'] = {};
  #req: ClientRequest | undefined;
  #aborted = false;

  overrideMimeType(_mime: string): void {}

  open(method: string, url: string, async = true): void {
    if (!async) throw new Error('NodeXMLHttpRequest: synchronous requests are not supported');
    this.#method = method;
    this.#url = url;
    this.#headers = {};
    this.#aborted = false;
    this.status = 0;
    this.responseText = '';
    this.responseXML = null;
    this.#setState(1);
  }

  setRequestHeader(name: string, value: string): void {
    this.#headers[name] = value;
  }

  getAllResponseHeaders(): string {
    return Object.entries(this.#responseHeaders)
      .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : (v ?? '')}`)
      .join('\r\n');
  }

  getResponseHeader(name: string): string | null {
    const v = this.#responseHeaders[name.toLowerCase()];
    return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
  }

  send(body?: string | null): void {
    const url = new URL(this.#url);
    const data = body ?? '';
    const doRequest = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = doRequest(url, {
      method: this.#method,
      headers: { ...this.#headers, 'Content-Length': String(Buffer.byteLength(data)) },
      ...(url.protocol === 'https:' ? { rejectUnauthorized: false } : {}),
    });
    this.#req = req;
    req.on('response', (res) => {
      if (this.#aborted) return res.resume();
      this.status = res.statusCode ?? 0;
      this.statusText = res.statusMessage ?? '';
      this.#responseHeaders = res.headers;
      this.#setState(2);
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if (this.#aborted) return;
        this.responseText = Buffer.concat(chunks).toString('utf8');
        const type = String(res.headers['content-type'] ?? '');
        if (this.responseText && /xml/.test(type)) {
          this.responseXML = new (globalThis as unknown as { DOMParser: new () => { parseFromString(s: string, t: string): unknown } }).DOMParser().parseFromString(this.responseText, 'text/xml');
        }
        this.#setState(4);
        this.onload?.();
      });
      res.on('error', () => this.#failed());
    });
    req.on('error', () => this.#failed());
    req.end(data);
  }

  abort(): void {
    if (this.#aborted) return;
    this.#aborted = true;
    const wasActive = this.readyState > 0 && this.readyState < 4;
    this.#req?.destroy();
    this.status = 0;
    // As in browsers: an abort of an active request moves to DONE (firing readystatechange), then back to UNSENT.
    if (wasActive) this.#setState(4);
    this.readyState = 0;
  }

  #failed(): void {
    if (this.#aborted || this.readyState === 4) return;
    this.status = 0;
    this.#setState(4);
    this.onerror?.();
  }

  #setState(state: number): void {
    this.readyState = state;
    this.onreadystatechange?.();
  }
}

/** Make `XMLHttpRequest` available to strophe's BOSH transport (idempotent; keeps a real one if present). */
export function installXmlHttpRequest(): void {
  const g = globalThis as { XMLHttpRequest?: unknown };
  g.XMLHttpRequest ??= NodeXMLHttpRequest;
}

export interface ConnectOptions {
  /** Login JID; default: the domain (SASL ANONYMOUS). */
  jid?: string;
  password?: string;
  /** BOSH `wait` (seconds) strophe asks for. */
  wait?: number;
  /** Strophe status codes seen, in order (filled while connecting and afterwards). */
  statuses?: { status: number; condition: string | null | undefined }[];
  timeoutMs?: number;
}

/**
 * Connect a Strophe.Connection (BOSH when `service` is http(s), WebSocket when ws(s)) and resolve when it is
 * CONNECTED; reject on CONNFAIL/AUTHFAIL/DISCONNECTED or timeout.
 */
export function connectStrophe(service: string, domain: string, opts: ConnectOptions = {}): Promise<StropheConnection> {
  installXmlHttpRequest();
  const conn = new Strophe.Connection(service) as unknown as StropheConnection;
  const statuses = opts.statuses ?? [];
  (conn as unknown as { statuses: typeof statuses }).statuses = statuses;
  return new Promise<StropheConnection>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`strophe connect timed out; statuses: ${statuses.map((s) => statusName(s.status)).join(',')}`)), opts.timeoutMs ?? 10_000);
    conn.connect(
      opts.jid ?? domain,
      opts.password,
      (status, condition) => {
        statuses.push({ status, condition });
        if (status === Status.CONNECTED) {
          clearTimeout(timer);
          resolve(conn);
        } else if (status === Status.CONNFAIL || status === Status.AUTHFAIL || status === Status.DISCONNECTED || status === Status.ERROR) {
          clearTimeout(timer);
          reject(new Error(`strophe: ${statusName(status)} ${condition ?? ''}`));
        }
      },
      opts.wait,
    );
  });
}

/** Wait until the connection reports `status` (looking at statuses seen so far first). */
export function stropheStatus(conn: StropheConnection, status: number, timeoutMs = 10_000): Promise<{ status: number; condition: string | null | undefined }> {
  const statuses = (conn as unknown as { statuses: { status: number; condition: string | null | undefined }[] }).statuses;
  return new Promise((resolve, reject) => {
    const start = Date.now();
    const tick = () => {
      const hit = statuses.find((s) => s.status === status);
      if (hit) return resolve(hit);
      if (Date.now() - start > timeoutMs) return reject(new Error(`no ${statusName(status)}; saw ${statuses.map((s) => statusName(s.status)).join(',')}`));
      setTimeout(tick, 5);
    };
    tick();
  });
}

/** Send an IQ built with $iq(...) and resolve with the reply (rejects on an error reply or timeout). */
export function stropheIq(conn: StropheConnection, iq: unknown, timeoutMs = 5000): Promise<StropheElement> {
  return new Promise((resolve, reject) => {
    conn.sendIQ(iq, resolve, (el) => reject(new Error(el ? `iq error: ${el.getAttribute('type')}` : 'iq timeout')), timeoutMs);
  });
}

/** Resolve with the next stanza matching the handler filter (strophe addHandler semantics). */
export function stropheExpect(conn: StropheConnection, name: string, match: (el: StropheElement) => boolean = () => true, timeoutMs = 5000): Promise<StropheElement> {
  return new Promise((resolve, reject) => {
    const ref = conn.addHandler(
      (el) => {
        if (!match(el)) return true;
        clearTimeout(timer);
        resolve(el);
        return false;
      },
      null,
      name,
    );
    const timer = setTimeout(() => {
      conn.deleteHandler(ref);
      reject(new Error(`no <${name}> within ${timeoutMs} ms`));
    }, timeoutMs);
  });
}

/** Disconnect cleanly and resolve on DISCONNECTED. */
export async function disconnectStrophe(conn: StropheConnection, timeoutMs = 10_000): Promise<void> {
  if (!conn.connected) return;
  const done = stropheStatus(conn, Status.DISCONNECTED, timeoutMs);
  conn.disconnect('test done');
  await done;
}

export { $iq, Strophe };
export { $msg, $pres } from 'strophe.js';
