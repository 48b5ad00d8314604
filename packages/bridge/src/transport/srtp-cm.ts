/**
 * Per-packet primitives of the AES_CM_128_HMAC_SHA1_{80,32} SRTP profiles: AES counter-mode
 * keystream XOR and the truncated HMAC-SHA1 tag. One instance per session key (SRTP or SRTCP of
 * one direction); all state is set up in the constructor and reused for every packet.
 *
 * Why this shape. Measured with `npx tsx bench/srtp/srtp.ts --strategies --rounds 30` (1200-byte
 * RTP packet, Node 20.20, x86-64 AMD EPYC with AES-NI and SHA-NI, a shared 2-core VM; µs per call,
 * best of 30 rounds of 2000 calls; medians run 5–20 % higher, the ranking never changed):
 * - keystream: a cipher object per packet, `createCipheriv('aes-128-ctr', key, iv)` (what werift
 *   does, werift-webrtc issue 310): 2.2–2.4 µs. One long-lived `aes-128-ecb` cipher encrypting
 *   the packet's counter blocks (written into a reused Int32Array): 0.80–0.85 µs, most of it the
 *   fixed cost of one `update()` call (which allocates its output). ECB is stateless between
 *   update() calls (autopadding off), so one cipher serves every packet and SSRC of the key.
 * - keystream prefetch: AES-CM keystream depends only on (SSRC, index), so one ECB call can cover
 *   the next 8 packets of a stream ({@link KeystreamCache}): 0.35 µs per packet. A late packet
 *   (index below the cached range) computes its own keystream and leaves the cache alone; a jump
 *   past the range, or a longer payload, refills it from the new index.
 * - XOR: in 32-bit words, +0.6 µs in the bench's isolated loop vs +1.5 µs bytewise (~0.35 µs
 *   inside protect, by CPU profile). Done in our own aligned scratch buffer through its persistent
 *   Int32Array view: the packet is copied in once for the MAC anyway and copied out once, so no
 *   typed-array views over the caller's buffers (whose alignment we don't control) per packet.
 * - tag: `createHmac('sha1', key)` per packet 2.0–2.2 µs (a KeyObject key: the same);
 *   `Hash.copy()` of precomputed ipad/opad states ~1.95 µs; two one-shot `crypto.hash()` calls over
 *   ipad‖M‖ROC and opad‖inner ~1.8 µs, the second (84 bytes) alone 0.5–0.65 µs. Chosen: one native
 *   `crypto.hash()` for the inner hash and the outer hash in JS, which is a single SHA-1
 *   compression (inner digest + padding) from the opad state precomputed once per key: ~0.24 µs.
 * Net per 1200-byte packet: ~2.9–3.0 µs to protect or unprotect (about 1 µs of it the native inner
 * SHA-1), vs 4.5–4.9 µs for one CTR cipher + one createHmac per packet (the brief's "raw
 * node:crypto ceiling") and 6.9–7.2 µs (protect) / 10.5–12.5 µs (unprotect) for werift-rtp.
 *
 * References:
 * - RFC 3711 §4.1.1 (AES-CM: IV = (k_s · 2^16) XOR (SSRC · 2^64) XOR (i · 2^16), 16-bit block
 *   counter in the low bits), §4.2 (HMAC-SHA1 over the authenticated portion ‖ ROC, truncated to
 *   80 or 32 bits), §3.4 (SRTCP: the index takes the place of i; no ROC in the MAC input):
 *   https://www.rfc-editor.org/rfc/rfc3711#section-4.1.1
 * - RFC 2104 (HMAC = H((K ⊕ opad) ‖ H((K ⊕ ipad) ‖ m))): https://www.rfc-editor.org/rfc/rfc2104
 * - RFC 3174 / FIPS 180-4 §6.1 (SHA-1 compression function, used for the outer hash):
 *   https://www.rfc-editor.org/rfc/rfc3174
 */
import { createCipheriv, hash, type Cipher } from 'node:crypto';

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** A big-endian 32-bit value as the native-endian word whose memory bytes spell it. */
function toNative(x: number): number {
  return LITTLE_ENDIAN ? ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24) : x | 0;
}

const SHA1_BLOCK = 64;
const SHA1_IV = [0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476, 0xc3d2e1f0 | 0];
const EMPTY = Buffer.alloc(0);
const EMPTY32 = new Int32Array(0);

