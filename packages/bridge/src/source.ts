/**
 * Media sources of an endpoint, built from its Colibri2 `<media-source>` descriptions: an audio source is one SSRC;
 * a video source has one encoding per SIM SSRC (low → high) with the RTX SSRC of its FID group, and a layer model
 * (cc/layers.ts `MediaSource`: encodings × temporal layers, bitrate and liveness per layer) for the allocator.
 *
 * The video source also carries the per-packet scratch state of the packet currently going through the bridge
 * (its parsed VP8 descriptor and frame info): filled by the sender's receive pipeline, read by the receivers'
 * layer selectors and mungers during the synchronous fan-out, so nothing is allocated per packet.
 *
 * References: PROTOCOL.md §5.2 (sources are the endpoint's complete set; SIM groups give the layer order, FID groups
 * the RTX associations), §7.1 (SIM order = low/÷4, mid/÷2, high); JVB `MediaSourceDesc`, `RtpEncodingDesc`,
 * `Colibri2ConferenceHandler.kt`.
 */
import type { FrameInfo } from './cc/layer-selector.js';
import { MediaSource as LayerModel, type VideoType } from './cc/layers.js';
import { createVp8PayloadDescriptor, type Vp8PayloadDescriptor } from './codecs/vp8.js';
import type { MediaSourceDesc, SourceDesc } from './colibri/types.js';
import { BadRequestError } from './errors.js';
import { SourcePacketCache } from './pipeline/packet-cache.js';

export type { VideoType } from './cc/layers.js';

/** One simulcast encoding of a video source. */
export interface SourceEncoding {
  /** Quality index (0 = lowest, SIM order). */
  readonly index: number;
  readonly ssrc: number;
  /** RTX SSRC (FID partner), -1 when none. */
  readonly rtxSsrc: number;
}

/** A signalled audio source. */
export class AudioSource {
  readonly kind = 'audio' as const;
  readonly name: string;
  readonly owner: string;
  /** The SSRC carrying the audio. */
  readonly ssrc: number;
  /** Every SSRC of the source. */
  readonly ssrcs: readonly number[];

  constructor(name: string, owner: string, ssrcs: readonly number[]) {
    this.name = name;
    this.owner = owner;
    this.ssrc = ssrcs[0] ?? 0;
    this.ssrcs = ssrcs;
  }
}

/** Mutable frame info of the packet in flight (satisfies the layer selector's {@link FrameInfo}). */
export interface MutableFrameInfo {
  temporalLayer: number;
  layerSync: boolean;
  isKeyframe: boolean;
  isStartOfFrame: boolean;
}

/** Layer-model options derived from the bridge config. */
export interface VideoSourceOptions {
  temporalLayers?: number;
  maxFrameRate?: number;
  activeTimeoutMs?: number;
  /** Most bytes of the source kept for retransmissions (`video.nackCacheBytes`; default 1 MiB). */
  packetCacheBytes?: number;
  /** Age beyond which packets are not retransmitted (`video.nackMaxAgeMs`; default 1000). */
  packetCacheMaxAgeMs?: number;
}

/** A signalled video source: encodings, RTX, layer model, and the scratch state of the packet in flight. */
export class VideoSource {
  readonly kind = 'video' as const;
  readonly name: string;
  readonly owner: string;
  /** Encodings, index = quality. */
  readonly encodings: readonly SourceEncoding[];
  /** Every SSRC of the source (encodings and RTX). */
  readonly ssrcs: readonly number[];
  /** Layers, bitrates and liveness for the allocator. */
  readonly layers: LayerModel;
  /** VP8 descriptor of the packet being forwarded (receive pipeline writes, fan-out reads). */
  readonly vp8: Vp8PayloadDescriptor = createVp8PayloadDescriptor();
  /** Frame info of the packet being forwarded. */
  readonly frame: MutableFrameInfo & FrameInfo = {
    temporalLayer: -1,
    layerSync: false,
    isKeyframe: false,
    isStartOfFrame: false,
  };
  /** Last keyframe request sent to the owner, per encoding (rate limit per SSRC). */
  readonly keyframeRequestMs: Float64Array;
  /** FIR command sequence number (RFC 5104). */
  firSeq = 0;
  /**
   * Its forwarded packets as received, kept once for every receiver's NACKs (pipeline/packet-cache.ts). Buffers are
   * allocated at the first forwarded packet; the owner clears the cache when the source goes.
   */
  readonly packetCache: SourcePacketCache;

