/**
 * Loss repair for the headless test participant, as a browser does it on a JVB session:
 *
 * - receiving ({@link ReceiveRepair}): per remote video SSRC, gaps in the sequence numbers are NACKed to the bridge
 *   (RFC 4585 §6.2.1 generic NACK) at once and again every `retryMs` (at most `maxTries` times, for at most
 *   `maxAgeMs`); RTX packets (RFC 4588) on the FID partner SSRC are unwrapped (OSN) and fill the gap. What arrived
 *   how is counted, so a test can state the loss before and after repair over a window of sequence numbers;
 * - sending ({@link SendHistory}): the last packets sent per SSRC are kept, so that the participant can answer the
 *   bridge's NACKs with RTX on the layer's RTX SSRC and RTX payload type.
 *
 * Sequence numbers are extended to 32+ bits (cycles × 2^16 + seq) per SSRC so that windows survive wraps.
 */

/** Signed 16-bit distance a − b. */
function seqDelta(a: number, b: number): number {
  return ((a - b) << 16) >> 16;
}

/** Receive-side counters of one remote video SSRC. */
export interface RepairStreamStats {
  /** Highest extended sequence number received. */
  highest: number;
  /** Unique packets received, however they came. */
  received: number;
  /** Unique packets that came as an original transmission. */
  originals: number;
  /** Of those, arrived after a higher number (reordered, or a late repair by the bridge). */
  late: number;
  /** Unique packets that came only as RTX. */
  viaRtx: number;
  /** RTX packets that repaired nothing (already there). */
  redundantRtx: number;
  /** Sequence numbers found missing (gaps). */
  gaps: number;
  /** Sequence numbers requested in NACKs (repeats counted). */
  nacked: number;
  /** NACK packets sent. */
  nackPackets: number;
}

interface Pending {
  since: number;
  lastSent: number;
  tries: number;
}

class RepairStream {
  readonly stats: RepairStreamStats = { highest: -1, received: 0, originals: 0, late: 0, viaRtx: 0, redundantRtx: 0, gaps: 0, nacked: 0, nackPackets: 0 };
  /** Extended numbers received, with how: 1 original, 2 RTX. */
  readonly got = new Map<number, 1 | 2>();
  readonly pending = new Map<number, Pending>();
  first = -1;

  extend(seq: number): number {
    if (this.stats.highest < 0) return seq;
    return this.stats.highest + seqDelta(seq, this.stats.highest & 0xffff);
  }
}

export interface ReceiveRepairOptions {
  /** Sends a NACK for `seqs` (16-bit, increasing) of `mediaSsrc`. */
  sendNack(mediaSsrc: number, seqs: number[]): void;
  retryMs?: number;
  maxTries?: number;
  maxAgeMs?: number;
  /** Gaps larger than this are a restart, not loss. */
  maxGap?: number;
}

/** Receive side of loss repair. See the module comment. */
export class ReceiveRepair {
  readonly #opts: Required<ReceiveRepairOptions>;
  readonly #streams = new Map<number, RepairStream>();
  /** RTX SSRC → media SSRC (from the FID groups the focus announces). */
  readonly rtxToMedia = new Map<number, number>();
  /** RTX payload types (of the offer). */
  readonly rtxPts = new Set<number>();
  /** Media SSRCs to watch (remote video); packets of others are ignored. */
  readonly watch = new Set<number>();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(opts: ReceiveRepairOptions) {
    this.#opts = { retryMs: 30, maxTries: 10, maxAgeMs: 1500, maxGap: 500, ...opts };
  }

  /** Counters of one media SSRC (undefined before its first packet). */
  stats(ssrc: number): RepairStreamStats | undefined {
    return this.#streams.get(ssrc)?.stats;
  }

  /** Highest extended sequence number of `ssrc` so far (-1 before any): a window boundary. */
  mark(ssrc: number): number {
    return this.#streams.get(ssrc)?.stats.highest ?? -1;
  }

