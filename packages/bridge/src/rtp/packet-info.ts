/**
 * PacketInfo: one packet plus the metadata that travels with it through the pipeline, so each
 * header is parsed once (JVB `PacketInfo`, pion interceptor `Attributes`, LiveKit `ExtPacket`).
 *
 * PacketInfos are pooled: a {@link PacketInfoPool} hands out objects with a preallocated buffer,
 * the pipeline fills them, and the last consumer releases them. Nothing here allocates per packet.
 * Fan-out copies a packet for every receiver but the last (STYLE §3.4) with {@link PacketInfoPool.clone}.
 *
 * Fields start "unknown" (-1 / false) and are filled by the nodes that know them: the receive
 * path (rtp parse, audio level, transport-cc), the codec parsers (keyframe, layers), the
 * conference (endpoint, source).
 */
import { RtpHeader, type RtpParseStatus } from './rtp-packet.js';

/** Media kind of a packet's stream, once the SSRC has been mapped to a source. */
export const MediaKind = {
  Unknown: 0,
  Audio: 1,
  Video: 2,
} as const;
/** One of the {@link MediaKind} values. */
export type MediaKind = (typeof MediaKind)[keyof typeof MediaKind];

/** Default buffer size of pooled packets: an Ethernet MTU's UDP payload plus SRTP tag headroom. */
export const DEFAULT_PACKET_BUFFER_SIZE = 1536;

/** One packet and its metadata. Reused via {@link PacketInfoPool}; never hold on to it after release. */
export class PacketInfo {
  /** Buffer the packet lives in, at offset 0. Owned by this PacketInfo when pooled. */
  buffer: Buffer;
  /** Packet length in bytes (≤ buffer.length). */
  length = 0;
  /** Parsed RTP header (valid after {@link parseRtp} returned Ok; meaningless for RTCP). */
  readonly rtp = new RtpHeader();
  /** True for RTCP (SRTCP) packets. */
  isRtcp = false;
  /** Receive time in µs on the bridge's monotonic clock (0 for packets the bridge generated). */
  receivedTimeUs = 0;
  /** Endpoint the packet came from (its Colibri endpoint id), once known. */
  endpointId: string | undefined = undefined;
  /** Audio or video, once the SSRC is mapped. */
  mediaKind: MediaKind = MediaKind.Unknown;
  /** ssrc-audio-level raw byte (`V << 7 | level`), -1 when absent or not read yet. */
  audioLevel = -1;
  /** Transport-wide sequence number, -1 when absent or not read yet. */
  transportCcSeq = -1;
  /** Retransmission that was unwrapped from RTX (original SSRC/seq/PT restored). */
  isRetransmission = false;
  /** First packet of a keyframe (set by the codec parser). */
  isKeyframe = false;
  /** First packet of a frame (set by the codec parser). */
  isStartOfFrame = false;
  /** Last packet of a frame (set by the codec parser; usually the marker bit). */
  isEndOfFrame = false;
  /** Simulcast encoding index (0 = lowest), -1 unknown. */
  encodingIndex = -1;
  /** Spatial layer id (SVC), -1 unknown. */
  spatialLayer = -1;
  /** Temporal layer id, -1 unknown (or no temporal scalability). */
  temporalLayer = -1;
  /** Set by a node that wants the packet dropped after observers saw it (counted, not forwarded). */
  shouldDiscard = false;
  /** Id of the packet in its source's retransmission cache (set at fan-out), -1 when not cached. */
  cacheId = -1;

  constructor(buffer: Buffer) {
    this.buffer = buffer;
  }

  /** Capacity of the buffer. */
  get capacity(): number {
    return this.buffer.length;
  }

  /** Parses the RTP header of `buffer[0, length)` into {@link rtp}. Once per packet. */
  parseRtp(): RtpParseStatus {
    return this.rtp.parse(this.buffer, this.length);
  }

  /** The packet's bytes as a view (allocates a view object: for I/O calls, not per node). */
  view(): Buffer {
    return this.buffer.subarray(0, this.length);
  }

  /** Clears metadata (not the buffer bytes) for reuse. */
  reset(): void {
    this.length = 0;
    this.rtp.reset();
    this.isRtcp = false;
    this.receivedTimeUs = 0;
    this.endpointId = undefined;
    this.mediaKind = MediaKind.Unknown;
    this.audioLevel = -1;
    this.transportCcSeq = -1;
    this.isRetransmission = false;
    this.isKeyframe = false;
    this.isStartOfFrame = false;
    this.isEndOfFrame = false;
    this.encodingIndex = -1;
    this.spatialLayer = -1;
    this.temporalLayer = -1;
    this.shouldDiscard = false;
    this.cacheId = -1;
  }

