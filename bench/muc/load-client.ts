/**
 * Minimal, fast XMPP-over-WebSocket load client (RFC 7395 framing, as strophe.js speaks it).
 *
 * One WebSocket per client, one XML element per frame. The handshake is
 * open -> features -> SASL ANONYMOUS -> open (restart) -> features -> bind
 * (-> legacy session only if advertised as mandatory). Received frames are
 * inspected with string checks only (no DOM), since the load client shares
 * the machine with the server under test. After connect(), the scenario sets
 * a per-phase frame handler with setHandler().
 */
import { WebSocket } from 'ws';

export const NS_FRAMING = 'urn:ietf:params:xml:ns:xmpp-framing';
const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';
const NS_BIND = 'urn:ietf:params:xml:ns:xmpp-bind';
const NS_SESSION = 'urn:ietf:params:xml:ns:xmpp-session';

export interface ConnectOptions {
  wsUrl: string;
  domain: string;
  /** Deadline for the whole connect+auth+bind handshake. */
  timeoutMs: number;
}

export type FrameHandler = (client: LoadClient, frame: string) => void;
export type FatalHandler = (client: LoadClient, reason: string) => void;

interface Waiter {
  what: string;
  test: (frame: string) => boolean;
  resolve: (frame: string) => void;
  reject: (err: Error) => void;
}

/** Strips an optional XML declaration and surrounding whitespace; '' for keepalive frames. */
export function normalizeFrame(raw: string): string {
  let s = raw;
  if (s.charCodeAt(0) !== 60 /* < */) s = s.trimStart();
  if (s.charCodeAt(0) === 60 && s.charCodeAt(1) === 63 /* ? */) {
    const end = s.indexOf('?>');
    s = end < 0 ? '' : s.slice(end + 2).trimStart();
  }
  return s;
}

/** Value of attribute `name` on the frame's top-level element (either quote style), or undefined. */
export function attr(frame: string, name: string): string | undefined {
  // Search backwards from the end of the start tag, so only the start tag is scanned.
  const tagEnd = frame.indexOf('>');
  const at = frame.lastIndexOf(` ${name}=`, tagEnd < 0 ? frame.length : tagEnd);
  if (at < 0) return undefined;
  const q = at + name.length + 2;
  const quote = frame.charCodeAt(q) === 39 ? "'" : '"';
  const end = frame.indexOf(quote, q + 1);
  return end < 0 ? undefined : frame.slice(q + 1, end);
}

/** True if the frame carries a MUC <status code="..."/> with the given code. */
export function hasStatusCode(frame: string, code: string): boolean {
  return frame.includes(`code="${code}"`) || frame.includes(`code='${code}'`);
}

