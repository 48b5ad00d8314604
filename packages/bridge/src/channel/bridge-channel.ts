/**
 * One endpoint's bridge channel, independent of what carries it: a colibri WebSocket today (`colibri-ws.ts`), an
 * SCTP data channel later. The model creates one per endpoint, binds its callbacks once, and sends typed messages;
 * a transport is attached when the client connects and replaced when it reconnects.
 *
 * Delivery rules (what LJM needs, PROTOCOL.md §6.1):
 * - Messages sent while no transport is open are queued, bounded, and flushed in order right after `ServerHello`
 *   when a transport attaches. JVB instead drops them and re-sends its state from
 *   `endpointMessageTransportConnected`; queueing gives the same result without the model having to know when the
 *   client connects, so the first `ForwardedSources` and dominant speaker computed before the client opened its
 *   socket are not lost. State messages (ForwardedSources, dominant speaker, SenderSourceConstraints per source,
 *   EndpointStats per sender, …) are coalesced in the queue: only the latest of each is kept. Deltas (source maps)
 *   and endpoint messages are kept in order; when the queue overflows the oldest entries are dropped, counted and
 *   reported to `onConnected` so the model can re-send full state (e.g. the complete source maps).
 * - While open, a message is dropped and counted if the transport already buffers more than `maxBufferedBytes`
 *   (a stalled client must not grow memory without bound).
 * - Inbound frames are parsed by `parseInboundMessage`; invalid ones are dropped and counted, never thrown.
 *   Callback exceptions are caught and logged.
 *
 * References: PROTOCOL.md §6.1–6.3, §9c item c9, §9f items 5 and 9; JVB `EndpointMessageTransport.java`,
 * `Endpoint.kt` (`endpointMessageTransportConnected`); LJM `modules/RTC/BridgeChannel.ts`.
 */
import type { Logger } from 'pino';
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  SerializedMessage,
  buildServerHello,
  parseInboundMessage,
  serializeMessage,
  type EndpointStatsPayload,
  type InboundDropReason,
  type InboundEndpointMessage,
  type InboundMessage,
  type OutboundMessage,
  type ReceiverAudioSubscription,
  type ReceiverVideoConstraintsMessage,
  type SourceVideoType,
} from './messages.js';

/** What carries a channel's frames (a WebSocket, an SCTP data channel). */
export interface ChannelTransport {
  /** Short name for logs and stats, e.g. `websocket`. */
  readonly kind: string;
  /** Whether `send` delivers now. */
  isOpen(): boolean;
  /** Sends one text frame. Must not throw for a closed transport. */
  send(text: string): void;
  /** Bytes accepted by `send` but not yet written; 0 if unknown. */
  bufferedAmount(): number;
  /** Closes the transport (the close is reported back through `BridgeChannel.detach`). */
  close(code: number, reason: string): void;
}

/** The `ReceiverVideoConstraints` fields as delivered to the model (no `colibriClass`). */
export type ReceiverVideoConstraintsUpdate = Omit<ReceiverVideoConstraintsMessage, 'colibriClass'>;

/** Information given to {@link BridgeChannelHandlers.onConnected}. */
export interface ChannelConnectedInfo {
  /** The transport's kind. */
  readonly transport: string;
  /** False for the first transport of this channel. */
  readonly reconnect: boolean;
  /** Queued messages lost to overflow since the last connection; if > 0, re-send full state. */
  readonly droppedWhileDisconnected: number;
}

/**
 * Callbacks the model binds once per channel. Each is called once per valid inbound message of its class, on the
 * event loop turn that received it. All are optional: an unbound class is counted as `unhandled`.
 */
