/**
 * Per-packet primitives of the AEAD_AES_128_GCM / AEAD_AES_256_GCM SRTP profiles. One instance per
 * session key (SRTP or SRTCP of one direction).
 *
 * node:crypto has no way to re-key a GCM context with a new IV, so this creates one
 * Cipher/Decipher per packet: 3.5–4.4 µs per 1200-byte packet (bench/srtp; a KeyObject key instead
 * of a Buffer makes no difference). Unlike AES-CM (srtp-cm.ts, ~3 µs), the keystream can't be
 * precomputed with a long-lived ECB cipher because GHASH would then have to run in JS.
 * On a failed open, node's `final()` throws: it is caught here and turned into `false` (attack or
 * garbage only; never reaches the caller), and the caller's buffer is left untouched.
 *
 * References:
 * - RFC 7714 §8.1 (SRTP IV = (00 00 ‖ SSRC ‖ ROC ‖ SEQ) XOR salt; AAD = RTP header incl. CSRCs
 *   and extension; 16-byte tag after the ciphertext): https://www.rfc-editor.org/rfc/rfc7714#section-8.1
 * - RFC 7714 §9.1 (SRTCP IV = (00 00 ‖ SSRC ‖ 00 00 ‖ 0 ‖ index) XOR salt; AAD = first 8 octets ‖
 *   E‖index; the E‖index word follows the tag), §9.2 (E = 0: the whole packet is AAD):
 *   https://www.rfc-editor.org/rfc/rfc7714#section-9.1
 */
import { createCipheriv, createDecipheriv, type CipherGCMTypes } from 'node:crypto';

/** GCM authentication tag length used by the SRTP AEAD profiles. */
export const GCM_TAG_LENGTH = 16;

/** AES-GCM seal/open for one SRTP or SRTCP session key. */
export class AesGcmSrtp {
  readonly #algorithm: CipherGCMTypes;
  readonly #key: Buffer;
  readonly #salt: Buffer;
  readonly #iv = Buffer.alloc(12);
  readonly #aad = Buffer.alloc(12);

  /**
   * @param key session key (16 or 32 bytes)
   * @param salt session salt (12 bytes)
   */
  constructor(key: Buffer, salt: Buffer) {
    if (key.length !== 16 && key.length !== 32) throw new TypeError('AES-GCM key must be 16 or 32 bytes');
    if (salt.length !== 12) throw new TypeError('AES-GCM session salt must be 12 bytes');
    this.#algorithm = key.length === 32 ? 'aes-256-gcm' : 'aes-128-gcm';
    this.#key = Buffer.from(key);
    this.#salt = Buffer.from(salt);
  }

