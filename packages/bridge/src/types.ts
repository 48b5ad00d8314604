/**
 * Contracts of the bridge's domain model: the media transport it consumes, the clock and scheduler it is given,
 * the events it emits for the bridge channel, and the stats snapshot. A leaf module (no runtime imports), so the
 * domain classes can share {@link SafeEmitter} without import cycles.
 *
 * References: STYLE.md §3.4 (domain model, lifecycle), §3.7 (safeEmit); PROTOCOL.md §6 (bridge channel messages
 * the events feed), §7.5 (source maps).
 */
import type { Logger } from 'pino';
import type { ReceiverVideoConstraintsInput } from './cc/constraints.js';
import type { DominantSpeakerChange } from './cc/speech-activity.js';
import type { Candidate } from './colibri/types.js';
import type { NodeStats } from './pipeline/node.js';

export type { Candidate } from './colibri/types.js';

// ------------------------------------------------------------------------------------------------ transport

/** ICE/DTLS state of one endpoint's transport. */
export type MediaTransportState = 'new' | 'checking' | 'connected' | 'failed' | 'closed';

/**
 * ICE + DTLS + SRTP for one endpoint, as the bridge core sees it: decrypted packets in, plain packets out. The real
 * implementation (transport/endpoint-transport.ts on the shared UDP port) is adapted to this by the composition
 * root; tests use fakes connected back-to-back.
 */
export interface MediaTransport {
  readonly localUfrag: string;
  readonly localPwd: string;
  readonly localFingerprint: { hash: 'sha-256'; value: string };
  /** Every bridge candidate (all go in the first offer). */
  localCandidates(): Candidate[];
  /** The client's ICE credentials, DTLS fingerprints (setup role included) and optional candidates. */
  setRemote(p: {
    ufrag: string;
    pwd: string;
    fingerprints: { hash: string; value: string; setup?: 'active' | 'passive' | 'actpass' }[];
    candidates?: Candidate[];
  }): void;
  readonly state: MediaTransportState;
  /** Decrypted RTP; `buf` is only valid during the call. Set by the endpoint. */
  onRtp: (buf: Buffer, len: number) => void;
  /** Decrypted RTCP (compound); `buf` is only valid during the call. Set by the endpoint. */
  onRtcp: (buf: Buffer, len: number) => void;
  /** Set by the endpoint. */
  onStateChange: (state: MediaTransportState) => void;
  /** Encrypts and sends (copies what it needs: the caller may reuse `buf` right after). */
  sendRtp(buf: Buffer, len: number): void;
  sendRtcp(buf: Buffer, len: number): void;
  /** Frees sockets/timers of this endpoint. Idempotent. */
  close(): void;
}

/** Creates the transport of a new endpoint. */
export type TransportFactory = (endpointId: string) => MediaTransport;

// ------------------------------------------------------------------------------------------------ time

/** Monotonic milliseconds (fractions allowed). Default `performance.now()`. */
export interface Clock {
  nowMs(): number;
}

/** Opaque timer handle. */
export type TimerHandle = unknown;

/** Timers, injectable so tests drive time by hand and can count what is still scheduled. */
export interface Scheduler {
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  setInterval(fn: () => void, ms: number): TimerHandle;
  clearInterval(handle: TimerHandle): void;
}

/** The real clock. */
export const systemClock: Clock = { nowMs: () => performance.now() };

/** Node timers, unref'd so a forgotten bridge never keeps the process alive. */
export const systemScheduler: Scheduler = {
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout(h) {
    clearTimeout(h as NodeJS.Timeout);
  },
  setInterval(fn, ms) {
    const t = setInterval(fn, ms);
    t.unref();
    return t;
  },
  clearInterval(h) {
    clearInterval(h as NodeJS.Timeout);
  },
};

// ------------------------------------------------------------------------------------------------ events

// biome-ignore lint/suspicious/noExplicitAny: listener storage is untyped; the public methods are typed.
type AnyListener = (...args: any[]) => void;

/**
 * A small typed event emitter whose `safeEmit` never lets a listener's exception reach the emitter (mediasoup
 * `EnhancedEventEmitter`, STYLE §3.7): the error goes to {@link SafeEmitter.listenerError}.
 */