export interface BridgeChannelHandlers {
  /**
   * A `ReceiverVideoConstraints` as received: absent fields mean "keep previous". Merge it into the receiver's
   * settings with `applyReceiverVideoConstraints` (`cc/constraints.ts`); the channel does not merge.
   */
  onReceiverVideoConstraints?(constraints: ReceiverVideoConstraintsUpdate): void;
  /** A legacy `LastNChangedEvent` (LJM sends it after the constraints when lastN ≠ -1). */
  onLastN?(lastN: number): void;
  /**
   * An `EndpointMessage` to relay: `to` is `''` for a broadcast (to every other endpoint) or an endpoint id. Relay
   * `buildRelayedEndpointMessage(message, senderEndpointId)`; unknown targets are dropped.
   */
  onEndpointMessage?(to: string, message: InboundEndpointMessage): void;
  /** `EndpointStats` (free-form); relay with `buildEndpointStats(stats, senderEndpointId)` to the other endpoints. */
  onEndpointStats?(stats: EndpointStatsPayload): void;
  /** `SourceVideoTypeMessage`: one of the sender's sources changed its video type. */
  onSourceVideoType?(sourceName: string, videoType: SourceVideoType): void;
  /** Legacy `VideoTypeMessage` (no source name): applies to the sender's only/first video source. */
  onVideoType?(videoType: SourceVideoType): void;
  /** `ReceiverAudioSubscription` (normalized). */
  onReceiverAudioSubscription?(subscription: ReceiverAudioSubscription): void;
  /** A transport attached; called after `ServerHello` and the queued messages were sent. */
  onConnected?(info: ChannelConnectedInfo): void;
  /** The current transport closed (the client usually reconnects). Not called by `close()`. */
  onDisconnected?(): void;
}

/** Options of {@link BridgeChannel}. */
export interface BridgeChannelOptions {
  /** The endpoint this channel belongs to (for logs). */
  endpointId: string;
  /** Logger; the channel adds `{ component: 'bridge-channel', epId }`. */
  log?: Logger;
  /** Callbacks, if known at construction; otherwise call {@link BridgeChannel.bind} once. */
  handlers?: BridgeChannelHandlers;
  /** Largest inbound frame accepted, bytes. Default 64 KiB. */
  maxMessageBytes?: number;
  /** Most messages queued while disconnected. Default 256. */
  maxQueuedMessages?: number;
  /** Most bytes queued while disconnected. Default 1 MiB. */
  maxQueuedBytes?: number;
  /** A send is dropped when the transport already buffers more than this. Default 1 MiB. */
  maxBufferedBytes?: number;
  /** `version` of the `ServerHello` this channel sends. Default none. */
  serverVersion?: string;
}

/** Why an outbound message was not sent. */
export type OutboundDropReason =
  /** The queue overflowed while disconnected (oldest dropped). */
  | 'queueOverflow'
  /** The transport buffered more than `maxBufferedBytes`. */
  | 'backpressure'
  /** The channel was closed. */
  | 'closed'
  /** Superseded in the queue by a newer message with the same state key. */
  | 'coalesced';

/** Snapshot of a channel's counters, from {@link BridgeChannel.stats}. */
export interface BridgeChannelStats {
  /** Endpoint id. */
  endpointId: string;
  /** Whether a transport is attached and open. */
  open: boolean;
  /** Transports attached so far. */
  connects: number;
  /** Valid inbound messages by `colibriClass`. */
  received: Record<string, number>;
  /** Dropped inbound frames by reason (`unhandled` = no callback bound; `handlerError` = callback threw). */
  inboundDropped: Record<InboundDropReason | 'unhandled' | 'handlerError', number>;
  /** Messages written to a transport. */
  sent: number;
  /** Outbound messages not delivered, by reason. */
  outboundDropped: Record<OutboundDropReason, number>;
  /** Messages waiting for a transport. */
  queued: number;
}

interface QueuedMessage {
  readonly msg: SerializedMessage;
}

/** Inbound messages held while no handlers are bound yet (so the first ReceiverVideoConstraints is never lost). */
const MAX_PENDING_INBOUND = 32;

/** Close code and reason JVB uses when a second connection replaces the first (PROTOCOL.md §6.1). */
export const CLOSE_REPLACED = { code: 1000, reason: 'replaced' } as const;
/** Close code used when the channel (endpoint) is closed by the bridge. */
export const CLOSE_EXPIRED = { code: 1001, reason: 'endpoint expired' } as const;