  /**
   * SRTP protect: `out` = header ‖ GCM(payload) ‖ tag for the RTP packet `src[0, len)` whose header
   * is `hdrLen` bytes. Returns len + 16. `out` may be `src`.
   */
  sealRtp(src: Buffer, hdrLen: number, len: number, out: Buffer, ssrc: number, roc: number, seq: number): number {
    this.#rtpIv(ssrc, roc, seq);
    const c = createCipheriv(this.#algorithm, this.#key, this.#iv, { authTagLength: GCM_TAG_LENGTH });
    c.setAAD(src.subarray(0, hdrLen));
    const ct = c.update(src.subarray(hdrLen, len));
    c.final();
    if (out !== src) src.copy(out, 0, 0, hdrLen);
    ct.copy(out, hdrLen);
    c.getAuthTag().copy(out, len);
    return len + GCM_TAG_LENGTH;
  }

  /**
   * SRTP unprotect in place of `buf[0, len)` (tag included). Returns false, leaving `buf`
   * untouched, when authentication fails.
   */
  openRtp(buf: Buffer, hdrLen: number, len: number, ssrc: number, roc: number, seq: number): boolean {
    const ctEnd = len - GCM_TAG_LENGTH;
    if (ctEnd < hdrLen) return false;
    this.#rtpIv(ssrc, roc, seq);
    return this.#open(buf, buf.subarray(0, hdrLen), hdrLen, ctEnd, ctEnd);
  }

  /**
   * SRTCP protect (E = 1): `out` = header(8) ‖ GCM(rest) ‖ tag ‖ E‖index. Returns len + 20.
   * `out` may be `src`.
   */
  sealRtcp(src: Buffer, len: number, out: Buffer, ssrc: number, index: number): number {
    this.#rtcpIv(ssrc, index);
    const word = (0x8000_0000 | index) >>> 0;
    const aad = this.#aad;
    src.copy(aad, 0, 0, 8);
    aad.writeUInt32BE(word, 8);
    const c = createCipheriv(this.#algorithm, this.#key, this.#iv, { authTagLength: GCM_TAG_LENGTH });
    c.setAAD(aad);
    const ct = c.update(src.subarray(8, len));
    c.final();
    if (out !== src) src.copy(out, 0, 0, 8);
    ct.copy(out, 8);
    c.getAuthTag().copy(out, len);
    out.writeUInt32BE(word, len + GCM_TAG_LENGTH);
    return len + GCM_TAG_LENGTH + 4;
  }

  /**
   * SRTCP unprotect in place of `buf[0, len)` (tag and E‖index included). Returns the plaintext
   * length (len − 20) or -1, leaving `buf` untouched, when authentication fails.
   */
  openRtcp(buf: Buffer, len: number, ssrc: number, index: number, encrypted: boolean): number {
    const tagOff = len - 4 - GCM_TAG_LENGTH;
    if (tagOff < 8) return -1;
    this.#rtcpIv(ssrc, index);
    if (encrypted) {
      const aad = this.#aad;
      buf.copy(aad, 0, 0, 8);
      buf.copy(aad, 8, len - 4, len);
      return this.#open(buf, aad, 8, tagOff, tagOff) ? tagOff : -1;
    }
    // §9.2: E = 0, the RTCP packet and E‖index are AAD, nothing is encrypted.
    const aad = Buffer.concat([buf.subarray(0, tagOff), buf.subarray(len - 4, len)]);
    return this.#open(buf, aad, tagOff, tagOff, tagOff) ? tagOff : -1;
  }

  /** Decrypts buf[ctOff, ctEnd) with the tag at tagOff and the current IV; writes back on success. */
  #open(buf: Buffer, aad: Buffer, ctOff: number, ctEnd: number, tagOff: number): boolean {
    const d = createDecipheriv(this.#algorithm, this.#key, this.#iv, { authTagLength: GCM_TAG_LENGTH });
    d.setAAD(aad);
    d.setAuthTag(buf.subarray(tagOff, tagOff + GCM_TAG_LENGTH));
    const pt = ctEnd > ctOff ? d.update(buf.subarray(ctOff, ctEnd)) : EMPTY;
    try {
      d.final();
    } catch {
      return false;
    }
    pt.copy(buf, ctOff);
    return true;
  }

  #rtpIv(ssrc: number, roc: number, seq: number): void {
    const iv = this.#iv;
    const salt = this.#salt;
    iv[0] = salt[0] as number;
    iv[1] = salt[1] as number;
    iv.writeUInt32BE((salt.readUInt32BE(2) ^ ssrc) >>> 0, 2);
    iv.writeUInt32BE((salt.readUInt32BE(6) ^ roc) >>> 0, 6);
    iv.writeUInt16BE(salt.readUInt16BE(10) ^ (seq & 0xffff), 10);
  }

  #rtcpIv(ssrc: number, index: number): void {
    const iv = this.#iv;
    const salt = this.#salt;
    iv[0] = salt[0] as number;
    iv[1] = salt[1] as number;
    iv.writeUInt32BE((salt.readUInt32BE(2) ^ ssrc) >>> 0, 2);
    iv[6] = salt[6] as number;
    iv[7] = salt[7] as number;
    iv.writeUInt32BE((salt.readUInt32BE(8) ^ (index & 0x7fff_ffff)) >>> 0, 8);
  }
}

const EMPTY = Buffer.alloc(0);