export class SafeEmitter<E extends { [K in keyof E]: unknown[] }> {
  readonly #listeners = new Map<keyof E, AnyListener[]>();

  /** Adds a listener. */
  on<K extends keyof E>(event: K, listener: (...args: E[K]) => void): this {
    const list = this.#listeners.get(event);
    if (list === undefined) this.#listeners.set(event, [listener as AnyListener]);
    else list.push(listener as AnyListener);
    return this;
  }

  /** Adds a listener that runs once. */
  once<K extends keyof E>(event: K, listener: (...args: E[K]) => void): this {
    const wrapper = (...args: E[K]): void => {
      this.off(event, wrapper);
      listener(...args);
    };
    return this.on(event, wrapper);
  }

  /** Removes a listener. */
  off<K extends keyof E>(event: K, listener: (...args: E[K]) => void): this {
    const list = this.#listeners.get(event);
    if (list === undefined) return this;
    const i = list.indexOf(listener as AnyListener);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.#listeners.delete(event);
    return this;
  }

  /** Number of listeners of `event`. */
  listenerCount(event: keyof E): number {
    return this.#listeners.get(event)?.length ?? 0;
  }

  /** Removes every listener (done on close/expire, after the final events). */
  removeAllListeners(): void {
    this.#listeners.clear();
  }

  /** Calls the listeners of `event`; exceptions are reported to {@link listenerError}, never thrown. */
  protected safeEmit<K extends keyof E>(event: K, ...args: E[K]): void {
    const list = this.#listeners.get(event);
    if (list === undefined) return;
    for (const fn of list.length === 1 ? list : list.slice()) {
      try {
        fn(...args);
      } catch (err) {
        this.listenerError(event, err);
      }
    }
  }

  /** Where listener exceptions go; subclasses log them. */
  protected listenerError(_event: keyof E, _err: unknown): void {}
}

/** One entry of `VideoSourcesMap` (PROTOCOL.md §6.3, §7.5). */
export interface VideoSourceMapping {
  /** Source name. */
  source: string;
  /** Owner endpoint id. */
  owner: string;
  /** Slot SSRC the receiver sees. */
  ssrc: number;
  /** Slot RTX SSRC (always a real SSRC: LJM compares it as a string with '-1'). */
  rtx: number;
  /** `CAMERA`, `DESKTOP`, `DESKTOP_HIGH_FPS` or `DISABLED`. */
  videoType: 'CAMERA' | 'DESKTOP' | 'DESKTOP_HIGH_FPS' | 'DISABLED';
}

/** One entry of `AudioSourcesMap` (PROTOCOL.md §6.3, §7.5). */
export interface AudioSourceMapping {
  source: string;
  owner: string;
  ssrc: number;
}

/** `SenderSourceConstraints` content for one of an endpoint's own sources. */
export interface SenderSourceConstraints {
  sourceName: string;
  /** -1 unlimited, 0 stop sending. */
  maxHeight: number;
}

/** `ReceiverVideoConstraints` as received on the bridge channel (PROTOCOL.md §6.2). */
export type ReceiverVideoConstraints = ReceiverVideoConstraintsInput & { colibriClass?: 'ReceiverVideoConstraints' };

/** Events of an {@link Endpoint}; what the bridge channel turns into messages for this endpoint. */
export interface EndpointEvents {
  /** `ForwardedSources`: the set of video sources forwarded to this endpoint changed (names, priority order). */
  forwardedSourcesChanged: [sources: readonly string[]];
  /** `SenderSourceConstraints`: the most any receiver wants from one of this endpoint's sources changed. */
  senderSourceConstraints: [constraints: SenderSourceConstraints];
  /** `DominantSpeakerEndpointChangeEvent` (the same for every endpoint of the conference). */
  dominantSpeakerChanged: [change: DominantSpeakerChange];
  /** `VideoSourcesMap` (SSRC-rewriting receivers only): changed entries. */
  videoSourcesMap: [mappings: readonly VideoSourceMapping[]];
  /** `AudioSourcesMap` (SSRC-rewriting receivers only): changed entries. */
  audioSourcesMap: [mappings: readonly AudioSourceMapping[]];
  /** The media transport changed state (`failed`: the endpoint stopped answering or DTLS failed). */
  transportStateChanged: [state: MediaTransportState];
  /** The endpoint expired (by request, by its conference, or by the bridge closing). Emitted once. */
  expired: [];
}

