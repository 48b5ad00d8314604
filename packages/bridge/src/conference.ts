/**
 * Conference: the endpoints of one meeting, the index of their sources and SSRCs, speech activity (dominant
 * speaker, last-N order), the fan-out of every packet to the other endpoints, keyframe requests to senders, and
 * the allocator runs (on events, deferred to once per event-loop turn, and on a timer; never per packet).
 *
 * One interval timer per conference drives transport-cc feedback, speech-activity decisions, RTCP reports and
 * the periodic allocation; it stops when the conference expires.
 *
 * References: STYLE.md §3.4 (fan-out with copy avoidance: copy for every interested receiver except the last);
 * PROTOCOL.md §5.1 (feedback sources), §6.3 (DominantSpeakerEndpointChangeEvent), §7.3, §7.4 (keyframe requests,
 * rate-limited per source); JVB `Conference.kt`.
 */
import { randomBytes, randomInt } from 'node:crypto';
import type { Logger } from 'pino';
import { type Allocation, senderMaxHeights } from './cc/allocator.js';
import { type DominantSpeakerChange, SpeechActivity } from './cc/speech-activity.js';
import type { MediaSourceDesc } from './colibri/types.js';
import type { BridgeConfig } from './config.js';
import { Endpoint } from './endpoint.js';
import { InvalidStateError } from './errors.js';
import type { SourcePacketCache } from './pipeline/packet-cache.js';
import type { IncomingStream } from './pipeline/receive.js';
import type { PacketInfo, PacketInfoPool } from './rtp/packet-info.js';
import { sameLayout, type Source, type VideoSource } from './source.js';
import {
  type Clock,
  type ConferenceEvents,
  type ConferenceStatsSnapshot,
  SafeEmitter,
  type Scheduler,
  type TimerHandle,
  type TransportFactory,
} from './types.js';

/** What the bridge hands to a new conference. */
export interface ConferenceInit {
  readonly meetingId: string;
  readonly name: string | undefined;
  readonly config: BridgeConfig;
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  readonly pool: PacketInfoPool;
  readonly transportFactory: TransportFactory;
  readonly log: Logger;
  readonly wallClockOffsetMs: number;
  /** Called once when the conference expires (the bridge drops it). */
  readonly onExpired: (c: Conference) => void;
}

/** The bridge's own RTCP SSRCs in this conference (`jvb-a0` / `jvb-v0`). */
export interface FeedbackSsrcs {
  readonly audio: number;
  readonly video: number;
}

/** One meeting on the bridge. See the module comment. */
export class Conference extends SafeEmitter<ConferenceEvents> {
  /** Bridge-local id (hex), used in colibri-ws URLs. */
  readonly id: string;
  /** Meeting id (Colibri2 `meeting-id`). */
  readonly meetingId: string;
  /** Room JID. */
  readonly name: string | undefined;
  readonly log: Logger;
  readonly feedbackSsrcs: FeedbackSsrcs;

  readonly #config: BridgeConfig;
  readonly #clock: Clock;
  readonly #scheduler: Scheduler;
  readonly #pool: PacketInfoPool;
  readonly #transportFactory: TransportFactory;
  readonly #wallOffsetMs: number;
  readonly #onExpired: (c: Conference) => void;
  #expired = false;

  readonly #endpoints = new Map<string, Endpoint>();
  /** Every endpoint, for the fan-out loop (rebuilt on join/leave). */
  #receivers: Endpoint[] = [];
  readonly #endpointsBySsrc = new Map<number, Endpoint>();
  readonly #sourcesByName = new Map<string, Source>();
  #videoSources: VideoSource[] = [];
  readonly #ownSsrcs = new Set<number>();
  readonly #speech = new SpeechActivity();

  #timer: TimerHandle | undefined;
  #allocationTimer: TimerHandle | undefined;
  #lastRtcpMs: number;
  #lastAllocationMs: number;
  #allocations = 0;
  #fanOutDepth = 0;
  #fanOutErrors = 0;
  #updateDepth = 0;
  #hadEndpoints = false;
  readonly #fanOutScratch: (Endpoint | undefined)[] = [];

  constructor(init: ConferenceInit) {
    super();
    this.id = randomBytes(8).toString('hex');
    this.meetingId = init.meetingId;
    this.name = init.name;
    this.log = init.log.child({ confId: this.id, meetingId: init.meetingId.slice(0, 8) });
    this.#config = init.config;
    this.#clock = init.clock;
    this.#scheduler = init.scheduler;
    this.#pool = init.pool;
    this.#transportFactory = init.transportFactory;
    this.#wallOffsetMs = init.wallClockOffsetMs;
    this.#onExpired = init.onExpired;
    this.feedbackSsrcs = { audio: this.allocateSsrc(), video: this.allocateSsrc() };
    const now = init.clock.nowMs();
    this.#lastRtcpMs = now;
    this.#lastAllocationMs = now;
    this.#timer = init.scheduler.setInterval(() => this.#tick(), init.config.feedback.transportCcIntervalMs);
    this.log.info('conference created');
  }