  /** Missing requests still outstanding for numbers ≤ `upTo` of `ssrc`. */
  outstanding(ssrc: number, upTo = Infinity): number {
    let n = 0;
    for (const ext of this.#streams.get(ssrc)?.pending.keys() ?? []) if (ext <= upTo) n++;
    return n;
  }

  /**
   * What happened to the extended sequence numbers (from, to] of `ssrc`: how many there were, how many never
   * arrived, and how many arrived only by RTX or late.
   */
  window(ssrc: number, from: number, to: number): { expected: number; missing: number; viaRtx: number; originals: number } {
    const s = this.#streams.get(ssrc);
    let missing = 0;
    let viaRtx = 0;
    let originals = 0;
    for (let e = from + 1; e <= to; e++) {
      const how = s?.got.get(e);
      if (how === undefined) missing++;
      else if (how === 2) viaRtx++;
      else originals++;
    }
    return { expected: Math.max(0, to - from), missing, viaRtx, originals };
  }

  /** One decrypted RTP packet (header fields and payload). */
  onRtp(ssrc: number, seq: number, payloadType: number, payload: Buffer, nowMs: number): void {
    if (this.#closed) return;
    const media = this.rtxToMedia.get(ssrc);
    if (media !== undefined && this.rtxPts.has(payloadType)) {
      if (payload.length <= 2) return; // padding / probe
      this.#record(media, payload.readUInt16BE(0), true, nowMs);
      return;
    }
    if (this.watch.has(ssrc)) this.#record(ssrc, seq, false, nowMs);
  }

  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #record(ssrc: number, seq: number, rtx: boolean, nowMs: number): void {
    let s = this.#streams.get(ssrc);
    if (s === undefined) {
      s = new RepairStream();
      this.#streams.set(ssrc, s);
    }
    const st = s.stats;
    if (st.highest < 0) {
      if (rtx) return; // a repair before anything else: no reference yet
      st.highest = seq;
      s.first = seq;
      s.got.set(seq, 1);
      st.received++;
      st.originals++;
      return;
    }
    const ext = s.extend(seq);
    if (s.got.has(ext)) {
      if (rtx) st.redundantRtx++;
      return;
    }
    if (ext < s.first) return; // from before we started
    s.got.set(ext, rtx ? 2 : 1);
    st.received++;
    s.pending.delete(ext);
    if (rtx) st.viaRtx++;
    else st.originals++;
    if (ext <= st.highest) {
      if (!rtx) st.late++;
      return;
    }
    const skipped = ext - st.highest - 1;
    const prev = st.highest;
    st.highest = ext;
    if (skipped <= 0) return;
    if (skipped > this.#opts.maxGap) {
      s.pending.clear();
      return;
    }
    st.gaps += skipped;
    for (let e = prev + 1; e < ext; e++) s.pending.set(e, { since: nowMs, lastSent: -Infinity, tries: 0 });
    this.#flush(ssrc, s, nowMs);
    this.#timer ??= setInterval(() => this.#tick(), Math.max(5, Math.floor(this.#opts.retryMs / 2)));
    this.#timer.unref?.();
  }

  #tick(): void {
    const now = performance.now();
    let any = false;
    for (const [ssrc, s] of this.#streams) {
      if (s.pending.size === 0) continue;
      this.#flush(ssrc, s, now);
      any ||= s.pending.size > 0;
    }
    if (!any && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  #flush(ssrc: number, s: RepairStream, nowMs: number): void {
    const due: number[] = [];
    for (const [ext, p] of s.pending) {
      if (p.tries >= this.#opts.maxTries || nowMs - p.since > this.#opts.maxAgeMs) {
        s.pending.delete(ext);
        continue;
      }
      if (nowMs - p.lastSent < this.#opts.retryMs) continue;
      p.lastSent = nowMs;
      p.tries++;
      due.push(ext);
    }
    if (due.length === 0) return;
    due.sort((a, b) => a - b);
    s.stats.nacked += due.length;
    s.stats.nackPackets++;
    this.#opts.sendNack(ssrc, due.map((e) => e & 0xffff));
  }
}

/** The last packets sent per SSRC, by sequence number, to answer NACKs with RTX. */
export class SendHistory {
  readonly #size: number;
  readonly #bySsrc = new Map<number, { seqs: Int32Array; packets: Array<Buffer | undefined> }>();

  constructor(size = 1024) {
    let n = 1;
    while (n < size) n *= 2;
    this.#size = n;
  }

  /** Keeps a built RTP packet (the buffer is not copied: the pump builds a new one per packet). */
  record(packet: Buffer): void {
    if (packet.length < 12) return;
    const ssrc = packet.readUInt32BE(8);
    const seq = packet.readUInt16BE(2);
    let h = this.#bySsrc.get(ssrc);
    if (h === undefined) {
      h = { seqs: new Int32Array(this.#size).fill(-1), packets: new Array<Buffer | undefined>(this.#size) };
      this.#bySsrc.set(ssrc, h);
    }
    const i = seq & (this.#size - 1);
    h.seqs[i] = seq;
    h.packets[i] = packet;
  }

  get(ssrc: number, seq: number): Buffer | undefined {
    const h = this.#bySsrc.get(ssrc);
    const i = seq & (this.#size - 1);
    return h !== undefined && h.seqs[i] === (seq & 0xffff) ? h.packets[i] : undefined;
  }
}

/**
 * An RTX packet (RFC 4588 §4) for the RTP packet `orig`: its header with SSRC `rtxSsrc`, payload type `rtxPt` and
 * sequence number `rtxSeq`, the original sequence number (OSN) first in the payload.
 */
export function buildRtx(orig: Buffer, rtxSsrc: number, rtxPt: number, rtxSeq: number): Buffer {
  const cc = (orig[0] ?? 0) & 0x0f;
  let headerLen = 12 + 4 * cc;
  if (((orig[0] ?? 0) & 0x10) !== 0) headerLen += 4 + 4 * orig.readUInt16BE(headerLen + 2);
  let end = orig.length;
  if (((orig[0] ?? 0) & 0x20) !== 0) end -= orig[orig.length - 1] ?? 0;
  const out = Buffer.alloc(headerLen + 2 + (end - headerLen));
  orig.copy(out, 0, 0, headerLen);
  out[0] = (out[0] ?? 0) & ~0x20;
  out[1] = ((out[1] ?? 0) & 0x80) | (rtxPt & 0x7f);
  out.writeUInt16BE(rtxSeq & 0xffff, 2);
  out.writeUInt32BE(rtxSsrc >>> 0, 8);
  out.writeUInt16BE(orig.readUInt16BE(2), headerLen);
  orig.copy(out, headerLen + 2, headerLen, end);
  return out;
}
