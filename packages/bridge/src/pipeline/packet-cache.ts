/**
 * Retransmission cache of one video source: the packets of the source that were forwarded to anyone, kept ONCE (as
 * received, before any receiver's rewriting) so that every receiver's NACKs can be answered from it. What each
 * receiver was sent instead of the original (sequence number, timestamp, PictureID…) is in that receiver's
 * {@link SentPacketLog} (pipeline/sent-packet-log.ts), which points here by packet id.
 *
 * Memory follows the source's bytes, not the number of receivers and not a slot size: one byte ring holds the
 * packets back to back, and a small index ring their (offset, length, arrival time). Both start small and double
 * when keeping every packet younger than `maxAgeMs` needs it, up to `maxBytes` (and an entry count derived from it);
 * when the buffer has come round once using less than a quarter of itself, it halves. Beyond that the oldest packets
 * give way (eviction by space), and packets older than `maxAgeMs` are dropped when the ring comes round (eviction by
 * age; the log refuses them anyway). Buffers are allocated at the first insert and freed by {@link clear}, so a
 * source nobody receives costs nothing. Resizing allocates (rarely: a doubling or halving); inserting and reading
 * don't.
 *
 * Ids: {@link insert} returns a 32-bit id that increases by one per packet. The live packets are exactly the last
 * `size` ids, so a lookup is a subtraction and an index (no search, no per-sequence-number table): the id names the
 * packet whatever its SSRC, encoding or sequence number.
 *
 * References: PROTOCOL.md §7.4 (RTX towards receivers from the bridge's own cache); JVB `PacketCache` (one cache per
 * incoming stream, shared by the receivers), RFC 4585 §6.2.1 (generic NACK), RFC 4588 (RTX).
 */

/** Options of a {@link SourcePacketCache}. */
export interface SourcePacketCacheOptions {
  /** Largest byte buffer (bytes of packets kept). */
  maxBytes: number;
  /** Packets older than this (ms) are not worth keeping: the receivers no longer ask for them. */
  maxAgeMs: number;
  /** First buffer size, and the smallest it shrinks to (default 16 KiB, at most `maxBytes`, at least 4 KiB). */
  initialBytes?: number;
  /** Most packets kept (default `maxBytes / 256`: room for 1 s of 256-byte packets). Rounded up to a power of two. */
  maxEntries?: number;
  /** First index size (default 128). Rounded up to a power of two. */
  initialEntries?: number;
}

/** Smallest byte buffer; packets larger than the initial buffer are not cached. */
const MIN_BYTES = 4096;

const EMPTY_BUFFER = Buffer.alloc(0);
const EMPTY_I32 = new Int32Array(0);
const EMPTY_U16 = new Uint16Array(0);
const EMPTY_F64 = new Float64Array(0);

function pow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** The retransmission cache of one video source. See the module comment. */
export class SourcePacketCache {
  readonly #maxBytes: number;
  readonly #maxAgeMs: number;
  readonly #initialBytes: number;
  readonly #maxEntries: number;
  readonly #initialEntries: number;

  #data: Buffer = EMPTY_BUFFER;
  #offsets: Int32Array = EMPTY_I32;
  #lengths: Uint16Array = EMPTY_U16;
  #arrivals: Float64Array = EMPTY_F64;
  #mask = -1;
  /** Id the next packet gets (uint32, wraps). */
  #next = 0;
  /** Live packets: ids next − count … next − 1. */
  #count = 0;
  /** Where the next packet goes in `#data`. */
  #write = 0;
  /** Bytes of the live packets. */
  #bytes = 0;

  constructor(options: SourcePacketCacheOptions) {
    this.#maxBytes = Math.max(MIN_BYTES, Math.floor(options.maxBytes));
    this.#maxAgeMs = options.maxAgeMs;
    this.#initialBytes = Math.min(this.#maxBytes, Math.max(MIN_BYTES, Math.floor(options.initialBytes ?? 16384)));
    this.#maxEntries = pow2(Math.max(16, options.maxEntries ?? Math.ceil(this.#maxBytes / 256)));
    this.#initialEntries = Math.min(this.#maxEntries, pow2(Math.max(16, options.initialEntries ?? 128)));
  }

  /** Packets held. */
  get size(): number {
    return this.#count;
  }

  /** Bytes of the packets held. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Size of the byte buffer (0 until the first insert and after {@link clear}). */
  get capacityBytes(): number {
    return this.#data.length;
  }

  /** Size of the index. */
  get capacityEntries(): number {
    return this.#mask + 1;
  }