  // =============================================================================================== public API

  get expired(): boolean {
    return this.#expired;
  }

  /** Endpoints by id. */
  get endpoints(): ReadonlyMap<string, Endpoint> {
    return this.#endpoints;
  }

  /** Every signalled SSRC (media and RTX) → the endpoint sending it. */
  get endpointsBySsrc(): ReadonlyMap<number, Endpoint> {
    return this.#endpointsBySsrc;
  }

  /** Every signalled source by name. */
  get sourcesByName(): ReadonlyMap<string, Source> {
    return this.#sourcesByName;
  }

  /** Current dominant speaker, or null. */
  get dominantSpeaker(): string | null {
    return this.#speech.dominantSpeaker;
  }

  /** Endpoint ids, most recent dominant speaker first (the last-N order). */
  speakerOrder(): readonly string[] {
    return this.#speech.speakerOrder();
  }

  /** The bridge's feedback sources, for the offer (`jvb-a0`, `jvb-v0`). */
  feedbackSources(): MediaSourceDesc[] {
    return [
      { type: 'audio', id: 'jvb-a0', sources: [{ ssrc: this.feedbackSsrcs.audio, name: 'jvb-a0' }] },
      { type: 'video', id: 'jvb-v0', sources: [{ ssrc: this.feedbackSsrcs.video, name: 'jvb-v0' }] },
    ];
  }