/**
 * Precomputed AES-CM keystream for the next packets of one stream (one per SSRC and direction,
 * owned by the session's per-SSRC state). Holds `count` slots of `stride` bytes for the packet
 * indices `base … base + count − 1`.
 */
export class KeystreamCache {
  /** First packet index covered, -1 when empty. */
  base = -1;
  /** Number of packets covered. */
  count = 0;
  /** Bytes of keystream per packet (a multiple of 16, the largest payload seen). */
  stride = 0;
  /** The keystream (output of one ECB call). */
  ks: Buffer = EMPTY;
  /** `ks` as 32-bit words, or an empty array when `ks` isn't 4-byte aligned. */
  ks32: Int32Array = EMPTY32;
}

/** AES-CM keystream + HMAC-SHA1 for one session key. See the file comment for the design. */
export class AesCmHmac {
  readonly #ecb: Cipher;
  /** Session salt as native-endian words (salt ‖ 0x0000). */
  readonly #salt0: number;
  readonly #salt1: number;
  readonly #salt2: number;
  readonly #salt3: number;
  #counters: Buffer = EMPTY;
  #counters32: Int32Array = EMPTY32;
  /**
   * ipad block followed by the MAC input. Packets are processed here: copied in once, XORed in
   * place through the persistent word view (no per-packet typed-array views), hashed, and the
   * payload copied out once. Own ArrayBuffer, so word-aligned; grows for larger packets.
   */
  #inner: Buffer = EMPTY;
  #inner32: Int32Array = EMPTY32;
  /** SHA-1 state after compressing the opad block (computed once per key). */
  readonly #outerState = new Int32Array(5);
  /** Scratch: message block, schedule and result of the outer compression. */
  readonly #block = new Int32Array(16);
  readonly #w = new Int32Array(80);
  readonly #digest = new Int32Array(5);
  /** Keystream selected for the current packet (set by #selectKeystream; avoids a result object). */
  #ks: Buffer = EMPTY;
  #ks32: Int32Array = EMPTY32;
  #ksOff = 0;

  /**
   * @param key session encryption key (16 or 32 bytes)
   * @param salt session salt (14 bytes)
   * @param authKey session authentication key (≤ 64 bytes; 20 for SRTP)
   */
  constructor(key: Buffer, salt: Buffer, authKey: Buffer) {
    if (key.length !== 16 && key.length !== 32) throw new TypeError('AES-CM key must be 16 or 32 bytes');
    if (salt.length !== 14) throw new TypeError('AES-CM session salt must be 14 bytes');
    if (authKey.length > SHA1_BLOCK) throw new TypeError('HMAC key longer than a SHA-1 block');
    this.#ecb = createCipheriv(key.length === 32 ? 'aes-256-ecb' : 'aes-128-ecb', key, null);
    this.#ecb.setAutoPadding(false);
    const s = new Int32Array(4);
    Buffer.from(s.buffer).set(salt);
    this.#salt0 = s[0] as number;
    this.#salt1 = s[1] as number;
    this.#salt2 = s[2] as number;
    this.#salt3 = s[3] as number;
    this.#growCounters(2048);
    this.#growInner(2048);
    for (let i = 0; i < SHA1_BLOCK; i++) this.#inner[i] = (i < authKey.length ? (authKey[i] as number) : 0) ^ 0x36;
    const opad = this.#block;
    for (let i = 0; i < 16; i++) {
      let word = 0;
      for (let j = 0; j < 4; j++) word = (word << 8) | ((4 * i + j < authKey.length ? (authKey[4 * i + j] as number) : 0) ^ 0x5c);
      opad[i] = word;
    }
    this.#compress(new Int32Array(SHA1_IV), this.#outerState);
  }

  /**
   * SRTP protect (RFC 3711 §3.3): `out[0, len + tagLen)` = header ‖ AES-CM(payload) ‖ tag for the
   * RTP packet `src[0, len)` with a `hdrLen`-byte header. `roc` is the ROC on the wire (u32),
   * `index` the packet index for the keystream cache (-1: don't use the cache). `out` may be `src`.
   */
  protectRtp(
    src: Buffer,
    hdrLen: number,
    len: number,
    out: Buffer,
    ssrc: number,
    roc: number,
    seq: number,
    index: number,
    cache: KeystreamCache | undefined,
    prefetch: number,
    tagLen: number,
  ): void {
    this.#ensureInner(len + 4);
    const inner = this.#inner;
    src.copy(inner, SHA1_BLOCK, 0, len);
    this.#selectKeystream(len - hdrLen, ssrc, roc, seq, index, cache, prefetch);
    this.#xorInner(SHA1_BLOCK + hdrLen, len - hdrLen);
    inner.copy(out, 0, SHA1_BLOCK, SHA1_BLOCK + len);
    inner.writeUInt32BE(roc >>> 0, SHA1_BLOCK + len);
    this.#writeMac(SHA1_BLOCK + len + 4, out, len, tagLen);
  }