/** Events of a {@link Conference}. */
export interface ConferenceEvents {
  endpointCreated: [endpointId: string];
  endpointExpired: [endpointId: string];
  dominantSpeakerChanged: [change: DominantSpeakerChange];
  /** Emitted once. */
  expired: [];
}

/** Events of a {@link Bridge}. */
export interface BridgeEvents {
  conferenceCreated: [conferenceId: string, meetingId: string];
  conferenceExpired: [conferenceId: string, meetingId: string];
  /** Emitted once. */
  closed: [];
}

// ------------------------------------------------------------------------------------------------ stats

/** Counters of one direction of one endpoint. */
export interface TrafficStats {
  packets: number;
  bytes: number;
  /** Over the last second. */
  bitrateBps: number;
}

/** One video source forwarded to a receiver. */
export interface ForwardedLayerStats {
  source: string;
  /** Encoding being forwarded (-1 none). */
  encoding: number;
  /** Highest temporal id forwarded (-1 none). */
  temporal: number;
  /** Allocator target encoding (-1 off). */
  targetEncoding: number;
  /** Height of the forwarded encoding, 0 when none. */
  height: number;
  /** Spatial switches so far. */
  switches: number;
}

/** Snapshot of one endpoint. */
export interface EndpointStatsSnapshot {
  id: string;
  statsId: string | undefined;
  transportState: MediaTransportState;
  ssrcRewriting: boolean;
  received: TrafficStats;
  sent: TrafficStats;
  /** Fraction of packets lost on the way in (our receive side, last report interval), 0–1. */
  incomingLossFraction: number;
  /** Loss the endpoint reported for what we send it (its RRs), 0–1. */
  outgoingLossFraction: number;
  /** Round-trip time from its RRs, NaN until known. */
  rttMs: number;
  /** Bandwidth estimate towards it (bps), -1 when not used. */
  bandwidthEstimateBps: number;
  /** Packets retransmitted to it from the NACK cache (answers to its NACKs). */
  nackRetransmissions: number;
  /**
   * NACKs to it as a sender: sequence numbers found missing in its video, how many of those arrived afterwards
   * (retransmitted or late), and how many sequence numbers were requested (repeats included).
   */
  retransmissionRequests: { missing: number; recovered: number; requests: number };
  /** Its RTP dropped on arrival by `bridge.limits.maxReceiveBitrateBps`. */
  receiveRateLimited: { packets: number; bytes: number };
  keyframeRequestsSent: number;
  forwardedSources: readonly string[];
  layers: ForwardedLayerStats[];
  /** The receive and send pipelines, node by node (drops per reason). */
  pipelines: { receive: NodeStats; rtcp: NodeStats; send: NodeStats };
}

/** Snapshot of one conference. */
export interface ConferenceStatsSnapshot {
  id: string;
  meetingId: string;
  name: string | undefined;
  dominantSpeaker: string | null;
  endpoints: EndpointStatsSnapshot[];
}

/** Snapshot of the whole bridge. */
export interface BridgeStatsSnapshot {
  conferences: number;
  endpoints: number;
  packetsReceived: number;
  packetsSent: number;
  bytesReceived: number;
  bytesSent: number;
  conferenceList: ConferenceStatsSnapshot[];
}

// ------------------------------------------------------------------------------------------------ logging

/** A pino-compatible logger that writes nothing (when the embedder passes none). */
export function silentLogger(): Logger {
  const noop = (): void => {};
  const log: Record<string, unknown> = {
    level: 'silent',
    fatal: noop,
    error: noop,
    warn: noop,
    info: noop,
    debug: noop,
    trace: noop,
    silent: noop,
    isLevelEnabled: () => false,
  };
  log.child = () => log;
  return log as unknown as Logger;
}
