/**
 * The bridge channel over colibri-ws: one JSON object per text frame, each with a `colibriClass` (PROTOCOL §6).
 * Opened when the session-initiate is processed; reopened with LJM's backoff (1, 2, 4 … 60 s) when it drops
 * unexpectedly. The receiver video constraints are state: the latest ones are (re)sent whenever the socket opens
 * (§6.1), and only sent again when they change.
 *
 * TODO(#6): EndpointMessage (chat reactions), DominantSpeakerEndpointChangeEvent (stage view), EndpointStats
 * (connection indicator) and SourceVideoTypeMessage (screen share) are received/sent through {@link send} and the
 * `message` event once those features exist.
 *
 * References:
 * - /work/shared/PROTOCOL.md §6.1 (transport), §6.2 (ReceiverVideoConstraints), §6.3 (bridge → client)
 */
import { Emitter } from '../events.js';

/** What the client asks the bridge to forward (§6.2). Heights in pixels; -1 = unlimited, 0 = nothing. */
export interface ReceiverVideoConstraints {
  /** -1 = all sources. */
  lastN: number;
  /** Sources shown large (stage view). */
  onStageSources?: string[];
  /** Height for sources not listed in {@link constraints}. */
  defaultConstraints: { maxHeight: number };
  /** Per source name. */
  constraints: Record<string, { maxHeight: number }>;
}

/** A message from the bridge. */
export interface BridgeMessage {
  colibriClass: string;
  [field: string]: unknown;
}

interface BridgeChannelEvents {
  message: BridgeMessage;
  open: undefined;
}

const MAX_BACKOFF_MS = 60_000;

export class BridgeChannel extends Emitter<BridgeChannelEvents> {
  readonly #url: string;
  #ws: WebSocket | undefined;
  #closed = false;
  #backoffMs = 1000;
  #retry: number | undefined;
  #constraints: ReceiverVideoConstraints | undefined;
  #sentConstraints = '';

  constructor(url: string) {
    super();
    this.#url = url;
    this.#open();
  }

  /** True while the WebSocket is open. */
  get isOpen(): boolean {
    return this.#ws?.readyState === WebSocket.OPEN;
  }

  /** Sets the receiver constraints; sent now if open and changed, else when the channel opens. */
  setReceiverConstraints(c: ReceiverVideoConstraints): void {
    this.#constraints = c;
    this.#sendConstraints();
  }

  /** Sends a message if the channel is open; returns whether it was sent. */
  send(message: BridgeMessage): boolean {
    if (this.#ws?.readyState !== WebSocket.OPEN) return false;
    this.#ws.send(JSON.stringify(message));
    return true;
  }

  close(): void {
    this.#closed = true;
    window.clearTimeout(this.#retry);
    this.#ws?.close(1000);
    this.removeAllListeners();
  }

  #open(): void {
    const ws = new WebSocket(this.#url);
    this.#ws = ws;
    ws.addEventListener('open', () => {
      this.#backoffMs = 1000;
      this.#sentConstraints = '';
      this.#sendConstraints();
      this.emit('open', undefined);
    });
    ws.addEventListener('message', (ev) => {
      let msg: unknown;
      try {
        msg = JSON.parse(String(ev.data));
      } catch {
        return;
      }
      if (typeof msg === 'object' && msg !== null && typeof (msg as BridgeMessage).colibriClass === 'string') {
        this.emit('message', msg as BridgeMessage);
      }
    });
    ws.addEventListener('close', () => {
      if (this.#closed || this.#ws !== ws) return;
      this.#retry = window.setTimeout(() => this.#open(), this.#backoffMs);
      this.#backoffMs = Math.min(this.#backoffMs * 2, MAX_BACKOFF_MS);
    });
  }

  #sendConstraints(): void {
    if (this.#constraints === undefined) return;
    const json = JSON.stringify({ colibriClass: 'ReceiverVideoConstraints', assumedBandwidthBps: -1, ...this.#constraints });
    if (json === this.#sentConstraints || this.#ws?.readyState !== WebSocket.OPEN) return;
    this.#ws.send(json);
    this.#sentConstraints = json;
  }
}