/** A bridge channel of one endpoint. See the module comment for delivery rules. */
export class BridgeChannel {
  readonly #endpointId: string;
  readonly #log: Logger | undefined;
  readonly #maxMessageBytes: number;
  readonly #maxQueuedMessages: number;
  readonly #maxQueuedBytes: number;
  readonly #maxBufferedBytes: number;
  readonly #serverHello: SerializedMessage;
  #handlers: BridgeChannelHandlers | undefined;
  #pendingInbound: InboundMessage[] = [];
  #transport: ChannelTransport | undefined;
  #queue: QueuedMessage[] = [];
  #queuedBytes = 0;
  #droppedSinceConnect = 0;
  #connects = 0;
  #closed = false;
  #sent = 0;
  readonly #received: Record<string, number> = {};
  readonly #inboundDropped: BridgeChannelStats['inboundDropped'] = {
    tooLarge: 0,
    tooDeep: 0,
    binary: 0,
    invalidJson: 0,
    notAMessage: 0,
    unknownClass: 0,
    invalidFields: 0,
    unhandled: 0,
    handlerError: 0,
  };
  readonly #outboundDropped: Record<OutboundDropReason, number> = { queueOverflow: 0, backpressure: 0, closed: 0, coalesced: 0 };
  readonly #warned = new Set<string>();

  constructor(options: BridgeChannelOptions) {
    this.#endpointId = options.endpointId;
    this.#log = options.log?.child({ component: 'bridge-channel', epId: options.endpointId });
    this.#handlers = options.handlers;
    this.#maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.#maxQueuedMessages = options.maxQueuedMessages ?? 256;
    this.#maxQueuedBytes = options.maxQueuedBytes ?? 1024 * 1024;
    this.#maxBufferedBytes = options.maxBufferedBytes ?? 1024 * 1024;
    this.#serverHello = serializeMessage(buildServerHello(options.serverVersion));
  }

  /** The endpoint id. */
  get endpointId(): string {
    return this.#endpointId;
  }

  /** Whether a transport is attached and open. */
  get isOpen(): boolean {
    return !this.#closed && this.#transport !== undefined && this.#transport.isOpen();
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Binds the model's callbacks. Call once (throws if handlers are already bound). Messages that arrived before
   * (at most 32) are dispatched now, in order.
   */
  bind(handlers: BridgeChannelHandlers): void {
    if (this.#handlers !== undefined) throw new Error('BridgeChannel handlers are already bound');
    this.#handlers = handlers;
    const pending = this.#pendingInbound;
    this.#pendingInbound = [];
    for (const m of pending) this.#dispatch(m);
  }

  /**
   * Handles one inbound frame (called by the transport once per frame). Never throws; invalid frames are counted.
   * Returns true when the frame was a valid message.
   */
  onMessage(data: string | Buffer, isBinary = false): boolean {
    if (this.#closed) return false;
    const r = parseInboundMessage(data, { maxBytes: this.#maxMessageBytes, isBinary });
    if (!r.ok) {
      this.#inboundDropped[r.reason]++;
      this.#noteDrop(r.reason, r.colibriClass);
      return false;
    }
    const cls = r.message.colibriClass;
    this.#received[cls] = (this.#received[cls] ?? 0) + 1;
    if (this.#handlers === undefined && cls !== 'ClientHello') {
      if (this.#pendingInbound.length >= MAX_PENDING_INBOUND) this.#pendingInbound.shift();
      this.#pendingInbound.push(r.message);
      return true;
    }
    this.#dispatch(r.message);
    return true;
  }

  /** Serializes and sends (or queues) one message. Returns false if it was dropped. */
  send(msg: OutboundMessage): boolean {
    return this.sendSerialized(serializeMessage(msg));
  }

  /** Sends (or queues) a message serialized once with `serializeMessage` (for fan-out). Returns false if dropped. */
  sendSerialized(msg: SerializedMessage): boolean {
    if (this.#closed) {
      this.#outboundDropped.closed++;
      return false;
    }
    const t = this.#transport;
    if (t !== undefined && t.isOpen()) return this.#write(t, msg);
    this.#enqueue(msg);
    return true;
  }

  /**
   * Attaches a transport that just opened. A previous transport is closed with {@link CLOSE_REPLACED} (JVB). Sends
   * `ServerHello` first when `serverHello` is true (JVB does so on WebSocket, not on SCTP), then the queued
   * messages, then calls `onConnected`. Returns false (and closes the transport) if the channel is closed.
   */
  attach(transport: ChannelTransport, options: { serverHello: boolean }): boolean {
    if (this.#closed) {
      transport.close(CLOSE_EXPIRED.code, CLOSE_EXPIRED.reason);
      return false;
    }
    const old = this.#transport;
    this.#transport = transport;
    if (old !== undefined && old !== transport) {
      this.#log?.info({ transport: transport.kind }, 'bridge channel replaced');
      old.close(CLOSE_REPLACED.code, CLOSE_REPLACED.reason);
    } else {
      this.#log?.info({ transport: transport.kind }, 'bridge channel connected');
    }
    const reconnect = this.#connects > 0;
    this.#connects++;
    if (options.serverHello) this.#write(transport, this.#serverHello);
    this.#flush();
    const droppedWhileDisconnected = this.#droppedSinceConnect;
    this.#droppedSinceConnect = 0;
    const h = this.#handlers;
    if (h !== undefined) this.#invoke(h, 'onConnected', h.onConnected, { transport: transport.kind, reconnect, droppedWhileDisconnected });
    return true;
  }

  /** Reports that `transport` closed. Ignored unless it is the current one (a replaced socket closing late). */
  detach(transport: ChannelTransport): void {
    if (this.#transport !== transport) return;
    this.#transport = undefined;
    if (this.#closed) return;
    this.#log?.info({ transport: transport.kind }, 'bridge channel disconnected');
    const h = this.#handlers;
    if (h !== undefined) this.#invoke(h, 'onDisconnected', h.onDisconnected);
  }

  /** Closes the transport and drops the queue; later sends are dropped. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const t = this.#transport;
    this.#transport = undefined;
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#pendingInbound = [];
    t?.close(CLOSE_EXPIRED.code, CLOSE_EXPIRED.reason);
  }

  /** A snapshot of the counters. */
  stats(): BridgeChannelStats {
    return {
      endpointId: this.#endpointId,
      open: this.isOpen,
      connects: this.#connects,
      received: { ...this.#received },
      inboundDropped: { ...this.#inboundDropped },
      sent: this.#sent,
      outboundDropped: { ...this.#outboundDropped },
      queued: this.#queue.length,
    };
  }

  #write(t: ChannelTransport, msg: SerializedMessage): boolean {
    if (t.bufferedAmount() > this.#maxBufferedBytes) {
      this.#outboundDropped.backpressure++;
      this.#noteDrop('backpressure', msg.colibriClass);
      return false;
    }
    try {
      t.send(msg.text);
    } catch (err) {
      // A transport must not throw, but a socket closing under us must not reach the caller either.
      this.#log?.debug({ err }, 'bridge channel send failed');
      return false;
    }
    this.#sent++;
    return true;
  }

  #enqueue(msg: SerializedMessage): void {
    if (msg.coalesceKey !== undefined) {
      const i = this.#queue.findIndex((q) => q.msg.coalesceKey === msg.coalesceKey);
      if (i >= 0) {
        const [old] = this.#queue.splice(i, 1);
        if (old !== undefined) this.#queuedBytes -= old.msg.text.length;
        this.#outboundDropped.coalesced++;
      }
    }
    this.#queue.push({ msg });
    this.#queuedBytes += msg.text.length;
    while (this.#queue.length > this.#maxQueuedMessages || (this.#queuedBytes > this.#maxQueuedBytes && this.#queue.length > 1)) {
      const dropped = this.#queue.shift();
      if (dropped === undefined) break;
      this.#queuedBytes -= dropped.msg.text.length;
      this.#outboundDropped.queueOverflow++;
      this.#droppedSinceConnect++;
      this.#noteDrop('queueOverflow', dropped.msg.colibriClass);
    }
  }

  #flush(): void {
    const queue = this.#queue;
    this.#queue = [];
    this.#queuedBytes = 0;
    for (const q of queue) {
      const t = this.#transport;
      if (t === undefined || !t.isOpen()) {
        // The transport closed while flushing: keep the rest for the next one.
        this.#enqueue(q.msg);
        continue;
      }
      this.#write(t, q.msg);
    }
  }

  #dispatch(m: InboundMessage): void {
    const h = this.#handlers;
    if (h === undefined) return;
    switch (m.colibriClass) {
      case 'ReceiverVideoConstraints': {
        const { colibriClass: _, ...constraints } = m;
        this.#invoke(h, m.colibriClass, h.onReceiverVideoConstraints, constraints);
        break;
      }
      case 'LastNChangedEvent':
        this.#invoke(h, m.colibriClass, h.onLastN, m.lastN);
        break;
      case 'SourceVideoTypeMessage':
        this.#invoke(h, m.colibriClass, h.onSourceVideoType, m.sourceName, m.videoType);
        break;
      case 'VideoTypeMessage':
        this.#invoke(h, m.colibriClass, h.onVideoType, m.videoType);
        break;
      case 'EndpointMessage':
        this.#invoke(h, m.colibriClass, h.onEndpointMessage, m.message.to, m.message);
        break;
      case 'EndpointStats':
        this.#invoke(h, m.colibriClass, h.onEndpointStats, m.stats);
        break;
      case 'ReceiverAudioSubscription':
        this.#invoke(h, m.colibriClass, h.onReceiverAudioSubscription, m.subscription);
        break;
      case 'ClientHello': {
        // JVB answers ClientHello with ServerHello (MessageHandler.clientHello).
        const t = this.#transport;
        if (t !== undefined && t.isOpen()) this.#write(t, this.#serverHello);
        break;
      }
    }
  }

  /**
   * Calls one bound handler (with the handlers object as `this`), counting `unhandled` when it is absent and
   * catching what it throws (STYLE.md §3.7 safeEmit). `inbound` = false for lifecycle callbacks.
   */
  #invoke<A extends unknown[]>(
    h: BridgeChannelHandlers,
    what: string,
    fn: ((...args: A) => void) | undefined,
    ...args: A
  ): void {
    if (fn === undefined) {
      if (what !== 'onConnected' && what !== 'onDisconnected') this.#inboundDropped.unhandled++;
      return;
    }
    try {
      fn.apply(h, args);
    } catch (err) {
      if (what !== 'onConnected' && what !== 'onDisconnected') this.#inboundDropped.handlerError++;
      this.#log?.error({ err, callback: what }, 'bridge channel handler failed');
    }
  }

  /** Logs the first drop of each kind at warn (peer misbehaviour), later ones at debug; the counters are the record. */
  #noteDrop(reason: string, colibriClass: string | undefined): void {
    if (this.#log === undefined) return;
    if (!this.#warned.has(reason)) {
      this.#warned.add(reason);
      this.#log.warn({ reason, colibriClass }, 'bridge channel message dropped');
    } else {
      this.#log.debug({ reason, colibriClass }, 'bridge channel message dropped');
    }
  }
}

/**
 * Sends one message to many channels, serializing it once (dominant speaker to a whole conference, a broadcast
 * endpoint message). `except` is skipped (the sender of a broadcast). Returns how many channels accepted it
 * (sent or queued).
 */
export function broadcast(
  channels: Iterable<BridgeChannel>,
  msg: OutboundMessage | SerializedMessage,
  except?: BridgeChannel,
): number {
  const serialized = msg instanceof SerializedMessage ? msg : serializeMessage(msg);
  let n = 0;
  for (const c of channels) {
    if (c === except) continue;
    if (c.sendSerialized(serialized)) n++;
  }
  return n;
}