  /** Expires the conference and every endpoint (idempotent). */
  expire(): void {
    if (this.#expired) return;
    this.#expired = true;
    this.#clearTimers();
    for (const ep of [...this.#endpoints.values()]) {
      ep.expireByConference();
      this.safeEmit('endpointExpired', ep.id);
    }
    this.#endpoints.clear();
    this.#receivers = [];
    this.#endpointsBySsrc.clear();
    this.#sourcesByName.clear();
    this.#videoSources = [];
    this.#ownSsrcs.clear();
    this.log.info('conference expired');
    this.#onExpired(this);
    this.safeEmit('expired');
    this.removeAllListeners();
  }

  /** Snapshot for the stats endpoint. */
  stats(): ConferenceStatsSnapshot {
    return {
      id: this.id,
      meetingId: this.meetingId,
      name: this.name,
      dominantSpeaker: this.#speech.dominantSpeaker,
      endpoints: [...this.#endpoints.values()].map((e) => e.stats()),
    };
  }

  /** Introspection for tests/debugging: sizes of the conference's maps and live timers. */
  debugState(): Record<string, number> {
    return {
      endpoints: this.#endpoints.size,
      receivers: this.#receivers.length,
      endpointsBySsrc: this.#endpointsBySsrc.size,
      sources: this.#sourcesByName.size,
      videoSources: this.#videoSources.length,
      speakers: this.#speech.speakerOrder().length,
      timers: (this.#timer === undefined ? 0 : 1) + (this.#allocationTimer === undefined ? 0 : 1),
      allocations: this.#allocations,
      fanOutErrors: this.#fanOutErrors,
    };
  }

  // =============================================================================================== internal: colibri

  /** Creates an endpoint with its transport (the caller checked the id is free). Internal. */
  createEndpoint(id: string, capabilities: readonly string[]): Endpoint {
    if (this.#expired) throw new InvalidStateError('conference expired');
    const transport = this.#transportFactory(id);
    const ep = new Endpoint({
      id,
      conference: this,
      transport,
      pool: this.#pool,
      config: this.#config,
      clock: this.#clock,
      log: this.log.child({ epId: id }),
      wallClockOffsetMs: this.#wallOffsetMs,
      capabilities,
    });
    this.#endpoints.set(id, ep);
    this.#hadEndpoints = true;
    this.#receivers = [...this.#endpoints.values()];
    this.#speech.addEndpoint(id);
    for (const src of this.#sourcesByName.values()) if (src.kind === 'audio') ep.subscribeAudio(src);
    this.log.info({ epId: id }, 'endpoint created');
    this.safeEmit('endpointCreated', id);
    this.requestAllocation();
    return ep;
  }

  /**
   * Replaces an endpoint's sources with `next` (validated, conflict-free: checked by the colibri handler) and
   * updates the indexes and every other endpoint's subscriptions. Internal.
   */
  setEndpointSources(ep: Endpoint, next: Source[]): void {
    if (this.#expired || ep.expired) return;
    const { added, removed } = ep.replaceSources(next, sameLayout);
    for (const src of removed) this.#removeSource(src);
    for (const src of added) {
      this.#sourcesByName.set(src.name, src);
      for (const ssrc of src.ssrcs) this.#endpointsBySsrc.set(ssrc, ep);
      if (src.kind === 'video') this.#videoSources.push(src);
      else for (const r of this.#receivers) if (r !== ep) r.subscribeAudio(src);
    }
    if (added.length > 0 || removed.length > 0) this.requestAllocation();
  }

  /**
   * Runs one Colibri2 request's changes as a unit: the conference does not auto-expire while it is momentarily
   * empty (an endpoint expired and another created in the same request); it does at the end if still empty.
   * Internal (colibri handler).
   */
  update<T>(fn: () => T): T {
    this.#updateDepth++;
    try {
      return fn();
    } finally {
      this.#updateDepth--;
      if (this.#updateDepth === 0 && !this.#expired && this.#endpoints.size === 0 && this.#hadEndpoints && this.#config.expireEmptyConferences) {
        this.expire();
      }
    }
  }

  /** A random SSRC unused in this conference. Internal. */
  allocateSsrc(): number {
    for (;;) {
      const ssrc = randomInt(1, 0xffff_ffff);
      if (!this.#ownSsrcs.has(ssrc) && !this.#endpointsBySsrc.has(ssrc)) {
        this.#ownSsrcs.add(ssrc);
        return ssrc;
      }
    }
  }

  /** True if `ssrc` is one the bridge generated (feedback or slot SSRC). */
  isOwnSsrc(ssrc: number): boolean {
    return this.#ownSsrcs.has(ssrc);
  }

  // =============================================================================================== internal: endpoints

  /** An endpoint expired on its own (already torn down): drop it and its `sources` here. Internal. */
  endpointExpired(ep: Endpoint, sources: readonly Source[]): void {
    if (this.#endpoints.get(ep.id) !== ep) return;
    for (const src of sources) this.#removeSource(src);
    this.#endpoints.delete(ep.id);
    this.#receivers = [...this.#endpoints.values()];
    const change = this.#speech.removeEndpoint(ep.id, this.#clock.nowMs());
    this.log.info({ epId: ep.id }, 'endpoint expired');
    this.safeEmit('endpointExpired', ep.id);
    if (this.#endpoints.size === 0 && this.#config.expireEmptyConferences && this.#updateDepth === 0) {
      this.expire();
      return;
    }
    if (change !== undefined) this.#dominantSpeakerChanged(change);
    this.requestAllocation();
  }

  /** The incoming stream of any endpoint by SSRC. Internal. */
  incomingStream(ssrc: number): IncomingStream | undefined {
    return this.#endpointsBySsrc.get(ssrc)?.incomingStream(ssrc);
  }

  /** Speech activity input from an endpoint's audio. Internal, per audio packet. */
  onAudioLevel(endpointId: string, level: number, nowMs: number): void {
    const change = this.#speech.onAudioLevel(endpointId, level, nowMs);
    if (change !== undefined) this.#dominantSpeakerChanged(change);
  }

  /**
   * Fans a packet out to every other endpoint that wants it: a pooled copy for each but the last, which gets the
   * original (STYLE.md §3.4). A video packet that anyone wants is first copied into its source's retransmission
   * `cache`, once for all receivers (their NACKs are answered from it). Takes ownership of `p`. Internal, per packet.
   */
  fanOut(p: PacketInfo, sender: Endpoint, cache: SourcePacketCache | null = null): void {
    const now = p.receivedTimeUs / 1000;
    const list = this.#receivers;
    // Re-entrancy (a transport calling back synchronously) gets its own scratch list.
    const targets = this.#fanOutDepth === 0 ? this.#fanOutScratch : [];
    this.#fanOutDepth++;
    let n = 0;
    try {
      for (let i = 0; i < list.length; i++) {
        const r = list[i] as Endpoint;
        if (r === sender) continue;
        let wanted = false;
        try {
          wanted = r.wants(p, now);
        } catch (err) {
          // A bug in one receiver's selection must not cost the others their packet.
          this.#fanOutErrors++;
          if (this.#fanOutErrors === 1) this.log.error({ err, epId: r.id }, 'fan-out decision threw');
        }
        if (wanted) targets[n++] = r;
      }
      if (n === 0) {
        this.#pool.release(p);
      } else {
        if (cache !== null) p.cacheId = cache.insert(p.buffer, p.length, now);
        for (let i = 0; i < n - 1; i++) (targets[i] as Endpoint).send(this.#pool.clone(p));
        (targets[n - 1] as Endpoint).send(p);
      }
    } finally {
      for (let i = 0; i < n; i++) targets[i] = undefined;
      this.#fanOutDepth--;
    }
  }

  /**
   * Asks the owner of `src` for a key frame of encoding `encoding` (PLI, or FIR when only FIR is offered), at most
   * once per `video.keyframeMinIntervalMs` per sender SSRC (JVB `KeyframeRequester`; libwebrtc answers a PLI with a
   * key frame of that simulcast stream only). Returns whether a request went out. Internal.
   */
  requestKeyframe(src: VideoSource, encoding: number, nowMs: number): boolean {
    const owner = this.#endpoints.get(src.owner);
    const enc = src.encodings[encoding] ?? src.encodings[0];
    if (owner === undefined || enc === undefined) return false;
    const last = src.keyframeRequestMs[enc.index] ?? -Infinity;
    if (nowMs - last < this.#config.video.keyframeMinIntervalMs) return false;
    src.keyframeRequestMs[enc.index] = nowMs;
    owner.sendKeyframeRequest(src, enc.ssrc);
    return true;
  }

  /** Schedules an allocation run for the next turn of the event loop (coalesced). Internal. */
  requestAllocation(): void {
    if (this.#expired || this.#allocationTimer !== undefined) return;
    this.#allocationTimer = this.#scheduler.setTimeout(() => {
      this.#allocationTimer = undefined;
      this.#allocate();
    }, 0);
  }

  // =============================================================================================== internals

  protected override listenerError(event: keyof ConferenceEvents, err: unknown): void {
    this.log.error({ err, event }, 'conference event listener threw');
  }

  #removeSource(src: Source): void {
    if (this.#sourcesByName.get(src.name) === src) this.#sourcesByName.delete(src.name);
    const owner = this.#endpoints.get(src.owner);
    for (const ssrc of src.ssrcs) if (this.#endpointsBySsrc.get(ssrc) === owner) this.#endpointsBySsrc.delete(ssrc);
    if (src.kind === 'video') this.#videoSources = this.#videoSources.filter((s) => s !== src);
    for (const r of this.#receivers) if (r !== owner) r.removeSource(src);
  }

  #dominantSpeakerChanged(change: DominantSpeakerChange): void {
    this.log.debug({ dominantSpeaker: change.dominantSpeaker }, 'dominant speaker changed');
    this.safeEmit('dominantSpeakerChanged', change);
    for (const ep of this.#receivers) ep.emitDominantSpeaker(change);
    // Last-N order changed.
    this.requestAllocation();
  }

  #allocate(): void {
    if (this.#expired) return;
    const now = this.#clock.nowMs();
    this.#lastAllocationMs = now;
    this.#allocations++;
    const snapshots = this.#videoSources.map((s) => s.layers.snapshot(now));
    const order = this.#speech.speakerOrder();
    const allocations: Allocation[] = [];
    for (const r of this.#receivers) allocations.push(r.allocate(snapshots, order, now));
    const wanted = senderMaxHeights(
      allocations,
      this.#videoSources.map((s) => s.name),
    );
    for (const [name, maxHeight] of wanted) {
      const src = this.#sourcesByName.get(name);
      if (src !== undefined) this.#endpoints.get(src.owner)?.updateSenderConstraint(name, maxHeight);
    }
  }

  #tick(): void {
    if (this.#expired) return;
    const now = this.#clock.nowMs();
    const change = this.#speech.update(now);
    if (change !== undefined) this.#dominantSpeakerChanged(change);
    for (const ep of this.#receivers) {
      ep.sendTransportCcFeedback();
      ep.sendRetransmissionRequests(now);
    }
    if (now - this.#lastRtcpMs >= this.#config.feedback.rtcpIntervalMs) {
      this.#lastRtcpMs = now;
      for (const ep of this.#receivers) ep.sendReports(now);
    }
    if (now - this.#lastAllocationMs >= this.#config.allocationIntervalMs) {
      for (const s of this.#videoSources) s.layers.checkActivity(now);
      this.#allocate();
    }
  }

  #clearTimers(): void {
    if (this.#timer !== undefined) this.#scheduler.clearInterval(this.#timer);
    if (this.#allocationTimer !== undefined) this.#scheduler.clearTimeout(this.#allocationTimer);
    this.#timer = undefined;
    this.#allocationTimer = undefined;
  }
}
