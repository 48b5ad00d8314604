/**
 * XMPP over WebSocket (RFC 7395) as strophe.js speaks it: subprotocol `xmpp`, one element per message, the stream
 * opened with `<open/>` (answered by the server's `<open/>`, which is checked and consumed here, then the features
 * in their own message) and closed with `<close/>`. A `<close/>` or `<stream:error/>` from the server ends it.
 *
 * References: https://www.rfc-editor.org/rfc/rfc7395 §3.3–§3.6, /work/shared/PROTOCOL.md §2.1
 */
import { type Element, NS_FRAMING, NS_STREAMS } from '@jitsi-one/xmpp';
import { parseFrame } from './dom.js';
import type { Transport } from './transport.js';

export class WebSocketTransport implements Transport {
  readonly kind = 'websocket';
  onElement: (el: Element) => void = () => undefined;
  onClose: (error?: Error) => void = () => undefined;
  readonly #ws: WebSocket;
  readonly #domain: string;
  #ended = false;

  private constructor(ws: WebSocket, domain: string) {
    this.#ws = ws;
    this.#domain = domain;
    ws.addEventListener('message', (ev) => this.#onMessage(String(ev.data)));
    ws.addEventListener('close', () => this.#end(new Error('connection dropped')));
  }

  /** Opens the WebSocket; rejects when it cannot be opened within `timeoutMs` (then BOSH may be tried). */
  static open(url: string, domain: string, timeoutMs: number): Promise<WebSocketTransport> {
    return new Promise((resolve, reject) => {
      let ws: WebSocket;
      try {
        ws = new WebSocket(url, 'xmpp');
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      const fail = (): void => {
        window.clearTimeout(timer);
        try {
          ws.close();
        } catch {
          // already failing
        }
        reject(new Error(`cannot open ${url}`));
      };
      const timer = window.setTimeout(fail, timeoutMs);
      ws.addEventListener('error', fail, { once: true });
      ws.addEventListener(
        'open',
        () => {
          window.clearTimeout(timer);
          ws.removeEventListener('error', fail);
          resolve(new WebSocketTransport(ws, domain));
        },
        { once: true },
      );
    });
  }

  openStream(): void {
    this.send(`<open xmlns="${NS_FRAMING}" to="${this.#domain}" version="1.0"/>`);
  }

  send(data: string): void {
    if (!this.#ended && this.#ws.readyState === WebSocket.OPEN) this.#ws.send(data);
  }

  close(): void {
    if (this.#ended) return;
    this.send(`<close xmlns="${NS_FRAMING}"/>`);
    this.#ended = true;
    this.#ws.close();
    this.onClose();
  }

  abort(): void {
    // Like a network failure: the socket goes, the stream is not closed.
    this.#ws.close();
  }

  #onMessage(data: string): void {
    if (this.#ended) return;
    const el = parseFrame(data);
    if (el === undefined) return this.#end(new Error('malformed data from the server'));
    if (el.name === 'open') {
      if (el.attrs.xmlns !== NS_FRAMING) this.#end(new Error('unexpected stream header'));
      return;
    }
    if (el.name === 'close' && el.attrs.xmlns === NS_FRAMING) return this.#end(new Error('the server closed the stream'));
    if (el.name === 'stream:error' || (el.name === 'error' && el.attrs.xmlns === NS_STREAMS)) {
      const condition = el.children.find((c) => typeof c !== 'string') as Element | undefined;
      return this.#end(new Error(`stream error: ${condition?.name ?? 'unknown'}`));
    }
    this.onElement(el);
  }

  #end(error: Error): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#ws.readyState === WebSocket.OPEN || this.#ws.readyState === WebSocket.CONNECTING) this.#ws.close();
    this.onClose(error);
  }
}