  /** `allSsrcs`: every signalled SSRC (default: the encodings' and their RTX). */
  constructor(
    name: string,
    owner: string,
    videoType: VideoType,
    encodings: readonly SourceEncoding[],
    options: VideoSourceOptions = {},
    allSsrcs?: readonly number[],
  ) {
    this.name = name;
    this.owner = owner;
    this.encodings = encodings;
    const ssrcs: number[] = [];
    for (const e of encodings) {
      ssrcs.push(e.ssrc);
      if (e.rtxSsrc >= 0) ssrcs.push(e.rtxSsrc);
    }
    for (const s of allSsrcs ?? []) if (!ssrcs.includes(s)) ssrcs.push(s);
    this.ssrcs = ssrcs;
    this.keyframeRequestMs = new Float64Array(encodings.length).fill(-Infinity);
    this.packetCache = new SourcePacketCache({
      maxBytes: options.packetCacheBytes ?? 1_048_576,
      maxAgeMs: options.packetCacheMaxAgeMs ?? 1000,
    });
    this.layers = new LayerModel({
      name,
      owner,
      videoType,
      ssrcs: encodings.map((e) => e.ssrc),
      temporalLayers: options.temporalLayers ?? 3,
      maxFrameRate: options.maxFrameRate ?? 30,
      activeTimeoutMs: options.activeTimeoutMs ?? 1000,
    });
  }

  /** Video type (`SourceVideoTypeMessage` updates it). */
  get videoType(): VideoType {
    return this.layers.videoType;
  }

  set videoType(t: VideoType) {
    this.layers.videoType = t;
  }

  /** SSRC of the lowest encoding: what receivers see in plain forwarding (PROTOCOL.md §7.2). */
  get primarySsrc(): number {
    return this.encodings[0]?.ssrc ?? 0;
  }

  /** RTX SSRC of the lowest encoding, -1 when none. */
  get primaryRtxSsrc(): number {
    return this.encodings[0]?.rtxSsrc ?? -1;
  }
}

/** A signalled source. */
export type Source = AudioSource | VideoSource;

/** Normalizes a Colibri2/bridge-channel video type (`camera`, `desktop`, `DESKTOP_HIGH_FPS`, …). */
export function parseVideoType(v: string | undefined): VideoType {
  switch (v?.toLowerCase()) {
    case 'desktop':
      return 'desktop';
    case 'desktop_high_fps':
      return 'desktop_high_fps';
    case 'none':
    case 'disabled':
      return 'none';
    default:
      return 'camera';
  }
}

function isSsrc(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffff_ffff;
}

/**
 * Builds an endpoint's sources from its complete `<sources>` set. Throws {@link BadRequestError} for malformed or
 * inconsistent input: missing names, bad or repeated SSRCs (within the endpoint), groups naming SSRCs outside their
 * source, FID groups that are not pairs, more than one SIM group, a foreign owner. Conflicts with other endpoints
 * are checked by the caller (the conference knows them).
 */