  /**
   * SRTP unprotect in place: verifies the tag at `buf[end, end + tagLen)` over `buf[0, end)` ‖ ROC,
   * then decrypts `buf[hdrLen, end)`. Returns false, leaving `buf` untouched, on a tag mismatch.
   */
  unprotectRtp(
    buf: Buffer,
    hdrLen: number,
    end: number,
    ssrc: number,
    roc: number,
    seq: number,
    index: number,
    cache: KeystreamCache | undefined,
    prefetch: number,
    tagLen: number,
  ): boolean {
    this.#ensureInner(end + 4);
    const inner = this.#inner;
    buf.copy(inner, SHA1_BLOCK, 0, end);
    inner.writeUInt32BE(roc >>> 0, SHA1_BLOCK + end);
    if (!this.#verifyMac(SHA1_BLOCK + end + 4, buf, end, tagLen)) return false;
    this.#selectKeystream(end - hdrLen, ssrc, roc, seq, index, cache, prefetch);
    this.#xorInner(SHA1_BLOCK + hdrLen, end - hdrLen);
    inner.copy(buf, hdrLen, SHA1_BLOCK + hdrLen, SHA1_BLOCK + end);
    return true;
  }

  /**
   * SRTCP protect (RFC 3711 §3.4, E = 1): `out[0, len + 4 + tagLen)` = first 8 bytes ‖
   * AES-CM(rest) ‖ E‖index ‖ tag. `out` may be `src`.
   */
  protectRtcp(src: Buffer, len: number, out: Buffer, ssrc: number, index: number, tagLen: number): void {
    this.#ensureInner(len + 4);
    const inner = this.#inner;
    src.copy(inner, SHA1_BLOCK, 0, len);
    this.#selectKeystream(len - 8, ssrc, index >>> 16, index & 0xffff, -1, undefined, 0);
    this.#xorInner(SHA1_BLOCK + 8, len - 8);
    inner.writeUInt32BE((0x8000_0000 | index) >>> 0, SHA1_BLOCK + len);
    inner.copy(out, 0, SHA1_BLOCK, SHA1_BLOCK + len + 4);
    this.#writeMac(SHA1_BLOCK + len + 4, out, len + 4, tagLen);
  }

  /**
   * SRTCP unprotect in place: verifies the tag at `buf[indexOff + 4, +tagLen)` over
   * `buf[0, indexOff + 4)`, then (when `encrypted`) decrypts `buf[8, indexOff)`. Returns false,
   * leaving `buf` untouched, on a tag mismatch.
   */
  unprotectRtcp(buf: Buffer, indexOff: number, ssrc: number, index: number, encrypted: boolean, tagLen: number): boolean {
    const authLen = indexOff + 4;
    this.#ensureInner(authLen);
    const inner = this.#inner;
    buf.copy(inner, SHA1_BLOCK, 0, authLen);
    if (!this.#verifyMac(SHA1_BLOCK + authLen, buf, authLen, tagLen)) return false;
    if (encrypted && indexOff > 8) {
      this.#selectKeystream(indexOff - 8, ssrc, index >>> 16, index & 0xffff, -1, undefined, 0);
      this.#xorInner(SHA1_BLOCK + 8, indexOff - 8);
      inner.copy(buf, 8, SHA1_BLOCK + 8, SHA1_BLOCK + indexOff);
    }
    return true;
  }

  /**
   * General AES-CM primitive (tests, non-packet uses): dst[dstOff, +len) = src[srcOff, +len) XOR
   * keystream(IV(ssrc, indexHigh · 2^16 + indexLow)). `src` and `dst` may be the same.
   */
  xorKeystream(src: Buffer, srcOff: number, dst: Buffer, dstOff: number, len: number, ssrc: number, indexHigh: number, indexLow: number): void {
    if (len <= 0) return;
    this.#selectKeystream(len, ssrc, indexHigh, indexLow, -1, undefined, 0);
    const ks = this.#ks;
    for (let i = 0; i < len; i++) dst[dstOff + i] = (src[srcOff + i] as number) ^ (ks[i] as number);
  }

  /** Writes the first `tagLen` bytes of SHA-1(opad ‖ SHA-1(inner[0, innerEnd))) to `out[outOff]`. */
  #writeMac(innerEnd: number, out: Buffer, outOff: number, tagLen: number): void {
    const d = this.#mac(innerEnd);
    for (let i = 0; i < tagLen; i++) out[outOff + i] = ((d[i >> 2] as number) >>> (24 - 8 * (i & 3))) & 0xff;
  }

  /** Constant-time comparison of the MAC of inner[0, innerEnd) with `buf[tagOff, +tagLen)`. */
  #verifyMac(innerEnd: number, buf: Buffer, tagOff: number, tagLen: number): boolean {
    const d = this.#mac(innerEnd);
    let diff = 0;
    for (let i = 0; i < tagLen; i++) diff |= (((d[i >> 2] as number) >>> (24 - 8 * (i & 3))) & 0xff) ^ (buf[tagOff + i] as number);
    return diff === 0;
  }