  /**
   * Makes this a copy of `other`: bytes into this buffer, metadata, parsed header (re-pointed at
   * this buffer). False when this buffer is too small.
   */
  copyFrom(other: PacketInfo): boolean {
    if (other.length > this.buffer.length) return false;
    other.buffer.copy(this.buffer, 0, 0, other.length);
    this.length = other.length;
    this.rtp.copyFrom(other.rtp, this.buffer);
    this.isRtcp = other.isRtcp;
    this.receivedTimeUs = other.receivedTimeUs;
    this.endpointId = other.endpointId;
    this.mediaKind = other.mediaKind;
    this.audioLevel = other.audioLevel;
    this.transportCcSeq = other.transportCcSeq;
    this.isRetransmission = other.isRetransmission;
    this.isKeyframe = other.isKeyframe;
    this.isStartOfFrame = other.isStartOfFrame;
    this.isEndOfFrame = other.isEndOfFrame;
    this.encodingIndex = other.encodingIndex;
    this.spatialLayer = other.spatialLayer;
    this.temporalLayer = other.temporalLayer;
    this.shouldDiscard = other.shouldDiscard;
    this.cacheId = other.cacheId;
    return true;
  }
}

/** Options of {@link PacketInfoPool}. */
export interface PacketInfoPoolOptions {
  /** Size of each packet buffer in bytes (default {@link DEFAULT_PACKET_BUFFER_SIZE}). */
  bufferSize?: number;
  /** Released packets kept for reuse; beyond that they are left to the GC (default 1024). */
  maxPooled?: number;
}

/** Snapshot of a pool's counters. */
export interface PacketInfoPoolStats {
  /** PacketInfos ever created. */
  created: number;
  /** Currently idle in the pool. */
  pooled: number;
  /** acquire() calls served from the pool. */
  reused: number;
}

/**
 * A free list of PacketInfos with fixed-size buffers. Buffers come from `Buffer.allocUnsafeSlow`
 * (own ArrayBuffer at offset 0, so word-aligned, and never a slice of Node's shared pool).
 * Not thread-safe (there is one event loop); release each PacketInfo exactly once.
 */
export class PacketInfoPool {
  readonly #bufferSize: number;
  readonly #maxPooled: number;
  readonly #free: PacketInfo[] = [];
  #created = 0;
  #reused = 0;

  constructor(options: PacketInfoPoolOptions = {}) {
    this.#bufferSize = options.bufferSize ?? DEFAULT_PACKET_BUFFER_SIZE;
    this.#maxPooled = options.maxPooled ?? 1024;
    if (!(this.#bufferSize > 0)) throw new TypeError('bufferSize must be positive');
  }

  /** Size of the buffers handed out. */
  get bufferSize(): number {
    return this.#bufferSize;
  }

  /** Returns an idle PacketInfo (metadata reset, length 0) or a new one. */
  acquire(): PacketInfo {
    const p = this.#free.pop();
    if (p !== undefined) {
      this.#reused++;
      return p;
    }
    this.#created++;
    return new PacketInfo(Buffer.allocUnsafeSlow(this.#bufferSize));
  }

  /** Returns `p` to the pool (resets its metadata). Don't use `p` afterwards. */
  release(p: PacketInfo): void {
    if (p.buffer.length !== this.#bufferSize) return; // foreign buffer: let the GC have it
    p.reset();
    if (this.#free.length < this.#maxPooled) this.#free.push(p);
  }

  /** A pooled copy of `p` (bytes and metadata), e.g. for every fan-out receiver but the last. */
  clone(p: PacketInfo): PacketInfo {
    const copy = this.acquire();
    if (!copy.copyFrom(p)) {
      // Larger than our buffers (shouldn't happen with MTU-sized packets): give it its own buffer.
      const big = new PacketInfo(Buffer.allocUnsafeSlow(p.length));
      big.copyFrom(p);
      this.release(copy);
      return big;
    }
    return copy;
  }

  /** Counters for the debug endpoint. */
  stats(): PacketInfoPoolStats {
    return { created: this.#created, pooled: this.#free.length, reused: this.#reused };
  }
}