export function parseMediaSources(owner: string, descs: readonly MediaSourceDesc[], options: VideoSourceOptions = {}): Source[] {
  const bad = (msg: string): BadRequestError => new BadRequestError(`endpoint ${owner}: ${msg}`, owner);
  if (!Array.isArray(descs)) throw bad('sources must be a list');
  const names = new Set<string>();
  const seen = new Set<number>();
  const out: Source[] = [];
  for (const d of descs) {
    if (d === null || typeof d !== 'object') throw bad('media-source must be an object');
    if (d.type !== 'audio' && d.type !== 'video') throw bad(`media-source type must be audio or video`);
    if (typeof d.id !== 'string' || d.id.length === 0) throw bad('media-source without a name (id)');
    if (names.has(d.id)) throw bad(`source name ${d.id} appears twice`);
    names.add(d.id);
    if (d.owner !== undefined && d.owner !== owner) throw bad(`source ${d.id} claims owner ${String(d.owner)}`);
    if (!Array.isArray(d.sources) || d.sources.length === 0) throw bad(`source ${d.id} has no SSRC`);
    const ssrcs: number[] = [];
    for (const s of d.sources) {
      if (s === null || typeof s !== 'object' || !isSsrc(s.ssrc)) throw bad(`source ${d.id} has an invalid SSRC`);
      if (seen.has(s.ssrc)) throw bad(`SSRC ${s.ssrc} appears twice`);
      seen.add(s.ssrc);
      ssrcs.push(s.ssrc);
    }
    const groups = d.ssrcGroups ?? [];
    if (!Array.isArray(groups)) throw bad(`source ${d.id}: ssrcGroups must be a list`);
    let sim: number[] | undefined;
    const rtxOf = new Map<number, number>();
    const rtxSsrcs = new Set<number>();
    for (const g of groups) {
      if (g === null || typeof g !== 'object' || !Array.isArray(g.ssrcs)) throw bad(`source ${d.id}: malformed ssrc-group`);
      for (const s of g.ssrcs) {
        if (!isSsrc(s) || !ssrcs.includes(s)) throw bad(`source ${d.id}: ssrc-group names SSRC ${String(s)} outside the source`);
      }
      if (g.semantics === 'FID') {
        const [primary, rtx] = g.ssrcs;
        if (g.ssrcs.length !== 2 || primary === undefined || rtx === undefined || primary === rtx) {
          throw bad(`source ${d.id}: FID group must pair two SSRCs`);
        }
        if (rtxOf.has(primary) || rtxSsrcs.has(rtx)) throw bad(`source ${d.id}: SSRC in two FID groups`);
        rtxOf.set(primary, rtx);
        rtxSsrcs.add(rtx);
      } else if (g.semantics === 'SIM') {
        if (d.type !== 'video') throw bad(`source ${d.id}: SIM group on audio`);
        if (sim !== undefined) throw bad(`source ${d.id}: more than one SIM group`);
        if (g.ssrcs.length === 0 || new Set(g.ssrcs).size !== g.ssrcs.length) throw bad(`source ${d.id}: malformed SIM group`);
        sim = g.ssrcs;
      }
      // Other semantics (FEC-FR, …) are not used by Jitsi clients; ignored.
    }
    if (d.type === 'audio') {
      out.push(new AudioSource(d.id, owner, ssrcs));
      continue;
    }
    let order: number[];
    if (sim !== undefined) {
      for (const s of sim) if (rtxSsrcs.has(s)) throw bad(`source ${d.id}: SSRC ${s} is both an encoding and an RTX`);
      order = sim;
    } else {
      const primary = ssrcs.find((s) => !rtxSsrcs.has(s));
      if (primary === undefined) throw bad(`source ${d.id}: no primary SSRC`);
      order = [primary];
    }
    if (order.length > 8) throw bad(`source ${d.id}: more than 8 simulcast encodings`);
    const encodings: SourceEncoding[] = order.map((ssrc, index) => ({ index, ssrc, rtxSsrc: rtxOf.get(ssrc) ?? -1 }));
    const videoType = parseVideoType(d.videoType ?? d.sources.find((s: SourceDesc) => s.ssrc === order[0])?.videoType);
    out.push(new VideoSource(d.id, owner, videoType, encodings, options, ssrcs));
  }
  return out;
}

/** True when two sources are the same stream layout (kind, SSRCs, encodings and RTX): an update can keep state. */
export function sameLayout(a: Source, b: Source): boolean {
  if (a.kind !== b.kind || a.name !== b.name || a.ssrcs.length !== b.ssrcs.length) return false;
  for (let i = 0; i < a.ssrcs.length; i++) if (a.ssrcs[i] !== b.ssrcs[i]) return false;
  if (a.kind === 'video' && b.kind === 'video') {
    if (a.encodings.length !== b.encodings.length) return false;
    for (let i = 0; i < a.encodings.length; i++) {
      const x = a.encodings[i];
      const y = b.encodings[i];
      if (x === undefined || y === undefined || x.ssrc !== y.ssrc || x.rtxSsrc !== y.rtxSsrc) return false;
    }
  }
  return true;
}