  /**
   * Points #ks/#ks32/#ksOff at `len` bytes of keystream for (ssrc, indexHigh · 2^16 + indexLow):
   * from `cache` when given and `index` ≥ 0 (refilling it for `prefetch` packets from `index` when
   * the index is past the cached range or the payload outgrows its stride), else from one ECB call.
   * A packet below the cached range (late, retransmitted) never disturbs the cache.
   */
  #selectKeystream(
    len: number,
    ssrc: number,
    indexHigh: number,
    indexLow: number,
    index: number,
    cache: KeystreamCache | undefined,
    prefetch: number,
  ): void {
    if (cache !== undefined && index >= 0) {
      let slot = index - cache.base;
      if (cache.base < 0 || slot >= 0) {
        if (cache.base < 0 || slot >= cache.count || len > cache.stride) {
          this.#refill(cache, prefetch, len, ssrc, index);
          slot = 0;
        }
        this.#ks = cache.ks;
        this.#ks32 = cache.ks32;
        this.#ksOff = slot * cache.stride;
        return;
      }
    }
    const blocks = (len + 15) >> 4;
    if (blocks > 0xffff) throw new RangeError('payload too long for AES-CM');
    if (blocks << 2 > this.#counters32.length) this.#growCounters(blocks << 4);
    this.#fillCounters(0, blocks, ssrc, indexHigh, indexLow);
    const ks = this.#ecb.update(this.#counters.subarray(0, blocks << 4));
    this.#ks = ks;
    this.#ks32 = (ks.byteOffset & 3) === 0 ? new Int32Array(ks.buffer, ks.byteOffset, ks.length >> 2) : EMPTY32;
    this.#ksOff = 0;
  }

  /** inner[off, +len) ^= the selected keystream; `off` is a multiple of 4 (RTP headers are). */
  #xorInner(off: number, len: number): void {
    if (len <= 0) return;
    const inner = this.#inner;
    const ks = this.#ks;
    const ks32 = this.#ks32;
    const ksOff = this.#ksOff;
    let i = 0;
    if (ks32.length > 0 && ((off | ksOff) & 3) === 0) {
      const w = this.#inner32;
      const n4 = len >> 2;
      const w0 = off >> 2;
      const k0 = ksOff >> 2;
      for (let j = 0; j < n4; j++) w[w0 + j] = (w[w0 + j] as number) ^ (ks32[k0 + j] as number);
      i = n4 << 2;
    }
    for (; i < len; i++) inner[off + i] = (inner[off + i] as number) ^ (ks[ksOff + i] as number);
  }

  /** HMAC-SHA1 of inner[SHA1_BLOCK, innerEnd) (ipad already in front) as five words in #digest. */
  #mac(innerEnd: number): Int32Array {
    const innerDigest = hash('sha1', this.#inner.subarray(0, innerEnd), 'buffer');
    // Outer hash = SHA-1(opad ‖ inner): one compression of (inner ‖ 0x80 ‖ 0… ‖ bit length 672)
    // from the precomputed opad state.
    const block = this.#block;
    for (let i = 0; i < 5; i++) block[i] = innerDigest.readInt32BE(4 * i);
    block[5] = 0x8000_0000 | 0;
    for (let i = 6; i < 15; i++) block[i] = 0;
    block[15] = (SHA1_BLOCK + 20) * 8;
    this.#compress(this.#outerState, this.#digest);
    return this.#digest;
  }

  #ensureInner(payloadBytes: number): void {
    if (SHA1_BLOCK + payloadBytes > this.#inner.length) this.#growInner(payloadBytes + 512);
  }

  #growInner(payloadBytes: number): void {
    const ab = new ArrayBuffer((SHA1_BLOCK + payloadBytes + 3) & ~3);
    const grown = Buffer.from(ab);
    if (this.#inner.length > 0) this.#inner.copy(grown, 0, 0, SHA1_BLOCK);
    this.#inner = grown;
    this.#inner32 = new Int32Array(ab);
  }

  /** SHA-1 compression (FIPS 180-4 §6.1.2) of #block from `state` into `out`. */
  #compress(state: Int32Array, out: Int32Array): void {
    const w = this.#w;
    const block = this.#block;
    for (let i = 0; i < 16; i++) w[i] = block[i] as number;
    for (let i = 16; i < 80; i++) {
      const x = (w[i - 3] as number) ^ (w[i - 8] as number) ^ (w[i - 14] as number) ^ (w[i - 16] as number);
      w[i] = (x << 1) | (x >>> 31);
    }
    let a = state[0] as number;
    let b = state[1] as number;
    let c = state[2] as number;
    let d = state[3] as number;
    let e = state[4] as number;
    for (let i = 0; i < 80; i++) {
      let f: number;
      let k: number;
      if (i < 20) {
        f = (b & c) | (~b & d);
        k = 0x5a827999;
      } else if (i < 40) {
        f = b ^ c ^ d;
        k = 0x6ed9eba1;
      } else if (i < 60) {
        f = (b & c) | (b & d) | (c & d);
        k = 0x8f1bbcdc | 0;
      } else {
        f = b ^ c ^ d;
        k = 0xca62c1d6 | 0;
      }
      const t = (((a << 5) | (a >>> 27)) + f + e + k + (w[i] as number)) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = t;
    }
    out[0] = ((state[0] as number) + a) | 0;
    out[1] = ((state[1] as number) + b) | 0;
    out[2] = ((state[2] as number) + c) | 0;
    out[3] = ((state[3] as number) + d) | 0;
    out[4] = ((state[4] as number) + e) | 0;
  }

  #refill(cache: KeystreamCache, prefetch: number, len: number, ssrc: number, index: number): void {
    const stride = Math.max(cache.stride, (len + 15) & ~15);
    const count = Math.max(1, prefetch);
    const blocksPer = stride >> 4;
    if (blocksPer > 0xffff) throw new RangeError('payload too long for AES-CM');
    const total = count * stride;
    if (total >> 2 > this.#counters32.length) this.#growCounters(total);
    for (let k = 0; k < count; k++) {
      const idx = index + k;
      this.#fillCounters(k * blocksPer, blocksPer, ssrc, Math.floor(idx / 0x1_0000), idx & 0xffff);
    }
    const ks = this.#ecb.update(this.#counters.subarray(0, total));
    cache.ks = ks;
    cache.ks32 = (ks.byteOffset & 3) === 0 ? new Int32Array(ks.buffer, ks.byteOffset, ks.length >> 2) : EMPTY32;
    cache.base = index;
    cache.count = count;
    cache.stride = stride;
  }

  /** Writes `blocks` counter blocks for (ssrc, index) starting at block `first` of #counters. */
  #fillCounters(first: number, blocks: number, ssrc: number, indexHigh: number, indexLow: number): void {
    const c = this.#counters32;
    const w0 = this.#salt0;
    const w1 = this.#salt1 ^ toNative(ssrc);
    const w2 = this.#salt2 ^ toNative(indexHigh);
    const w3 = this.#salt3 ^ toNative((indexLow & 0xffff) << 16);
    for (let b = 0, o = first << 2; b < blocks; b++, o += 4) {
      c[o] = w0;
      c[o + 1] = w1;
      c[o + 2] = w2;
      c[o + 3] = w3 | toNative(b);
    }
  }

  #growCounters(bytes: number): void {
    const ab = new ArrayBuffer((bytes + 15) & ~15);
    this.#counters = Buffer.from(ab);
    this.#counters32 = new Int32Array(ab);
  }
}
