/**
 * In-process transport: a session for our own focus (and tests) with no socket. Stanzas sent to the session are
 * parsed back into fresh elements, so the receiver owns what it gets (fan-out shares one serialized string).
 */
import type { Session, Transport } from '../session.js';
import type { Element } from '../stanza/xml.js';
import { XmlStreamParser } from '../stream/parser.js';

export class LocalTransport implements Transport {
  readonly kind = 'local' as const;
  readonly secure = true;
  readonly remoteAddress = undefined;
  session: Session | undefined;
  #closed = false;
  readonly #parser: XmlStreamParser;

  constructor(onStanza: (stanza: Element) => void) {
    this.#parser = new XmlStreamParser('framed', {
      element: (el) => {
        try {
          onStanza(el);
        } catch (err) {
          this.session?.log.error({ err }, 'local session handler failed');
        }
      },
      error: (err) => {
        this.session?.log.error({ err }, 'local session got unparsable output');
        this.#parser.reset();
      },
    }, { maxStanzaSize: Number.MAX_SAFE_INTEGER, maxDepth: 10_000, maxAttributes: 10_000 });
  }

  sendOpen(): void {}

  send(data: string): void {
    if (this.#closed) return;
    this.#parser.write(data);
  }

  /** The in-process client sends a stanza into the server. */
  receive(stanza: Element): void {
    this.session?.receive(stanza);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.session?.transportClosed();
  }
}