/** Escapes text for XML character data / attribute values. */
export function xmlEscape(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function isFatalControlFrame(frame: string): boolean {
  return frame.startsWith('<close') || frame.startsWith('<stream:error') || frame.startsWith('<error');
}

function snippet(frame: string, max = 300): string {
  return frame.length > max ? `${frame.slice(0, max)}…` : frame;
}

export class LoadClient {
  /** Full JID assigned by resource binding. */
  jid = '';
  /** Set once the socket closed or the stream failed. */
  closed = false;
  /** Called when the stream fails or closes while not closing on purpose. */
  onFatal: FatalHandler | null = null;

  private handler: FrameHandler | null = null;
  private waiter: Waiter | null = null;
  private readonly inbox: string[] = [];
  private closing = false;
  private closeWaiters: Array<() => void> = [];

  private constructor(
    readonly index: number,
    private readonly ws: WebSocket,
  ) {
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const frame = normalizeFrame(data.toString());
      if (frame) this.deliver(frame);
    });
    ws.on('error', (err) => this.fail(`websocket error: ${err.message}`));
    ws.on('close', (code, reason) => {
      this.closed = true;
      const waiters = this.closeWaiters;
      this.closeWaiters = [];
      for (const w of waiters) w();
      if (!this.closing) this.fail(`websocket closed (${code}${reason.length ? ` ${reason.toString()}` : ''})`);
    });
  }

  /** Opens the socket and runs open/features/SASL ANONYMOUS/restart/bind. */
  static async connect(index: number, opts: ConnectOptions): Promise<LoadClient> {
    const ws = new WebSocket(opts.wsUrl, 'xmpp', {
      perMessageDeflate: false,
      skipUTF8Validation: true,
      handshakeTimeout: opts.timeoutMs,
    });
    const client = new LoadClient(index, ws);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        client.handshake(opts.domain),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`connect timed out after ${opts.timeoutMs} ms`)), opts.timeoutMs);
        }),
      ]);
      return client;
    } catch (err) {
      client.terminate();
      throw new Error(`client ${index}: ${(err as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }

  private async handshake(domain: string): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
      this.ws.once('close', () => reject(new Error('websocket closed before open')));
    });
    if (this.ws.protocol !== 'xmpp') throw new Error(`server did not accept the 'xmpp' subprotocol`);

    const openStream = `<open xmlns="${NS_FRAMING}" to="${xmlEscape(domain)}" version="1.0"/>`;
    this.send(openStream);
    await this.expect('<open/>', (f) => f.startsWith('<open'));
    let features = await this.expect('stream features', isFeatures);
    if (!/<mechanism>\s*ANONYMOUS\s*<\/mechanism>/.test(features)) {
      throw new Error(`server does not offer SASL ANONYMOUS: ${snippet(features)}`);
    }

    this.send(`<auth xmlns="${NS_SASL}" mechanism="ANONYMOUS"/>`);
    const outcome = await this.expect('SASL outcome', (f) => f.startsWith('<success') || f.startsWith('<failure'));
    if (!outcome.startsWith('<success')) throw new Error(`SASL ANONYMOUS failed: ${snippet(outcome)}`);

    this.send(openStream); // stream restart
    await this.expect('<open/> after SASL', (f) => f.startsWith('<open'));
    features = await this.expect('post-auth stream features', isFeatures);
    if (!features.includes(NS_BIND)) throw new Error(`no resource binding offered: ${snippet(features)}`);

    const bindId = `bind${this.index}`;
    this.send(`<iq type="set" id="${bindId}" xmlns="jabber:client"><bind xmlns="${NS_BIND}"/></iq>`);
    const bound = await this.expect('bind result', (f) => f.startsWith('<iq') && attr(f, 'id') === bindId);
    const jid = /<jid>([^<]+)<\/jid>/.exec(bound)?.[1];
    if (attr(bound, 'type') !== 'result' || !jid) throw new Error(`bind failed: ${snippet(bound)}`);
    this.jid = jid;

    // RFC 3921 session establishment, only when advertised and not <optional/> (strophe does the same).
    const session = new RegExp(`<session[^>]*${NS_SESSION}[^>]*(/>|>([\\s\\S]*?)</session>)`).exec(features);
    if (session && !session[0].includes('<optional')) {
      const sessId = `sess${this.index}`;
      this.send(`<iq type="set" id="${sessId}" xmlns="jabber:client"><session xmlns="${NS_SESSION}"/></iq>`);
      const res = await this.expect('session result', (f) => f.startsWith('<iq') && attr(f, 'id') === sessId);
      if (attr(res, 'type') !== 'result') throw new Error(`session establishment failed: ${snippet(res)}`);
    }
  }

  /** Installs the per-phase frame handler (replaying anything buffered since the handshake). */
  setHandler(handler: FrameHandler | null): void {
    this.handler = handler;
    if (handler) {
      while (this.inbox.length > 0) handler(this, this.inbox.shift() as string);
    }
  }

  send(xml: string): void {
    if (!this.closed) this.ws.send(xml);
  }

  /** Clean close: <close/>, then wait (bounded) for the server to close the socket. */
  async close(timeoutMs: number): Promise<void> {
    if (this.closed) return;
    this.closing = true;
    const closed = new Promise<void>((resolve) => this.closeWaiters.push(resolve));
    try {
      this.ws.send(`<close xmlns="${NS_FRAMING}"/>`);
    } catch {
      this.terminate();
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
    if (!this.closed) this.terminate();
  }

  /** Drops the connection immediately. */
  terminate(): void {
    this.closing = true;
    this.closed = true;
    this.ws.terminate();
  }

  private deliver(frame: string): void {
    const c = frame.charCodeAt(1);
    // Fast path: stanzas (<message, <presence, <iq) go straight to the phase handler.
    if (this.handler && (c === 109 || c === 112 || c === 105)) {
      this.handler(this, frame);
      return;
    }
    if (isFatalControlFrame(frame)) {
      if (frame.startsWith('<close') && this.closing) {
        this.ws.close(1000); // server acknowledged our <close/>
        return;
      }
      this.fail(`stream ended by server: ${snippet(frame)}`);
      return;
    }
    const w = this.waiter;
    if (w) {
      if (w.test(frame)) {
        this.waiter = null;
        w.resolve(frame);
      }
      return; // frames not awaited during the handshake are ignored
    }
    if (this.handler) this.handler(this, frame);
    else this.inbox.push(frame);
  }

  /** Resolves with the next frame satisfying `test` (frames that don't match are dropped). */
  private expect(what: string, test: (frame: string) => boolean): Promise<string> {
    while (this.inbox.length > 0) {
      const f = this.inbox.shift() as string;
      if (test(f)) return Promise.resolve(f);
    }
    if (this.closed) return Promise.reject(new Error(`connection closed while waiting for ${what}`));
    return new Promise<string>((resolve, reject) => {
      this.waiter = { what, test, resolve, reject };
    });
  }

  private fail(reason: string): void {
    const w = this.waiter;
    if (w) {
      this.waiter = null;
      w.reject(new Error(`${reason} (while waiting for ${w.what})`));
    }
    if (!this.closing) {
      this.closing = true;
      this.onFatal?.(this, reason);
    }
  }
}

function isFeatures(frame: string): boolean {
  return frame.startsWith('<stream:features') || frame.startsWith('<features');
}
