/**
 * The byte-level side of an XMPP connection, as strophe.js has it: XMPP over WebSocket (RFC 7395) or over BOSH
 * (XEP-0124/0206). {@link XmppConnection} logs in and routes stanzas on top of either; a transport only frames.
 *
 * A transport hands up every top-level element it receives except its own framing (the WebSocket `<open/>` and
 * `<close/>`, the BOSH `<body/>`): first the stream features after each stream (re)start, then stanzas. It reports
 * its end once, with an error unless {@link Transport.close} was called.
 *
 * References:
 * - https://www.rfc-editor.org/rfc/rfc7395 (WebSocket: §3.3 one element per message, §3.4 open, §3.6 close)
 * - https://xmpp.org/extensions/xep-0124.html, https://xmpp.org/extensions/xep-0206.html (BOSH, restart §5)
 * - /work/shared/PROTOCOL.md §2.1, §2.2
 */
import type { Element } from '@jitsi-one/xmpp';

export interface Transport {
  readonly kind: 'websocket' | 'bosh';
  /** Where incoming elements go. */
  onElement: (el: Element) => void;
  /** Called once when the transport is gone; `error` unless closed by {@link close}. */
  onClose: (error?: Error) => void;
  /** Opens (first call) or restarts (after SASL) the XML stream; the features arrive through `onElement`. */
  openStream(): void;
  /** Sends one serialized top-level element. */
  send(data: string): void;
  /** Ends the stream and the connection cleanly. Idempotent. */
  close(): void;
  /** Drops the connection without ending the stream, as a network failure would (tests). */
  abort(): void;
}