  /**
   * Copies `buf[0, len)` (one RTP packet as received) into the cache at `nowMs`; returns its id, or -1 when it is
   * not cached (empty, or larger than the initial buffer). Once per forwarded video packet.
   */
  insert(buf: Buffer, len: number, nowMs: number): number {
    if (len <= 0 || len > this.#initialBytes || len > 0xffff) return -1;
    if (this.#mask < 0) this.#resize(this.#initialBytes, this.#initialEntries);
    if (this.#count > this.#mask) {
      // Index full: grow it while the oldest packet may still be asked for, else the oldest goes.
      if (this.#young(this.#tailSlot(), nowMs) && this.#mask + 1 < this.#maxEntries) {
        this.#resize(this.#data.length, (this.#mask + 1) * 2);
      } else {
        this.#evictOldest();
      }
    }
    const at = this.#place(len, nowMs);
    buf.copy(this.#data, at, 0, len);
    const id = this.#next;
    const slot = id & this.#mask;
    this.#offsets[slot] = at;
    this.#lengths[slot] = len;
    this.#arrivals[slot] = nowMs;
    this.#next = (id + 1) >>> 0;
    this.#count++;
    this.#write = at + len;
    this.#bytes += len;
    return id;
  }

  /** Whether packet `id` is still held. */
  has(id: number): boolean {
    return this.#slotOf(id) >= 0;
  }

  /** Arrival time of packet `id`, or NaN when it is no longer held. */
  arrivalMs(id: number): number {
    const slot = this.#slotOf(id);
    return slot < 0 ? Number.NaN : (this.#arrivals[slot] as number);
  }

  /** Copies packet `id` into `out` at offset 0; returns its length, or -1 when it is gone or `out` is too small. */
  copy(id: number, out: Buffer): number {
    const slot = this.#slotOf(id);
    if (slot < 0) return -1;
    const off = this.#offsets[slot] as number;
    const len = this.#lengths[slot] as number;
    if (len > out.length) return -1;
    this.#data.copy(out, 0, off, off + len);
    return len;
  }

  /** Drops every packet and frees the buffers (allocated again by the next insert). Ids keep increasing. */
  clear(): void {
    this.#data = EMPTY_BUFFER;
    this.#offsets = EMPTY_I32;
    this.#lengths = EMPTY_U16;
    this.#arrivals = EMPTY_F64;
    this.#mask = -1;
    this.#count = 0;
    this.#write = 0;
    this.#bytes = 0;
  }

  /** Index slot of a live id, or -1. */
  #slotOf(id: number): number {
    const back = (this.#next - id) >>> 0;
    if (id < 0 || back === 0 || back > this.#count) return -1;
    return id & this.#mask;
  }

  #tailSlot(): number {
    return (this.#next - this.#count) & this.#mask;
  }

  #young(slot: number, nowMs: number): boolean {
    return nowMs - (this.#arrivals[slot] as number) < this.#maxAgeMs;
  }

  #evictOldest(): void {
    this.#bytes -= this.#lengths[this.#tailSlot()] as number;
    this.#count--;
    if (this.#count === 0) this.#write = 0;
  }

  /**
   * Finds room for `len` bytes and returns its offset: after the newest packet, or at 0 when the buffer's end is
   * reached. Packets lie in id order: the oldest ones (written before the ring last came round) from the write
   * position on, then the newer ones from 0 up to the write position; so only the oldest can be in the way. They are
   * evicted, or the buffer doubles when one of them may still be asked for.
   */
  #place(len: number, nowMs: number): number {
    for (;;) {
      let at = this.#write;
      const cap = this.#data.length;
      if (at + len > cap) {
        // Coming round: what is too old goes, and a buffer used to less than a quarter halves.
        while (this.#count > 0 && !this.#young(this.#tailSlot(), nowMs)) this.#evictOldest();
        const entries = this.#mask + 1;
        const fewerEntries = entries > this.#initialEntries && this.#count * 4 <= entries ? entries / 2 : entries;
        if (cap > this.#initialBytes && this.#bytes * 4 <= cap) {
          this.#resize(Math.max(this.#initialBytes, Math.floor(cap / 2)), fewerEntries);
          continue;
        }
        if (fewerEntries !== entries) {
          this.#resize(cap, fewerEntries);
          continue;
        }
        // The rest of the buffer is skipped: the packets of the last round still there go first.
        if (this.#evictStartingIn(at, cap, nowMs)) continue;
        at = 0;
      }
      if (this.#evictStartingIn(at, at + len, nowMs)) continue;
      return at;
    }
  }

  /**
   * Evicts the oldest packets while they start in `[from, to)`. Returns true when it grew the buffer instead (one of
   * them is younger than the max age): the caller starts over.
   */
  #evictStartingIn(from: number, to: number, nowMs: number): boolean {
    while (this.#count > 0) {
      const tail = this.#tailSlot();
      const off = this.#offsets[tail] as number;
      if (off < from || off >= to) return false;
      const cap = this.#data.length;
      if (this.#young(tail, nowMs) && cap < this.#maxBytes) {
        this.#resize(Math.min(this.#maxBytes, cap * 2), this.#mask + 1);
        return true;
      }
      this.#evictOldest();
    }
    return false;
  }

  /** New buffers of the given sizes with the live packets copied to their start, oldest first. */
  #resize(bytes: number, entries: number): void {
    const data = Buffer.allocUnsafeSlow(bytes);
    const offsets = new Int32Array(entries);
    const lengths = new Uint16Array(entries);
    const arrivals = new Float64Array(entries);
    const mask = entries - 1;
    let at = 0;
    const first = (this.#next - this.#count) >>> 0;
    for (let k = 0; k < this.#count; k++) {
      const id = (first + k) >>> 0;
      const from = id & this.#mask;
      const to = id & mask;
      const len = this.#lengths[from] as number;
      const off = this.#offsets[from] as number;
      this.#data.copy(data, at, off, off + len);
      offsets[to] = at;
      lengths[to] = len;
      arrivals[to] = this.#arrivals[from] as number;
      at += len;
    }
    this.#data = data;
    this.#offsets = offsets;
    this.#lengths = lengths;
    this.#arrivals = arrivals;
    this.#mask = mask;
    this.#write = at;
  }
}
