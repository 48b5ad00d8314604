/**
 * Endpoint: one participant's leg on the bridge. As a sender it owns its sources (each video source with the
 * retransmission cache of its forwarded packets, shared by all receivers), the SSRC table its receive pipeline
 * demultiplexes with, and the RTCP the bridge sends it as a receiver of its media (RR, REMB or transport-cc feedback,
 * keyframe requests). As a receiver it owns its subscriptions to other endpoints' sources (layer selector + munger
 * per source), its outgoing streams with their sent-packet logs (NACK → RTX from the sources' caches), its
 * bandwidth estimate, its allocation settings (ReceiverVideoConstraints) and, in SSRC-rewriting mode, its slots.
 *
 * Lifecycle (mediasoup style): `expire()` is idempotent; it removes the endpoint's sources from every other
 * endpoint, frees the transport, the caches and the maps, and emits `expired` once. An endpoint expired by its
 * conference does not call back into it.
 *
 * References: STYLE.md §3.4; PROTOCOL.md §5.3, §6.2/§6.3 (events), §7.2–§7.6; JVB `Endpoint.kt`.
 */
import { randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import { type Allocation, allocate as allocateLayers, isBandwidthChangeSignificant } from './cc/allocator.js';
import {
  type AllocationSettings,
  applyReceiverVideoConstraints,
  type ConstraintsOptions,
  createAllocationSettings,
} from './cc/constraints.js';
import { BandwidthEstimator } from './cc/estimator.js';
import type { DominantSpeakerChange } from './cc/speech-activity.js';
import { BitrateTracker, type SourceSnapshot } from './cc/layers.js';
import { defaultMediaInfo, type EndpointMediaInfo, parseMedias } from './colibri/medias.js';
import type { EndpointModify, ForceMute, TransportDesc } from './colibri/types.js';
import type { BridgeConfig } from './config.js';
import type { Conference } from './conference.js';
import { SeqWindow } from './pipeline/duplicate-filter.js';
import type { Pipeline } from './pipeline/node.js';
import { NACK_PENDING_MAX, NackRequester } from './pipeline/nack-requester.js';
import { buildRtpReceivePipeline, type IncomingStream } from './pipeline/receive.js';
import { ReceiveRateLimiter } from './pipeline/receive-rate-limit.js';
import { ntpMiddle, ReceiveStreamStats } from './pipeline/receive-stats.js';
import { buildRtcpReceivePipeline, ntpFromSeconds, ntpToSeconds, RtcpWriter } from './pipeline/rtcp.js';
import { dropPaddingInPlace, wrapRtxInPlace } from './pipeline/rtx.js';
import { buildSendPipeline } from './pipeline/send.js';
import { SentPacketLog } from './pipeline/sent-packet-log.js';
import { createMunger, createSelector, OutStream, Slot, Subscription } from './pipeline/subscription.js';
import { TccRecorder, TccSendHistory } from './pipeline/tcc.js';
import {
  createHeaderExtensionIdSet,
  type HeaderExtensionIdSet,
  stripHeaderExtensions,
  writeTransportCcSeq,
} from './rtp/header-ext.js';
import { PacketInfo, type PacketInfoPool } from './rtp/packet-info.js';
import {
  createReportBlock,
  createSenderInfo,
  firSize,
  nackEntriesFor,
  nackSize,
  PLI_SIZE,
  rembSize,
  receiverReportSize,
  type RtcpReportBlock,
  type RtcpSenderInfo,
  senderReportSize,
  TransportCcFeedback,
  writeFir,
  writeNack,
  writePli,
  writeReceiverReport,
  writeRemb,
  writeSenderReport,
} from './rtp/rtcp.js';
import { parseVideoType, type Source, type VideoSource } from './source.js';
import {
  type AudioSourceMapping,
  type Clock,
  type EndpointEvents,
  type EndpointStatsSnapshot,
  type ForwardedLayerStats,
  type MediaTransport,
  type MediaTransportState,
  type ReceiverVideoConstraints,
  SafeEmitter,
  type SenderSourceConstraints,
  type VideoSourceMapping,
} from './types.js';

/** Seconds between 1900 (NTP epoch) and 1970 (Unix epoch). */
const NTP_UNIX_OFFSET_S = 2_208_988_800;
/** Don't answer a NACK for the same packet twice within this time (the first answer is still under way). */
const RETRANSMIT_MIN_INTERVAL_MS = 10;
/** Interval of repeated NACKs to a sender: about one RTT, within these bounds (ms; 100 until an RTT is known). */
const NACK_RETRY_MIN_MS = 20;
const NACK_RETRY_MAX_MS = 200;
const NACK_RETRY_DEFAULT_MS = 100;

/** What the conference hands to a new endpoint. */
export interface EndpointInit {
  readonly id: string;
  readonly conference: Conference;
  readonly transport: MediaTransport;
  readonly pool: PacketInfoPool;
  readonly config: BridgeConfig;
  readonly clock: Clock;
  readonly log: Logger;
  /** `Date.now() - clock.nowMs()` at bridge start, for NTP timestamps. */
  readonly wallClockOffsetMs: number;
  /** Colibri2 capabilities given at creation. */
  readonly capabilities: readonly string[];
}

/** Capabilities that switch SSRC rewriting on (Colibri2 name, and the client feature's suffix). */
const SSRC_REWRITING = new Set(['ssrc-rewriting', 'ssrc-rewriting-1', 'http://jitsi.org/ssrc-rewriting-1']);

/** One participant on the bridge. See the module comment. */
export class Endpoint extends SafeEmitter<EndpointEvents> {
  /** Endpoint id (MUC nick). */
  readonly id: string;
  readonly conference: Conference;
  readonly transport: MediaTransport;
  /** Password of this endpoint's colibri-ws URL. */
  readonly wsPassword: string;
  readonly log: Logger;
  /** Colibri2 capabilities (fixed at creation). */
  readonly capabilities: ReadonlySet<string>;
  /** SSRC-rewriting mode (PROTOCOL.md §7.5). */
  readonly ssrcRewriting: boolean;
  statsId: string | undefined = undefined;
  mucRole: string | undefined = undefined;

  readonly #pool: PacketInfoPool;
  readonly #config: BridgeConfig;
  readonly #clock: Clock;
  readonly #wallOffsetMs: number;
  readonly #constraintsOptions: ConstraintsOptions;
  #expired = false;

  #media: EndpointMediaInfo = defaultMediaInfo();
  #keepExtensions: HeaderExtensionIdSet = createHeaderExtensionIdSet([]);
  readonly #forceMute: { audio: boolean; video: boolean } = { audio: false, video: false };

  // ---- as a sender
  #sources: Source[] = [];
  readonly #incoming = new Map<number, IncomingStream>();
  readonly #tccRecorder = new TccRecorder();
  readonly #senderConstraints = new Map<string, number>();
  readonly #rxLimit: ReceiveRateLimiter;
  readonly #nackScratch = new Uint16Array(NACK_PENDING_MAX);

  // ---- as a receiver
  readonly #subsBySsrc = new Map<number, Subscription>();
  readonly #subsBySource = new Map<string, Subscription>();
  readonly #outBySsrc = new Map<number, OutStream>();
  readonly #videoSlots: Slot[] = [];
  readonly #audioSlots: Slot[] = [];
  #settings: AllocationSettings;
  #allocation: Allocation | null = null;
  #audioSubscription: { all: boolean; include: ReadonlySet<string>; exclude: ReadonlySet<string> } = {
    all: true,
    include: new Set(),
    exclude: new Set(),
  };
  #forwarded: readonly string[] = [];
  readonly #estimator: BandwidthEstimator;
  #bweFeedback = false;
  #allocatedBandwidthBps = -1;
  readonly #tccHistory = new TccSendHistory();
  #rttMs = Number.NaN;
  #outgoingLoss = 0;

  // ---- pipelines and scratch
  readonly #rtpReceive: Pipeline;
  readonly #rtcpReceive: Pipeline;
  readonly #send: Pipeline;
  readonly #rtcpWriter: RtcpWriter;
  readonly #retransmission = new PacketInfo(Buffer.allocUnsafeSlow(1600));
  readonly #reportBlocks: RtcpReportBlock[] = [];
  readonly #senderInfo: RtcpSenderInfo = createSenderInfo();
  readonly #tccFeedback = new TransportCcFeedback();

  // ---- counters
  #rxPackets = 0;
  #rxBytes = 0;
  #txPackets = 0;
  #txBytes = 0;
  readonly #rxRate = new BitrateTracker();
  readonly #txRate = new BitrateTracker();
  #nackRetransmissions = 0;
  #keyframeRequestsSent = 0;

  constructor(init: EndpointInit) {
    super();
    this.id = init.id;
    this.conference = init.conference;
    this.transport = init.transport;
    this.log = init.log;
    this.#pool = init.pool;
    this.#config = init.config;
    this.#clock = init.clock;
    this.#wallOffsetMs = init.wallClockOffsetMs;
    this.wsPassword = randomBytes(18).toString('base64url');
    this.capabilities = new Set(init.capabilities);
    this.ssrcRewriting = init.capabilities.some((c) => SSRC_REWRITING.has(c));
    this.#constraintsOptions = {
      initialMaxHeightPx: init.config.constraints.initialMaxHeightPx,
      defaultMaxHeightPx: init.config.constraints.defaultMaxHeightPx,
    };
    this.#settings = createAllocationSettings(this.#constraintsOptions);
    this.#rxLimit = new ReceiveRateLimiter(init.config.limits.maxReceiveBitrateBps, init.config.limits.receiveBurstMs, init.clock.nowMs());
    this.#estimator = new BandwidthEstimator({
      startBitrateBps: init.config.bwe.startBitrateBps,
      minBitrateBps: init.config.bwe.minBitrateBps,
      maxBitrateBps: init.config.bwe.maxBitrateBps,
    });
    const release = init.pool.release.bind(init.pool);
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    this.#rtpReceive = buildRtpReceivePipeline(
      {
        nowMs: () => this.#clock.nowMs(),
        incoming: (ssrc) => this.#incoming.get(ssrc),
        get media() {
          return self.#media;
        },
        forceMute: this.#forceMute,
        dropSilence: init.config.audio.dropSilence,
        recordTransportCc: (seq, arrivalUs) => this.#tccRecorder.record(seq, arrivalUs),
        onAudioLevel: (level, nowMs) => this.conference.onAudioLevel(this.id, level, nowMs),
        onLayerActivated: () => this.conference.requestAllocation(),
        onVideoLoss: (stream, nowMs) => this.#requestRetransmissions(stream, nowMs),
        fanOut: (p, stream) => this.conference.fanOut(p, this, stream.source.kind === 'video' ? stream.source.packetCache : null),
      },
      release,
    );
    this.#rtcpReceive = buildRtcpReceivePipeline(
      {
        onSenderReport: (ssrc, info) => this.#incoming.get(ssrc)?.stats.onSenderReport(info, this.#clock.nowMs()),
        onReportBlock: (block) => this.#onReportBlock(block),
        onNack: (ssrc, seq) => this.#onNack(ssrc, seq),
        onKeyframeRequest: (ssrc) => this.#onKeyframeRequest(ssrc),
        onRemb: (bps) => this.#onBandwidthFeedback(this.#estimator.fromRemb(bps, this.#clock.nowMs())),
        onTransportCc: (fb) =>
          this.#onBandwidthFeedback(this.#tccHistory.applyFeedback(fb, this.#estimator, this.#clock.nowMs())),
      },
      release,
    );
    this.#send = buildSendPipeline(
      {
        nowMs: () => this.#clock.nowMs(),
        subscription: (ssrc) => this.#subsBySsrc.get(ssrc),
        get keepExtensions() {
          return self.#keepExtensions;
        },
        get transportCcExtId() {
          return self.#media.transportCc ? self.#media.transportCcExtId : -1;
        },
        tccHistory: this.#tccHistory,
        sendRtp: (buf, len) => this.#sendRtp(buf, len),
      },
      release,
    );
    this.#rtcpWriter = new RtcpWriter((buf, len) => this.transport.sendRtcp(buf, len));
    for (let i = 0; i < 31; i++) this.#reportBlocks.push(createReportBlock());

    this.transport.onRtp = this.#onRtp;
    this.transport.onRtcp = this.#onRtcp;
    this.transport.onStateChange = this.#onStateChange;
  }

  // =============================================================================================== public API

  /** True once expired. */
  get expired(): boolean {
    return this.#expired;
  }

  /** The endpoint's sources (its complete signalled set). */
  get sources(): readonly Source[] {
    return this.#sources;
  }

  /** What the endpoint negotiated (from Colibri2 `<media>`). */
  get media(): Readonly<EndpointMediaInfo> {
    return this.#media;
  }

  /** Force-mute state (the bridge drops that media from this endpoint). */
  get forceMute(): Readonly<ForceMute> {
    return this.#forceMute;
  }

  /** Video sources currently forwarded to this endpoint (the last `ForwardedSources`). */
  get forwardedSources(): readonly string[] {
    return this.#forwarded;
  }

  /** The receiver's allocation settings (from its ReceiverVideoConstraints). */
  get allocationSettings(): AllocationSettings {
    return this.#settings;
  }

  /** The last allocation computed for this receiver, or null. */
  get allocation(): Allocation | null {
    return this.#allocation;
  }

  /**
   * Applies a `ReceiverVideoConstraints` message from the bridge channel (PROTOCOL.md §6.2: absent fields keep
   * their value, `constraints` replaces the map). Allocation re-runs right after (deferred, once per turn).
   */
  setReceiverConstraints(c: ReceiverVideoConstraints): void {
    if (this.#expired) return;
    this.#settings = applyReceiverVideoConstraints(this.#settings, c, this.#constraintsOptions);
    this.conference.requestAllocation();
  }

  /**
   * `ReceiverAudioSubscription` (PROTOCOL.md §6.2): which other endpoints' audio sources to forward to this
   * endpoint. A source is forwarded when (`all` or listed in `include`) and not listed in `exclude`. Default: all.
   */
  setReceiverAudioSubscription(s: { all: boolean; include?: readonly string[]; exclude?: readonly string[] }): void {
    if (this.#expired) return;
    this.#audioSubscription = { all: s.all, include: new Set(s.include ?? []), exclude: new Set(s.exclude ?? []) };
    for (const sub of this.#subsBySource.values()) if (sub.source.kind === 'audio') sub.muted = !this.#wantsAudio(sub.source.name);
  }

  /** `SourceVideoTypeMessage` for one of this endpoint's own sources (`camera`, `desktop`, `none`, …). */
  setSourceVideoType(sourceName: string, videoType: string): void {
    if (this.#expired) return;
    const src = this.#sources.find((s) => s.name === sourceName);
    if (src === undefined || src.kind !== 'video') return;
    const t = parseVideoType(videoType);
    if (t === src.videoType) return;
    src.videoType = t;
    this.conference.requestAllocation();
  }

  /** Current `SenderSourceConstraints` of this endpoint's video sources (what to send on channel connect). */
  senderSourceConstraints(): SenderSourceConstraints[] {
    return [...this.#senderConstraints].map(([sourceName, maxHeight]) => ({ sourceName, maxHeight }));
  }

  /** Complete `VideoSourcesMap` of this receiver (SSRC-rewriting mode; empty otherwise). */
  videoSourcesMap(): VideoSourceMapping[] {
    const out: VideoSourceMapping[] = [];
    for (const slot of this.#videoSlots) if (slot.source !== null) out.push(videoMapping(slot));
    return out;
  }

  /** Complete `AudioSourcesMap` of this receiver (SSRC-rewriting mode; empty otherwise). */
  audioSourcesMap(): AudioSourceMapping[] {
    const out: AudioSourceMapping[] = [];
    for (const slot of this.#audioSlots) if (slot.source !== null) out.push(audioMapping(slot));
    return out;
  }

  /** Checks a colibri-ws password (constant time). */
  verifyWebSocketPassword(pwd: string): boolean {
    const a = Buffer.from(pwd);
    const b = Buffer.from(this.wsPassword);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  /** The colibri-ws URL for this endpoint, when the bridge knows its public base URL. */
  webSocketUrl(): string | undefined {
    const base = this.#config.webSocketBaseUrl;
    if (base === undefined) return undefined;
    const root = base.replace(/\/+$/, '');
    const path = [this.#config.id, this.conference.id, this.id].map(encodeURIComponent).join('/');
    return `${root}/${path}?pwd=${encodeURIComponent(this.wsPassword)}`;
  }

  /** The bridge side of the transport, for the offer (PROTOCOL.md §5.2 `<conference-modified>`). */
  describeTransport(): TransportDesc {
    const t = this.transport;
    const desc: TransportDesc = {
      ufrag: t.localUfrag,
      pwd: t.localPwd,
      fingerprints: [{ hash: t.localFingerprint.hash, value: t.localFingerprint.value, setup: 'actpass' }],
      candidates: t.localCandidates(),
      rtcpMux: true,
    };
    const ws = this.webSocketUrl();
    if (ws !== undefined) desc.webSocketUrl = ws;
    return desc;
  }

  /** Expires the endpoint (idempotent): sources leave the conference, transport and state are freed. */
  expire(): void {
    if (this.#expired) return;
    const sources = this.#sources;
    this.#teardown();
    this.safeEmit('expired');
    this.removeAllListeners();
    this.conference.endpointExpired(this, sources);
  }

  /** Snapshot for the stats endpoint. */
  stats(): EndpointStatsSnapshot {
    const now = this.#clock.nowMs();
    let incomingLoss = 0;
    let n = 0;
    for (const s of this.#incoming.values()) {
      if (s.repairs !== null || s.stats.packets === 0) continue;
      incomingLoss += s.stats.lossFraction;
      n++;
    }
    const layers: ForwardedLayerStats[] = [];
    for (const sub of this.#subsBySource.values()) {
      if (sub.selector === null || sub.source.kind !== 'video') continue;
      const st = sub.selector.state();
      layers.push({
        source: sub.source.name,
        encoding: st.currentEncoding,
        temporal: st.currentTemporal,
        targetEncoding: st.targetEncoding,
        height: st.currentEncoding >= 0 ? (sub.source.layers.encodings[st.currentEncoding]?.height ?? 0) : 0,
        switches: st.switches,
      });
    }
    return {
      id: this.id,
      statsId: this.statsId,
      transportState: this.transport.state,
      ssrcRewriting: this.ssrcRewriting,
      received: { packets: this.#rxPackets, bytes: this.#rxBytes, bitrateBps: this.#rxRate.bitrateBps(now) },
      sent: { packets: this.#txPackets, bytes: this.#txBytes, bitrateBps: this.#txRate.bitrateBps(now) },
      incomingLossFraction: n === 0 ? 0 : incomingLoss / n,
      outgoingLossFraction: this.#outgoingLoss,
      rttMs: this.#rttMs,
      bandwidthEstimateBps: this.#bweFeedback ? this.#estimator.estimateBps : -1,
      nackRetransmissions: this.#nackRetransmissions,
      ...this.#retransmissionRequestStats(),
      receiveRateLimited: { packets: this.#rxLimit.droppedPackets, bytes: this.#rxLimit.droppedBytes },
      keyframeRequestsSent: this.#keyframeRequestsSent,
      forwardedSources: this.#forwarded,
      layers,
      pipelines: { receive: this.#rtpReceive.stats(), rtcp: this.#rtcpReceive.stats(), send: this.#send.stats() },
    };
  }

  /** Introspection for tests and debugging: sizes of the per-endpoint maps (all 0 after expire). */
  debugState(): Record<string, number> {
    let cached = 0;
    for (const o of this.#outBySsrc.values()) cached += o.sentLog?.size ?? 0;
    for (const s of this.#videoSlots) cached += s.out.sentLog?.size ?? 0;
    return {
      sources: this.#sources.length,
      incoming: this.#incoming.size,
      subscriptionsBySsrc: this.#subsBySsrc.size,
      subscriptionsBySource: this.#subsBySource.size,
      outStreams: this.#outBySsrc.size,
      videoSlots: this.#videoSlots.length,
      audioSlots: this.#audioSlots.length,
      cachedPackets: cached,
      senderConstraints: this.#senderConstraints.size,
    };
  }

  // =============================================================================================== internal: conference / colibri

  /** Applies the non-source parts of a Colibri2 endpoint modification. Internal (colibri handler). */
  applyModify(mod: EndpointModify): void {
    if (this.#expired) return;
    if (mod.medias !== undefined) {
      this.#media = parseMedias(mod.medias);
      const m = this.#media;
      const keep = [m.audioLevelExtId, m.videoOrientationExtId];
      if (m.transportCc) keep.push(m.transportCcExtId);
      this.#keepExtensions = createHeaderExtensionIdSet(keep);
    }
    const ice = mod.transport?.iceUdp;
    if (ice !== undefined) this.transport.setRemote(ice);
    if (mod.forceMute !== undefined) {
      if (mod.forceMute.audio !== undefined) this.#forceMute.audio = mod.forceMute.audio;
      if (mod.forceMute.video !== undefined) this.#forceMute.video = mod.forceMute.video;
    }
    if (mod.statsId !== undefined) this.statsId = mod.statsId;
    if (mod.mucRole !== undefined) this.mucRole = mod.mucRole;
    if (mod.initialLastN !== undefined && !this.#settings.configured) {
      this.#settings = { ...this.#settings, lastN: mod.initialLastN < 0 ? -1 : Math.floor(mod.initialLastN) };
    }
  }

  /**
   * Replaces the endpoint's sources (its complete set, already validated by the conference) and rebuilds the SSRC
   * table. Returns what was removed and added; a source whose layout is unchanged keeps its state. Internal.
   */
  replaceSources(next: Source[], same: (a: Source, b: Source) => boolean): { added: Source[]; removed: Source[] } {
    const prev = new Map(this.#sources.map((s) => [s.name, s]));
    const kept: Source[] = [];
    const added: Source[] = [];
    for (const s of next) {
      const old = prev.get(s.name);
      if (old !== undefined && same(old, s)) {
        if (old.kind === 'video' && s.kind === 'video') old.videoType = s.videoType;
        kept.push(old);
        prev.delete(s.name);
      } else {
        added.push(s);
      }
    }
    const removed = [...prev.values()];
    for (const s of removed) {
      if (s.kind === 'video') s.packetCache.clear();
      for (const ssrc of s.ssrcs) {
        this.#incoming.delete(ssrc);
        this.#rtpReceive.unbindSsrc(ssrc);
      }
      this.#senderConstraints.delete(s.name);
    }
    for (const s of added) this.#addIncoming(s);
    this.#sources = [...kept, ...added];
    return { added, removed };
  }

  /** The incoming stream of `ssrc` (for SR translation by receivers). Internal. */
  incomingStream(ssrc: number): IncomingStream | undefined {
    return this.#incoming.get(ssrc);
  }

  /** Subscribes this receiver to another endpoint's audio source. Internal. */
  subscribeAudio(src: Source): void {
    if (this.#expired || src.kind !== 'audio' || this.#subsBySource.has(src.name)) return;
    let sub: Subscription;
    if (this.ssrcRewriting) {
      sub = new Subscription(src, null, null, null);
    } else {
      const out = new OutStream(src.ssrc, -1, 'audio', this.#media.audioClockRateHz, null, randomInt(0, 0x10000));
      sub = new Subscription(src, null, null, out);
      out.subscription = sub;
      this.#outBySsrc.set(out.ssrc, out);
    }
    sub.muted = !this.#wantsAudio(src.name);
    this.#registerSubscription(sub);
  }

  /** Forgets a source of another endpoint (it left or changed). Internal. */
  removeSource(src: Source): void {
    const sub = this.#subsBySource.get(src.name);
    if (sub === undefined || sub.source !== src) return;
    this.#dropSubscription(sub);
  }

  /**
   * Fan-out decision for one packet of another endpoint (JVB `wants`). For video this runs the layer selector
   * (once per packet per receiver) and tells the munger about dropped packets. Internal, per packet.
   */
  wants(p: PacketInfo, nowMs: number): boolean {
    if (this.transport.state !== 'connected') return false;
    const sub = this.#subsBySsrc.get(p.rtp.ssrc);
    if (sub === undefined) return false;
    const src = sub.source;
    if (src.kind === 'audio') {
      if (sub.muted) return false;
      if (sub.out === null) return this.#bindAudioSlot(sub, nowMs);
      if (sub.slot !== null) sub.slot.lastUsedMs = nowMs;
      return true;
    }
    const selector = sub.selector;
    const munger = sub.munger;
    if (selector === null || munger === null || sub.out === null) return false;
    if (p.isRetransmission) {
      // Only for the encoding being forwarded; the munger decides whether it has a number for it.
      return p.encodingIndex === selector.currentEncoding;
    }
    const forward = selector.select(p.encodingIndex, src.frame, nowMs);
    if (!forward) munger.drop(p.buffer, 0, p.length, p.encodingIndex, src.vp8, nowMs);
    const kf = selector.pollKeyframeRequest(nowMs);
    if (kf >= 0) this.conference.requestKeyframe(src, kf, nowMs);
    return forward;
  }

  /** Sends a packet this receiver owns down its send pipeline. Internal, per packet. */
  send(p: PacketInfo): void {
    this.#send.process(p);
  }

  /** Runs the allocator for this receiver and applies the result. Internal (conference, on events/timer). */
  allocate(sources: readonly SourceSnapshot[], speakerOrder: readonly string[], nowMs: number): Allocation {
    const bw = this.#config.bwe.enabled && this.#bweFeedback ? this.#estimator.estimateBps : -1;
    this.#allocatedBandwidthBps = bw;
    const a = allocateLayers({ receiverId: this.id, settings: this.#settings, bandwidthBps: bw, sources, speakerOrder });
    this.#applyAllocation(a, nowMs);
    return a;
  }

  /** Records the most any receiver wants of one of this endpoint's sources; emits on change. Internal. */
  updateSenderConstraint(sourceName: string, maxHeight: number): void {
    if (this.#senderConstraints.get(sourceName) === maxHeight) return;
    this.#senderConstraints.set(sourceName, maxHeight);
    this.safeEmit('senderSourceConstraints', { sourceName, maxHeight });
  }

  /** Sends a keyframe request for `ssrc` of its own source (PLI, or FIR when only FIR is offered). Internal. */
  sendKeyframeRequest(src: VideoSource, ssrc: number): void {
    if (this.#expired) return;
    const w = this.#rtcpWriter;
    const senderSsrc = this.conference.feedbackSsrcs.video;
    if (this.#media.pli) {
      w.reserve(PLI_SIZE);
      w.offset += writePli(w.buffer, w.offset, senderSsrc, ssrc);
    } else {
      src.firSeq = (src.firSeq + 1) & 0xff;
      w.reserve(firSize(1));
      w.offset += writeFir(w.buffer, w.offset, senderSsrc, ssrc, src.firSeq);
    }
    w.flush();
    this.#keyframeRequestsSent++;
  }

  /** Repeats due NACKs towards this endpoint as a sender (conference timer). Internal. */
  sendRetransmissionRequests(nowMs: number): void {
    if (this.#expired || !this.#media.nack) return;
    let wrote = false;
    for (const s of this.#incoming.values()) {
      if (s.nacks !== null && s.nacks.pending > 0) wrote = this.#writeNack(s, nowMs) || wrote;
    }
    if (wrote) this.#rtcpWriter.flush();
  }

  /** transport-cc feedback towards this endpoint as a sender (conference timer). Internal. */
  sendTransportCcFeedback(): void {
    if (this.#expired || !this.#media.transportCc || !this.#tccRecorder.pending) return;
    const fb = this.#tccFeedback;
    const w = this.#rtcpWriter;
    let mediaSsrc = 0;
    for (const s of this.#incoming.values()) {
      if (s.kind === 'video' && s.repairs === null) {
        mediaSsrc = s.ssrc;
        break;
      }
    }
    for (let i = 0; i < 4 && this.#tccRecorder.buildFeedback(fb, this.conference.feedbackSsrcs.video, mediaSsrc); i++) {
      const size = fb.serializedSize();
      if (!w.reserve(size)) break;
      w.offset += fb.write(w.buffer, w.offset);
    }
    w.flush();
  }

  /**
   * RTCP reports (conference timer): RR about what this endpoint sends us and REMB when it has no transport-cc;
   * SR for every stream we send it (NTP/RTP mapped from the original sender's SR when known, for lip-sync).
   * Internal.
   */
  sendReports(nowMs: number): void {
    if (this.#expired) return;
    const w = this.#rtcpWriter;
    const fbSsrc = this.conference.feedbackSsrcs.video;
    // RR blocks about the endpoint's media streams.
    let count = 0;
    const remb: number[] = [];
    for (const s of this.#incoming.values()) {
      if (s.repairs !== null) continue;
      if (s.kind === 'video' && s.stats.packets > 0) remb.push(s.ssrc);
      const block = this.#reportBlocks[count];
      if (block === undefined || !s.stats.fillReportBlock(s.ssrc, block, nowMs)) continue;
      count++;
      if (count === this.#reportBlocks.length) {
        this.#writeRr(fbSsrc, count);
        count = 0;
      }
    }
    if (count > 0) this.#writeRr(fbSsrc, count);
    if (remb.length > 0 && !this.#media.transportCc) {
      const size = rembSize(Math.min(remb.length, 255));
      w.reserve(size);
      w.offset += writeRemb(w.buffer, w.offset, fbSsrc, this.#config.feedback.rembBitrateBps, remb.slice(0, 255));
    }
    const info = this.#senderInfo;
    const sendSr = (out: OutStream): void => {
      if (out.packets === 0) return;
      this.#fillSenderInfo(out, info, nowMs);
      w.reserve(senderReportSize(0));
      w.offset += writeSenderReport(w.buffer, w.offset, out.ssrc, info);
      out.recordSenderReport(ntpMiddle(info.ntpMsw, info.ntpLsw), nowMs);
    };
    for (const out of this.#outBySsrc.values()) sendSr(out);
    w.flush();
  }

  /** Expiry driven by the conference (no call back into it). Internal. */
  expireByConference(): void {
    if (this.#expired) return;
    this.#teardown();
    this.safeEmit('expired');
    this.removeAllListeners();
  }

  /** Relays the conference's dominant speaker change to this endpoint's listeners. Internal. */
  emitDominantSpeaker(change: DominantSpeakerChange): void {
    if (!this.#expired) this.safeEmit('dominantSpeakerChanged', change);
  }

  // =============================================================================================== packet entry points

  readonly #onRtp = (buf: Buffer, len: number): void => {
    if (this.#expired) return;
    const now = this.#clock.nowMs();
    this.#rxPackets++;
    this.#rxBytes += len;
    this.#rxRate.update(now, len);
    if (!this.#rxLimit.allow(len, now)) return;
    const p = this.#pool.acquire();
    if (len > p.capacity || len <= 0) {
      this.#pool.release(p);
      return;
    }
    buf.copy(p.buffer, 0, 0, len);
    p.length = len;
    p.receivedTimeUs = now * 1000;
    p.endpointId = this.id;
    this.#rtpReceive.process(p);
  };

  readonly #onRtcp = (buf: Buffer, len: number): void => {
    if (this.#expired) return;
    const p = this.#pool.acquire();
    if (len > p.capacity || len <= 0) {
      this.#pool.release(p);
      return;
    }
    buf.copy(p.buffer, 0, 0, len);
    p.length = len;
    p.isRtcp = true;
    p.receivedTimeUs = this.#clock.nowMs() * 1000;
    p.endpointId = this.id;
    this.#rtcpReceive.process(p);
  };

  readonly #onStateChange = (state: MediaTransportState): void => {
    if (this.#expired) return;
    this.log.info({ state }, 'transport state changed');
    this.safeEmit('transportStateChanged', state);
    // A receiver that just connected needs its streams started with key frames.
    if (state === 'connected') this.conference.requestAllocation();
  };

  #sendRtp(buf: Buffer, len: number): void {
    this.#txPackets++;
    this.#txBytes += len;
    this.#txRate.update(this.#clock.nowMs(), len);
    this.transport.sendRtp(buf, len);
  }

  // =============================================================================================== internals

  protected override listenerError(event: keyof EndpointEvents, err: unknown): void {
    this.log.error({ err, event }, 'endpoint event listener threw');
  }

  #addIncoming(s: Source): void {
    if (s.kind === 'audio') {
      const stats = new ReceiveStreamStats(this.#media.audioClockRateHz);
      for (const ssrc of s.ssrcs) {
        this.#incoming.set(ssrc, { ssrc, kind: 'audio', source: s, encoding: 0, repairs: null, stats, dedupe: null, nacks: null });
      }
      return;
    }
    for (const e of s.encodings) {
      const media: IncomingStream = {
        ssrc: e.ssrc,
        kind: 'video',
        source: s,
        encoding: e.index,
        repairs: null,
        stats: new ReceiveStreamStats(this.#media.videoClockRateHz),
        dedupe: new SeqWindow(),
        nacks: new NackRequester(),
      };
      this.#incoming.set(e.ssrc, media);
      if (e.rtxSsrc >= 0) {
        this.#incoming.set(e.rtxSsrc, {
          ssrc: e.rtxSsrc,
          kind: 'video',
          source: s,
          encoding: e.index,
          repairs: media,
          stats: new ReceiveStreamStats(this.#media.videoClockRateHz),
          dedupe: null,
          nacks: null,
        });
      }
    }
  }

  #wantsAudio(name: string): boolean {
    const a = this.#audioSubscription;
    return (a.all || a.include.has(name)) && !a.exclude.has(name);
  }

  #registerSubscription(sub: Subscription): void {
    const src = sub.source;
    this.#subsBySource.set(src.name, sub);
    if (src.kind === 'audio') for (const ssrc of src.ssrcs) this.#subsBySsrc.set(ssrc, sub);
    else for (const e of src.encodings) this.#subsBySsrc.set(e.ssrc, sub);
  }

  #unregisterSubscription(sub: Subscription): void {
    const src = sub.source;
    if (this.#subsBySource.get(src.name) === sub) this.#subsBySource.delete(src.name);
    const ssrcs = src.kind === 'audio' ? src.ssrcs : src.encodings.map((e) => e.ssrc);
    for (const ssrc of ssrcs) if (this.#subsBySsrc.get(ssrc) === sub) this.#subsBySsrc.delete(ssrc);
  }

  /** Removes a subscription; a slot keeps its output position, a plain stream is freed with its sent-packet log. */
  #dropSubscription(sub: Subscription): void {
    this.#unregisterSubscription(sub);
    const slot = sub.slot;
    if (slot !== null) {
      if (sub.munger !== null) slot.mungerState = sub.munger.state();
      slot.subscription = null;
      slot.source = null;
      slot.out.subscription = null;
      sub.slot = null;
    } else if (sub.out !== null) {
      this.#outBySsrc.delete(sub.out.ssrc);
      sub.out.sentLog?.clear();
    }
    sub.out = null;
    sub.munger = null;
  }

  #createVideoSubscription(src: VideoSource): Subscription {
    const n = src.encodings.length;
    const selector = createSelector(n, this.#config.video.keyframeMinIntervalMs, this.#config.video.layerActiveTimeoutMs);
    const clockRate = this.#media.videoClockRateHz;
    const out = new OutStream(
      src.primarySsrc,
      src.primaryRtxSsrc,
      'video',
      clockRate,
      this.#createSentLog(),
      randomInt(0, 0x10000),
    );
    const sub = new Subscription(src, selector, createMunger(src.primarySsrc, n, 'video', clockRate), out);
    out.subscription = sub;
    this.#outBySsrc.set(out.ssrc, out);
    this.#registerSubscription(sub);
    return sub;
  }

  /** SSRC rewriting: binds `src` to a free (or the least recently used idle) video slot; emits the change. */
  #bindVideoSlot(src: VideoSource, forwarded: ReadonlySet<string>, nowMs: number, changes: VideoSourceMapping[]): Subscription | undefined {
    let slot = this.#videoSlots.find((s) => s.subscription === null);
    if (slot === undefined && this.#videoSlots.length < this.#config.ssrcRewriting.maxVideoSlots) {
      const ssrc = this.conference.allocateSsrc();
      const rtx = this.conference.allocateSsrc();
      slot = new Slot(new OutStream(ssrc, rtx, 'video', this.#media.videoClockRateHz, this.#createSentLog(), randomInt(0, 0x10000)));
      this.#videoSlots.push(slot);
      this.#outBySsrc.set(ssrc, slot.out);
    }
    if (slot === undefined) {
      for (const s of this.#videoSlots) {
        if (s.source !== null && forwarded.has(s.source.name)) continue;
        if (slot === undefined || s.lastUsedMs < slot.lastUsedMs) slot = s;
      }
    }
    if (slot === undefined) return undefined;
    const old = slot.subscription;
    if (old !== null) this.#dropSubscription(old);
    const n = src.encodings.length;
    const selector = createSelector(n, this.#config.video.keyframeMinIntervalMs, this.#config.video.layerActiveTimeoutMs);
    const sub = new Subscription(src, selector, createMunger(slot.out.ssrc, n, 'video', slot.out.clockRateHz, slot), slot.out);
    sub.slot = slot;
    slot.subscription = sub;
    slot.source = src;
    slot.out.subscription = sub;
    slot.lastUsedMs = nowMs;
    this.#registerSubscription(sub);
    changes.push(videoMapping(slot));
    return sub;
  }

  /** SSRC rewriting: binds an audio subscription to a slot on its first forwarded packet; emits the change. */
  #bindAudioSlot(sub: Subscription, nowMs: number): boolean {
    let slot = this.#audioSlots.find((s) => s.subscription === null);
    if (slot === undefined && this.#audioSlots.length < this.#config.ssrcRewriting.maxAudioSlots) {
      const ssrc = this.conference.allocateSsrc();
      slot = new Slot(new OutStream(ssrc, -1, 'audio', this.#media.audioClockRateHz, null, 0));
      this.#audioSlots.push(slot);
      this.#outBySsrc.set(ssrc, slot.out);
    }
    if (slot === undefined) {
      for (const s of this.#audioSlots) if (slot === undefined || s.lastUsedMs < slot.lastUsedMs) slot = s;
    }
    if (slot === undefined) return false;
    const old = slot.subscription;
    if (old !== null) {
      // The evicted source keeps its subscription without a slot; its next packet asks for one again.
      if (old.munger !== null) slot.mungerState = old.munger.state();
      old.out = null;
      old.munger = null;
      old.slot = null;
    }
    sub.slot = slot;
    sub.out = slot.out;
    sub.munger = createMunger(slot.out.ssrc, 1, 'audio', slot.out.clockRateHz, slot);
    slot.subscription = sub;
    slot.source = sub.source;
    slot.out.subscription = sub;
    slot.lastUsedMs = nowMs;
    this.safeEmit('audioSourcesMap', [audioMapping(slot)]);
    return true;
  }

  #applyAllocation(a: Allocation, nowMs: number): void {
    this.#allocation = a;
    const changes: VideoSourceMapping[] = [];
    const forwardedSet = this.ssrcRewriting ? new Set(a.forwardedSources) : EMPTY_SET;
    for (const sa of a.sources) {
      let sub = this.#subsBySource.get(sa.source);
      if (sub === undefined) {
        const src = this.conference.sourcesByName.get(sa.source);
        if (src === undefined || src.kind !== 'video') continue;
        if (this.ssrcRewriting) {
          // Bind while the receiver wants the source at all (JVB pre-binds constrained-on sources).
          if (sa.effectiveMaxHeight !== 0) sub = this.#bindVideoSlot(src, forwardedSet, nowMs, changes);
        } else if (sa.target !== null) {
          sub = this.#createVideoSubscription(src);
        }
        if (sub === undefined) continue;
      }
      const selector = sub.selector;
      if (selector === null || sub.source.kind !== 'video') continue;
      if (sa.target !== null) {
        selector.setTarget(sa.target.encoding, sa.target.temporal);
        if (sub.slot !== null) sub.slot.lastUsedMs = nowMs;
        const kf = selector.pollKeyframeRequest(nowMs);
        if (kf >= 0) this.conference.requestKeyframe(sub.source, kf, nowMs);
      } else if (selector.state().targetEncoding >= 0) {
        selector.setTarget(-1, 0);
        // Paused: what it sent is of no use any more (a slot's log is shared with its next source).
        if (sub.slot === null) sub.out?.sentLog?.clear();
      }
    }
    if (changes.length > 0) this.safeEmit('videoSourcesMap', changes);
    if (!sameList(this.#forwarded, a.forwardedSources)) {
      this.#forwarded = a.forwardedSources;
      this.safeEmit('forwardedSourcesChanged', a.forwardedSources);
    }
  }

  #writeRr(senderSsrc: number, count: number): void {
    const w = this.#rtcpWriter;
    w.reserve(receiverReportSize(count));
    w.offset += writeReceiverReport(w.buffer, w.offset, senderSsrc, this.#reportBlocks.slice(0, count));
  }

  #fillSenderInfo(out: OutStream, info: RtcpSenderInfo, nowMs: number): void {
    const inc = this.conference.incomingStream(out.inSsrc);
    const sr = inc?.stats;
    if (sr !== undefined && sr.lastSrReceivedMs > -Infinity && inc?.source === out.subscription?.source) {
      const elapsedMs = nowMs - sr.lastSrReceivedMs;
      ntpFromSeconds(ntpToSeconds(sr.lastSr.ntpMsw, sr.lastSr.ntpLsw) + elapsedMs / 1000, info);
      info.rtpTimestamp = (sr.lastSr.rtpTimestamp + out.tsOffset + Math.round((elapsedMs * out.clockRateHz) / 1000)) >>> 0;
    } else {
      ntpFromSeconds((nowMs + this.#wallOffsetMs) / 1000 + NTP_UNIX_OFFSET_S, info);
      const since = Number.isFinite(out.lastSendMs) ? nowMs - out.lastSendMs : 0;
      info.rtpTimestamp = (out.lastRtpTs + Math.round((since * out.clockRateHz) / 1000)) >>> 0;
    }
    info.packetCount = out.packets >>> 0;
    info.octetCount = out.octets >>> 0;
  }

  #onReportBlock(block: RtcpReportBlock): void {
    const out = this.#outBySsrc.get(block.ssrc);
    if (out === undefined) return;
    const now = this.#clock.nowMs();
    const rtt = out.rttMs(block.lastSr, block.delaySinceLastSr, now);
    if (Number.isFinite(rtt)) {
      this.#rttMs = Number.isNaN(this.#rttMs) ? rtt : 0.8 * this.#rttMs + 0.2 * rtt;
      this.#estimator.setRtt(this.#rttMs);
    }
    this.#outgoingLoss = block.fractionLost / 256;
    if (this.#bweFeedback) this.#onBandwidthFeedback(this.#estimator.onLossReport(this.#outgoingLoss, now));
  }

  /**
   * A NACK from this receiver for `seq` of our stream `mediaSsrc`: the stream's sent-packet log says which source
   * packet went out under that number and how it was rewritten; the packet is rebuilt from the source's cache (once
   * per source, not per receiver), stripped as it was, and sent as RTX (or as itself when the receiver has no RTX).
   */
  #onNack(mediaSsrc: number, seq: number): void {
    const out = this.#outBySsrc.get(mediaSsrc);
    const log = out?.sentLog;
    if (out === undefined || log === undefined || log === null) return;
    const slot = log.find(seq);
    const now = this.#clock.nowMs();
    if (slot < 0 || now - log.sentAt(slot) > this.#config.video.nackMaxAgeMs) return;
    if (!log.markRetransmitted(slot, now, RETRANSMIT_MIN_INTERVAL_MS)) return;
    const r = this.#retransmission;
    if (!log.restore(slot, out.ssrc, r)) return;
    r.length = stripHeaderExtensions(r.rtp, this.#keepExtensions);
    const rtxPt = out.rtxSsrc >= 0 ? (this.#media.rtxByApt.get(r.rtp.payloadType) ?? -1) : -1;
    let len: number;
    if (rtxPt >= 0) {
      len = wrapRtxInPlace(r, out.rtxSsrc, out.rtxSeq, rtxPt);
      if (len < 0) return;
      out.rtxSeq = (out.rtxSeq + 1) & 0xffff;
    } else {
      len = dropPaddingInPlace(r);
      if (len < 0) return;
    }
    const tccId = this.#media.transportCc ? this.#media.transportCcExtId : -1;
    if (tccId > 0 && writeTransportCcSeq(r.rtp, tccId, this.#tccHistory.nextSeq)) this.#tccHistory.onSent(now, len);
    this.#sendRtp(r.buffer, len);
    this.#nackRetransmissions++;
  }

  #createSentLog(): SentPacketLog {
    return new SentPacketLog(this.#config.video.nackCacheSize, this.#config.video.nackMaxAgeMs);
  }

  /** New loss in a stream this endpoint sends: NACK it at once (repeats go with the conference timer). */
  #requestRetransmissions(stream: IncomingStream, nowMs: number): void {
    if (this.#expired || !this.#media.nack) return;
    if (this.#writeNack(stream, nowMs)) this.#rtcpWriter.flush();
  }

  /** Writes a generic NACK (RFC 4585 §6.2.1) for what is due in `stream` into the RTCP writer; true if it wrote one. */
  #writeNack(stream: IncomingStream, nowMs: number): boolean {
    const nacks = stream.nacks;
    if (nacks === null) return false;
    const rtt = this.#rttMs;
    const retryMs = Number.isNaN(rtt) ? NACK_RETRY_DEFAULT_MS : Math.min(NACK_RETRY_MAX_MS, Math.max(NACK_RETRY_MIN_MS, rtt * 1.2));
    const seqs = this.#nackScratch;
    const n = nacks.collect(nowMs, retryMs, seqs);
    if (n === 0) return false;
    const w = this.#rtcpWriter;
    if (!w.reserve(nackSize(nackEntriesFor(seqs, n)))) return false;
    w.offset += writeNack(w.buffer, w.offset, this.conference.feedbackSsrcs.video, stream.ssrc, seqs, n);
    return true;
  }

  /** Totals of the retransmission requests to this endpoint as a sender, for stats. */
  #retransmissionRequestStats(): { retransmissionRequests: { missing: number; recovered: number; requests: number } } {
    const r = { missing: 0, recovered: 0, requests: 0 };
    for (const s of this.#incoming.values()) {
      if (s.nacks === null) continue;
      r.missing += s.nacks.missing;
      r.recovered += s.nacks.recovered;
      r.requests += s.nacks.requests;
    }
    return { retransmissionRequests: r };
  }

  #onKeyframeRequest(mediaSsrc: number): void {
    const sub = this.#outBySsrc.get(mediaSsrc)?.subscription;
    if (sub === undefined || sub === null || sub.source.kind !== 'video' || sub.selector === null) return;
    let enc = sub.selector.currentEncoding;
    if (enc < 0) enc = sub.selector.state().targetEncoding;
    if (enc < 0) return;
    this.conference.requestKeyframe(sub.source, enc, this.#clock.nowMs());
  }

  #onBandwidthFeedback(estimateBps: number): void {
    this.#bweFeedback = true;
    if (this.#config.bwe.enabled && isBandwidthChangeSignificant(this.#allocatedBandwidthBps, estimateBps)) {
      this.conference.requestAllocation();
    }
  }

  #teardown(): void {
    this.#expired = true;
    const t = this.transport;
    t.onRtp = noop;
    t.onRtcp = noop;
    t.onStateChange = noop;
    try {
      t.close();
    } catch (err) {
      this.log.warn({ err }, 'transport close threw');
    }
    for (const sub of [...this.#subsBySource.values()]) this.#dropSubscription(sub);
    for (const out of this.#outBySsrc.values()) out.sentLog?.clear();
    for (const slot of this.#videoSlots) slot.out.sentLog?.clear();
    for (const s of this.#sources) if (s.kind === 'video') s.packetCache.clear();
    this.#outBySsrc.clear();
    this.#subsBySsrc.clear();
    this.#subsBySource.clear();
    this.#videoSlots.length = 0;
    this.#audioSlots.length = 0;
    this.#incoming.clear();
    this.#sources = [];
    this.#senderConstraints.clear();
    this.#allocation = null;
    this.log.info('endpoint expired');
  }
}

const EMPTY_SET: ReadonlySet<string> = new Set();

function noop(): void {}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const VIDEO_TYPES = {
  camera: 'CAMERA',
  desktop: 'DESKTOP',
  desktop_high_fps: 'DESKTOP_HIGH_FPS',
  none: 'DISABLED',
} as const;

function videoMapping(slot: Slot): VideoSourceMapping {
  const src = slot.source as VideoSource;
  return { source: src.name, owner: src.owner, ssrc: slot.out.ssrc, rtx: slot.out.rtxSsrc, videoType: VIDEO_TYPES[src.videoType] };
}

function audioMapping(slot: Slot): AudioSourceMapping {
  const src = slot.source as Source;
  return { source: src.name, owner: src.owner, ssrc: slot.out.ssrc };
}
