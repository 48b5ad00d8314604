/**
 * Receiver-side forwarding state:
 * - {@link OutStream}: one stream as the receiver sees it (its SSRC, RTX SSRC, log of sent packets for NACKs, SR
 *   bookkeeping). In plain forwarding there is one per forwarded source (SSRC = the source's primary `s0`,
 *   PROTOCOL.md §7.2); in SSRC-rewriting mode one per slot (PROTOCOL.md §7.5).
 * - {@link Subscription}: one remote source forwarded to one receiver: its {@link LayerSelector} and
 *   {@link RtpMunger} (video; audio only in rewriting mode), bound to an OutStream.
 * - {@link Slot}: an SSRC-rewriting slot, which keeps its output position across re-bindings so that each slot
 *   stays one continuous stream.
 */
import { LayerSelector } from '../cc/layer-selector.js';
import { RtpMunger, type RtpMungerState } from '../cc/munger.js';
import { createVp8PayloadDescriptor, type Vp8PayloadDescriptor } from '../codecs/vp8.js';
import type { Source } from '../source.js';
import type { SentPacketLog } from './sent-packet-log.js';

const SR_HISTORY = 8;

/** One outgoing stream towards a receiver. */
export class OutStream {
  readonly ssrc: number;
  /** RTX SSRC for retransmissions, -1: retransmit with the media SSRC. */
  readonly rtxSsrc: number;
  readonly kind: 'audio' | 'video';
  readonly clockRateHz: number;
  /** What was sent by sequence number, to answer NACKs from the sources' caches (video only). */
  readonly sentLog: SentPacketLog | null;
  /** The subscription currently sending on this stream. */
  subscription: Subscription | null = null;
  packets = 0;
  /** Payload octets (RFC 3550 SR octet count). */
  octets = 0;
  /** Timestamp of the last packet sent, and when. */
  lastRtpTs = 0;
  lastSendMs = -Infinity;
  /** Source SSRC of the last packet sent, and the timestamp offset the munger applied (out − in, mod 2^32). */
  inSsrc = 0;
  tsOffset = 0;
  /** Next RTX sequence number. */
  rtxSeq: number;
  readonly #srLsr = new Float64Array(SR_HISTORY).fill(-1);
  readonly #srSentMs = new Float64Array(SR_HISTORY);
  #srNext = 0;

  constructor(ssrc: number, rtxSsrc: number, kind: 'audio' | 'video', clockRateHz: number, sentLog: SentPacketLog | null, rtxSeq: number) {
    this.ssrc = ssrc >>> 0;
    this.rtxSsrc = rtxSsrc;
    this.kind = kind;
    this.clockRateHz = clockRateHz;
    this.sentLog = sentLog;
    this.rtxSeq = rtxSeq & 0xffff;
  }

  /** Remembers that an SR with LSR value `lsr` went out at `nowMs` (for RTT from the receiver's RR). */
  recordSenderReport(lsr: number, nowMs: number): void {
    this.#srLsr[this.#srNext] = lsr;
    this.#srSentMs[this.#srNext] = nowMs;
    this.#srNext = (this.#srNext + 1) % SR_HISTORY;
  }

  /** RTT in ms from an RR block's LSR/DLSR (DLSR in 1/65536 s), NaN when that SR is unknown. */
  rttMs(lsr: number, dlsr: number, nowMs: number): number {
    if (lsr === 0) return Number.NaN;
    for (let i = 0; i < SR_HISTORY; i++) {
      if (this.#srLsr[i] === lsr) return Math.max(0, nowMs - (this.#srSentMs[i] ?? 0) - (dlsr * 1000) / 65536);
    }
    return Number.NaN;
  }
}

/** One remote source as forwarded to one receiver. */
export class Subscription {
  readonly source: Source;
  /** Video: per-packet layer decisions. */
  readonly selector: LayerSelector | null;
  /** Rewrites SSRC/seq/ts (and VP8 ids). Null for plain-mode audio (forwarded unchanged). */
  munger: RtpMunger | null;
  /** Where the packets go; null while an SSRC-rewriting audio subscription waits for a slot. */
  out: OutStream | null;
  /** SSRC-rewriting slot, when bound. */
  slot: Slot | null = null;
  /** Audio the receiver unsubscribed from (`ReceiverAudioSubscription`). */
  muted = false;
  /** Scratch descriptor: the source's descriptor copied before munging (the munger writes into it). */
  readonly vp8: Vp8PayloadDescriptor = createVp8PayloadDescriptor();

  constructor(source: Source, selector: LayerSelector | null, munger: RtpMunger | null, out: OutStream | null) {
    this.source = source;
    this.selector = selector;
    this.munger = munger;
    this.out = out;
  }
}

/** An SSRC-rewriting slot of one receiver. */
export class Slot {
  readonly out: OutStream;
  /** Source bound to the slot (announced in the map), or null when free. */
  source: Source | null = null;
  /** The subscription using the slot. */
  subscription: Subscription | null = null;
  /** Last time the slot forwarded (audio: per packet; video: per allocation). */
  lastUsedMs = -Infinity;
  /** Output position when the previous source left, to continue the stream. */
  mungerState: RtpMungerState | undefined = undefined;

  constructor(out: OutStream) {
    this.out = out;
  }
}

/** Creates a munger continuing `slot`'s stream (or starting `ssrc`'s). */
export function createMunger(ssrc: number, encodingCount: number, kind: 'audio' | 'video', clockRateHz: number, slot?: Slot): RtpMunger {
  return new RtpMunger({
    ssrc,
    encodingCount,
    clockRateHz,
    // One 20 ms Opus frame for audio, one 30 fps frame for video (PROTOCOL.md §7.4).
    minSwitchGapTicks: kind === 'audio' ? Math.round(clockRateHz / 50) : 3000,
    ...(kind === 'audio' ? { historySize: 64, pictureHistorySize: 1 } : {}),
    ...(slot?.mungerState !== undefined ? { initialState: slot.mungerState } : {}),
  });
}

/** Copies a VP8 descriptor field by field (no allocation). */
export function copyVp8Descriptor(from: Vp8PayloadDescriptor, to: Vp8PayloadDescriptor): void {
  to.size = from.size;
  to.extended = from.extended;
  to.nonReference = from.nonReference;
  to.startOfPartition = from.startOfPartition;
  to.partitionIndex = from.partitionIndex;
  to.pictureId = from.pictureId;
  to.pictureIdBits = from.pictureIdBits;
  to.pictureIdOffset = from.pictureIdOffset;
  to.tl0PicIdx = from.tl0PicIdx;
  to.tl0PicIdxOffset = from.tl0PicIdxOffset;
  to.tid = from.tid;
  to.layerSync = from.layerSync;
  to.keyIdx = from.keyIdx;
  to.isStartOfFrame = from.isStartOfFrame;
  to.isKeyframe = from.isKeyframe;
  to.width = from.width;
  to.height = from.height;
}

/** Creates the layer selector of a video subscription. */
export function createSelector(encodingCount: number, keyframeMinIntervalMs: number, staleMs: number): LayerSelector {
  return new LayerSelector({ encodingCount, keyframeMinIntervalMs, encodingStaleMs: staleMs });
}
