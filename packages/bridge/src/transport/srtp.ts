/**
 * SRTP and SRTCP (protect/unprotect) for the bridge's media path.
 *
 * One {@link SrtpSession} per direction per DTLS association: the session built from the remote
 * keys unprotects what the endpoint sends, the one built from the local keys protects what the
 * bridge sends it (see {@link splitSrtpKeyingMaterial}). Within a session, per-SSRC state (ROC,
 * highest sequence number, replay window, SRTCP index) is created on the first packet that
 * authenticates (so garbage can't create state) and lives in Maps keyed by SSRC.
 *
 * Hot path: every method here runs once per packet, synchronously, writes in place or into a
 * caller-provided buffer, and never throws: failures come back as a negative
 * {@link SrtpDropReason} for the caller to count. Cipher state lives per session key (one ECB
 * cipher, precomputed HMAC pads) and per SSRC (ROC, replay window, keystream cache); what each
 * profile costs per packet, and why, is in srtp-cm.ts and srtp-gcm.ts (≈ 3 µs per 1200-byte
 * packet for AES_CM_128_HMAC_SHA1_80, ≈ 3.5–4.4 µs for AEAD_AES_128_GCM). node:crypto calls still
 * return fresh output Buffers (there is no "update into" API) and take subarray views for byte
 * ranges: those, plus one keystream Buffer per 8 packets, are the only per-packet allocations.
 *
 * References:
 * - RFC 3711 (SRTP): §3.1 packet format, §3.3 SRTP processing (§3.3.1 index/ROC, §3.3.2 replay),
 *   §3.4 SRTCP (E flag + 31-bit index, 80-bit tag), §4.1.1 AES-CM, §4.2 HMAC-SHA1, §4.3 key
 *   derivation: https://www.rfc-editor.org/rfc/rfc3711
 * - RFC 5764 §4.1.2 (profile ids and parameters: SRTP_AES128_CM_HMAC_SHA1_80 = 0x0001 with an
 *   80-bit tag for both, _32 = 0x0002 with a 32-bit SRTP tag and 80-bit SRTCP tag), §4.2 (keying
 *   material = client key ‖ server key ‖ client salt ‖ server salt):
 *   https://www.rfc-editor.org/rfc/rfc5764#section-4.1.2
 * - RFC 7714 (AES-GCM for SRTP; profiles 0x0007 / 0x0008, 96-bit salt, 128-bit tag):
 *   https://www.rfc-editor.org/rfc/rfc7714
 * - PROTOCOL.md §7.8: Chrome offers AEAD_AES_128_GCM, AEAD_AES_256_GCM and AES128_CM_HMAC_SHA1_80.
 */
import { rtpHeaderLength } from '../rtp/rtp-packet.js';
import { AesCmHmac, KeystreamCache } from './srtp-cm.js';
import { AesGcmSrtp, GCM_TAG_LENGTH } from './srtp-gcm.js';
import { deriveSrtpKey, SrtpKdfLabel } from './srtp-kdf.js';
import { DEFAULT_REPLAY_WINDOW_SIZE, ReplayCheck, ReplayWindow, estimateRoc } from './srtp-replay.js';

/** DTLS-SRTP protection profile ids (RFC 5764 §4.1.2, RFC 7714 §14.2). */
export const SrtpProfile = {
  AES128_CM_HMAC_SHA1_80: 0x0001,
  AES128_CM_HMAC_SHA1_32: 0x0002,
  AEAD_AES_128_GCM: 0x0007,
  AEAD_AES_256_GCM: 0x0008,
} as const;
/** One of the {@link SrtpProfile} ids. */
export type SrtpProfile = (typeof SrtpProfile)[keyof typeof SrtpProfile];

/** Parameters of a protection profile. */
export interface SrtpProfileParams {
  /** IANA name (as in the DTLS use_srtp registry). */
  readonly name: string;
  /** AEAD (GCM) rather than AES-CM + HMAC-SHA1. */
  readonly aead: boolean;
  /** Master and session key length in bytes. */
  readonly keyLength: number;
  /** Master and session salt length in bytes. */
  readonly saltLength: number;
  /** SRTP authentication tag length in bytes. */
  readonly rtpTagLength: number;
  /** SRTCP authentication tag length in bytes. */
  readonly rtcpTagLength: number;
}

const PROFILES: ReadonlyMap<number, SrtpProfileParams> = new Map([
  [SrtpProfile.AES128_CM_HMAC_SHA1_80, { name: 'SRTP_AES128_CM_HMAC_SHA1_80', aead: false, keyLength: 16, saltLength: 14, rtpTagLength: 10, rtcpTagLength: 10 }],
  [SrtpProfile.AES128_CM_HMAC_SHA1_32, { name: 'SRTP_AES128_CM_HMAC_SHA1_32', aead: false, keyLength: 16, saltLength: 14, rtpTagLength: 4, rtcpTagLength: 10 }],
  [SrtpProfile.AEAD_AES_128_GCM, { name: 'SRTP_AEAD_AES_128_GCM', aead: true, keyLength: 16, saltLength: 12, rtpTagLength: GCM_TAG_LENGTH, rtcpTagLength: GCM_TAG_LENGTH }],
  [SrtpProfile.AEAD_AES_256_GCM, { name: 'SRTP_AEAD_AES_256_GCM', aead: true, keyLength: 32, saltLength: 12, rtpTagLength: GCM_TAG_LENGTH, rtcpTagLength: GCM_TAG_LENGTH }],
]);

/** Parameters of `profile`; throws TypeError for an unsupported id. */
export function srtpProfileParams(profile: number): SrtpProfileParams {
  const p = PROFILES.get(profile);
  if (p === undefined) throw new TypeError(`unsupported SRTP profile 0x${profile.toString(16).padStart(4, '0')}`);
  return p;
}

/**
 * The profile ids this implementation supports, in our order of preference (for use_srtp).
 * AES128_CM_HMAC_SHA1_80 comes first because it is the cheaper one here (≈ 3.0 µs vs ≈ 3.7–4.7 µs
 * per 1200-byte packet for AEAD_AES_128_GCM, bench/srtp: node:crypto forces a GCM cipher object
 * per packet, while AES-CM runs on a long-lived ECB cipher with keystream prefetch) and its tag is
 * 10 bytes instead of 16. The 32-bit-tag variant is last: weaker authentication.
 */
export const SUPPORTED_SRTP_PROFILES: readonly SrtpProfile[] = [
  SrtpProfile.AES128_CM_HMAC_SHA1_80,
  SrtpProfile.AEAD_AES_128_GCM,
  SrtpProfile.AEAD_AES_256_GCM,
  SrtpProfile.AES128_CM_HMAC_SHA1_32,
];

/**
 * Why a packet was dropped. Negative so that `result < 0` separates drops from lengths without
 * allocation; use {@link srtpDropReasonName} for counters' labels.
 */
export const SrtpDropReason = {
  /** Shorter than header + trailer. */
  TooShort: -1,
  /** Not version 2, or CSRC/extension lengths run past the payload. */
  BadHeader: -2,
  /** Authentication tag mismatch (wrong key, tampering, or a guessed ROC that was wrong). */
  AuthFailed: -3,
  /** Index already received (RFC 3711 §3.3.2). */
  Replayed: -4,
  /** Index older than the replay window. */
  TooOld: -5,
  /** Output buffer smaller than the protected packet. */
  BufferTooSmall: -6,
} as const;
/** One of the {@link SrtpDropReason} values. */
export type SrtpDropReason = (typeof SrtpDropReason)[keyof typeof SrtpDropReason];

const DROP_NAMES: Record<number, string> = {
  [SrtpDropReason.TooShort]: 'too-short',
  [SrtpDropReason.BadHeader]: 'bad-header',
  [SrtpDropReason.AuthFailed]: 'auth-failed',
  [SrtpDropReason.Replayed]: 'replayed',
  [SrtpDropReason.TooOld]: 'too-old',
  [SrtpDropReason.BufferTooSmall]: 'buffer-too-small',
};

/** True when a protect/unprotect result is a drop reason rather than a length. */
export function isSrtpDrop(result: number): result is SrtpDropReason {
  return result < 0;
}

/** Stable label for a drop reason (for stats keys and logs). */
export function srtpDropReasonName(reason: number): string {
  return DROP_NAMES[reason] ?? 'unknown';
}

/** Master key material of one direction. */
export interface SrtpMasterKeys {
  /** Master key (16 bytes; 32 for AEAD_AES_256_GCM). */
  masterKey: Buffer;
  /** Master salt (14 bytes for AES-CM, 12 for AEAD). */
  masterSalt: Buffer;
}

/** Options of {@link SrtpSession}. */
export interface SrtpSessionOptions extends SrtpMasterKeys {
  /**
   * Replay window in packets, a power of two in [64, 32768] (default 1024, as libwebrtc). Larger
   * tolerates more reordering, at 1 bit per packet per SSRC.
   */
  replayWindowSize?: number;
  /**
   * AES-CM profiles: packets of keystream computed ahead per SSRC in one cipher call (default 8;
   * ≤ 1 disables). Costs `n` × the largest payload seen, per SSRC and direction (~10 kB for video
   * at 8), and saves ~0.5 µs per packet (see srtp-cm.ts). Ignored for AEAD profiles.
   */
  keystreamPrefetch?: number;
}

/**
 * Options of {@link SrtpSession} with already derived session keys (test vectors such as
 * RFC 7714 §16 give session keys; DTLS-SRTP always gives master keys).
 */
export interface SrtpSessionKeyOptions {
  /** The six session keys. */
  sessionKeys: SrtpSessionKeys;
  /** As {@link SrtpSessionOptions.replayWindowSize}. */
  replayWindowSize?: number;
  /** As {@link SrtpSessionOptions.keystreamPrefetch}. */
  keystreamPrefetch?: number;
}

/** Session keys of one direction, as derived by {@link deriveSrtpSessionKeys}. */
export interface SrtpSessionKeys {
  /** SRTP encryption key. */
  rtpKey: Buffer;
  /** SRTP session salt. */
  rtpSalt: Buffer;
  /** SRTP authentication key (empty for AEAD). */
  rtpAuthKey: Buffer;
  /** SRTCP encryption key. */
  rtcpKey: Buffer;
  /** SRTCP session salt. */
  rtcpSalt: Buffer;
  /** SRTCP authentication key (empty for AEAD). */
  rtcpAuthKey: Buffer;
}

/** HMAC-SHA1 session authentication key length (RFC 3711 §4.2: n_a = 160 bits). */
const AUTH_KEY_LENGTH = 20;

/** Derives the six session keys (RFC 3711 §4.3, kdr 0) for `profile`. */
export function deriveSrtpSessionKeys(profile: number, master: SrtpMasterKeys): SrtpSessionKeys {
  const p = srtpProfileParams(profile);
  if (master.masterKey.length !== p.keyLength) throw new TypeError(`${p.name} needs a ${p.keyLength}-byte master key`);
  if (master.masterSalt.length !== p.saltLength) throw new TypeError(`${p.name} needs a ${p.saltLength}-byte master salt`);
  const k = master.masterKey;
  const s = master.masterSalt;
  const none = Buffer.alloc(0);
  return {
    rtpKey: deriveSrtpKey(k, s, SrtpKdfLabel.RtpEncryption, p.keyLength),
    rtpSalt: deriveSrtpKey(k, s, SrtpKdfLabel.RtpSalt, p.saltLength),
    rtpAuthKey: p.aead ? none : deriveSrtpKey(k, s, SrtpKdfLabel.RtpAuthentication, AUTH_KEY_LENGTH),
    rtcpKey: deriveSrtpKey(k, s, SrtpKdfLabel.RtcpEncryption, p.keyLength),
    rtcpSalt: deriveSrtpKey(k, s, SrtpKdfLabel.RtcpSalt, p.saltLength),
    rtcpAuthKey: p.aead ? none : deriveSrtpKey(k, s, SrtpKdfLabel.RtcpAuthentication, AUTH_KEY_LENGTH),
  };
}

/** Length of the DTLS-SRTP exporter output for `profile`: 2 · (key + salt) (RFC 5764 §4.2). */
export function srtpKeyingMaterialLength(profile: number): number {
  const p = srtpProfileParams(profile);
  return 2 * (p.keyLength + p.saltLength);
}

/** Label to pass to the TLS exporter for DTLS-SRTP (RFC 5764 §4.2). */
export const DTLS_SRTP_EXPORTER_LABEL = 'EXTRACTOR-dtls_srtp';

/**
 * Splits the "EXTRACTOR-dtls_srtp" exporter output (RFC 5764 §4.2: client_write_key ‖
 * server_write_key ‖ client_write_salt ‖ server_write_salt) into the keys this side protects with
 * (`local`) and unprotects with (`remote`). The bridge is normally the DTLS server (PROTOCOL.md §7.8).
 */
export function splitSrtpKeyingMaterial(
  profile: number,
  material: Uint8Array,
  role: 'client' | 'server',
): { local: SrtpMasterKeys; remote: SrtpMasterKeys } {
  const p = srtpProfileParams(profile);
  if (material.length !== 2 * (p.keyLength + p.saltLength)) {
    throw new TypeError(`${p.name} keying material must be ${2 * (p.keyLength + p.saltLength)} bytes`);
  }
  const m = Buffer.from(material.buffer, material.byteOffset, material.length);
  const k = p.keyLength;
  const s = p.saltLength;
  const client: SrtpMasterKeys = { masterKey: Buffer.from(m.subarray(0, k)), masterSalt: Buffer.from(m.subarray(2 * k, 2 * k + s)) };
  const server: SrtpMasterKeys = { masterKey: Buffer.from(m.subarray(k, 2 * k)), masterSalt: Buffer.from(m.subarray(2 * k + s, 2 * k + 2 * s)) };
  return role === 'client' ? { local: client, remote: server } : { local: server, remote: client };
}

/** Per-SSRC SRTP state (RFC 3711 §3.2.1 crypto context, the part that varies per SSRC). */
class RtpStream {
  /** Rollover counter. */
  roc = 0;
  /** Highest sequence number seen (s_l). */
  sl = 0;
  /** Received-index window (unprotect side only). */
  readonly replay: ReplayWindow | undefined;
  /** Precomputed AES-CM keystream (AES-CM profiles with prefetch only). */
  readonly keystream: KeystreamCache | undefined;
  constructor(replay: ReplayWindow | undefined, seq: number, keystream: KeystreamCache | undefined) {
    this.replay = replay;
    this.sl = seq;
    this.keystream = keystream;
  }
}

/** Per-SSRC SRTCP state. */
class RtcpStream {
  /** Next SRTCP index to send (protect side). */
  next = 0;
  /** Received-index window (unprotect side only). */
  readonly replay: ReplayWindow | undefined;
  constructor(replay: ReplayWindow | undefined) {
    this.replay = replay;
  }
}

const MIN_RTP = 12;
const DEFAULT_KEYSTREAM_PREFETCH = 8;
const MIN_RTCP = 8;
const SRTCP_INDEX_SIZE = 4;

/**
 * SRTP/SRTCP crypto contexts for one direction of one DTLS association.
 *
 * ```ts
 * const { local, remote } = splitSrtpKeyingMaterial(profile, exported, 'server');
 * const rx = new SrtpSession(profile, remote); // unprotect*(): endpoint → bridge
 * const tx = new SrtpSession(profile, local);  // protect*():   bridge → endpoint
 * const n = rx.unprotectRtp(buf, len); if (n < 0) drops[srtpDropReasonName(n)]++;
 * ```
 */
export class SrtpSession {
  /** Protection profile id. */
  readonly profile: SrtpProfile;
  /** SRTP tag length in bytes (protect adds it, unprotect removes it). */
  readonly rtpTagLength: number;
  /** SRTCP trailer length in bytes (E‖index + tag). */
  readonly rtcpTrailerLength: number;
  readonly #aead: boolean;
  readonly #rtcpTagLength: number;
  readonly #replayWindowSize: number;
  readonly #prefetch: number;
  readonly #rtpCm: AesCmHmac | undefined;
  readonly #rtcpCm: AesCmHmac | undefined;
  readonly #rtpGcm: AesGcmSrtp | undefined;
  readonly #rtcpGcm: AesGcmSrtp | undefined;
  readonly #rtpIn = new Map<number, RtpStream>();
  readonly #rtpOut = new Map<number, RtpStream>();
  readonly #rtcpIn = new Map<number, RtcpStream>();
  readonly #rtcpOut = new Map<number, RtcpStream>();

  /**
   * Derives the session keys from the master key/salt (RFC 3711 §4.3, kdr 0). Throws TypeError for
   * an unsupported profile, wrong key/salt lengths or a bad replay window size.
   */
  constructor(profile: number, options: SrtpSessionOptions | SrtpSessionKeyOptions) {
    this.profile = profile as SrtpProfile;
    const keys = 'sessionKeys' in options ? options.sessionKeys : deriveSrtpSessionKeys(profile, options);
    const p = srtpProfileParams(profile);
    this.#aead = p.aead;
    this.rtpTagLength = p.rtpTagLength;
    this.#rtcpTagLength = p.rtcpTagLength;
    this.rtcpTrailerLength = SRTCP_INDEX_SIZE + p.rtcpTagLength;
    this.#replayWindowSize = options.replayWindowSize ?? DEFAULT_REPLAY_WINDOW_SIZE;
    this.#prefetch = p.aead ? 0 : Math.max(0, Math.floor(options.keystreamPrefetch ?? DEFAULT_KEYSTREAM_PREFETCH));
    new ReplayWindow(this.#replayWindowSize); // validates the size once, up front
    if (p.aead) {
      this.#rtpGcm = new AesGcmSrtp(keys.rtpKey, keys.rtpSalt);
      this.#rtcpGcm = new AesGcmSrtp(keys.rtcpKey, keys.rtcpSalt);
    } else {
      this.#rtpCm = new AesCmHmac(keys.rtpKey, keys.rtpSalt, keys.rtpAuthKey);
      this.#rtcpCm = new AesCmHmac(keys.rtcpKey, keys.rtcpSalt, keys.rtcpAuthKey);
    }
  }

  /**
   * Decrypts and authenticates the SRTP packet `buf[0, len)` in place. Returns the RTP packet's
   * length (len − tag) or a negative {@link SrtpDropReason}; on a drop `buf` is unchanged.
   * Once per received RTP packet.
   */
  unprotectRtp(buf: Buffer, len: number): number | SrtpDropReason {
    const tagLen = this.rtpTagLength;
    if (len < MIN_RTP + tagLen || len > buf.length) return SrtpDropReason.TooShort;
    const end = len - tagLen;
    const hdrLen = rtpHeaderLength(buf, end);
    if (hdrLen < 0) return SrtpDropReason.BadHeader;
    const ssrc = buf.readUInt32BE(8);
    const seq = buf.readUInt16BE(2);
    let st = this.#rtpIn.get(ssrc);
    let v = 0;
    let index = seq;
    if (st !== undefined) {
      // §3.3.1: guess the ROC, then §3.3.2: reject replays before spending crypto on them.
      v = estimateRoc(st.roc, st.sl, seq);
      index = v * 0x1_0000 + seq;
      const check = (st.replay as ReplayWindow).check(index);
      if (check !== ReplayCheck.Ok) return check === ReplayCheck.Replayed ? SrtpDropReason.Replayed : SrtpDropReason.TooOld;
    }
    const roc = v >>> 0;
    if (this.#aead) {
      if (!(this.#rtpGcm as AesGcmSrtp).openRtp(buf, hdrLen, len, ssrc, roc, seq)) return SrtpDropReason.AuthFailed;
    } else {
      // The first packet of an SSRC has no stream (nor cache) yet: it computes its own keystream.
      const cm = this.#rtpCm as AesCmHmac;
      if (!cm.unprotectRtp(buf, hdrLen, end, ssrc, roc, seq, index, st?.keystream, this.#prefetch, tagLen)) return SrtpDropReason.AuthFailed;
    }
    // Authenticated: now (and only now) update the stream state (§3.3.1 last paragraph).
    if (st === undefined) {
      st = new RtpStream(new ReplayWindow(this.#replayWindowSize), seq, this.#prefetch > 1 ? new KeystreamCache() : undefined);
      this.#rtpIn.set(ssrc, st);
    } else if (index > st.roc * 0x1_0000 + st.sl) {
      st.roc = v;
      st.sl = seq;
    }
    (st.replay as ReplayWindow).accept(index);
    return end;
  }

  /**
   * Encrypts and authenticates the RTP packet `buf[0, len)` into `out` (which may be `buf` when it
   * has `rtpTagLength` bytes of room after the packet). Returns the SRTP length or a negative
   * {@link SrtpDropReason}. Once per sent RTP packet.
   *
   * The ROC follows the sequence numbers as given (RFC 3711 §3.3.1 estimation, so out-of-order
   * sends across a wrap use the ROC the receiver will guess); there is no replay check on this
   * side, so a retransmission with the same sequence number and payload is allowed.
   */
  protectRtp(buf: Buffer, len: number, out: Buffer): number | SrtpDropReason {
    const tagLen = this.rtpTagLength;
    if (len < MIN_RTP || len > buf.length) return SrtpDropReason.TooShort;
    const hdrLen = rtpHeaderLength(buf, len);
    if (hdrLen < 0) return SrtpDropReason.BadHeader;
    if (out.length < len + tagLen) return SrtpDropReason.BufferTooSmall;
    const ssrc = buf.readUInt32BE(8);
    const seq = buf.readUInt16BE(2);
    let st = this.#rtpOut.get(ssrc);
    let v = 0;
    if (st === undefined) {
      st = new RtpStream(undefined, seq, this.#prefetch > 1 ? new KeystreamCache() : undefined);
      this.#rtpOut.set(ssrc, st);
    } else {
      v = estimateRoc(st.roc, st.sl, seq);
      if (v * 0x1_0000 + seq > st.roc * 0x1_0000 + st.sl) {
        st.roc = v;
        st.sl = seq;
      }
    }
    const roc = v >>> 0;
    if (this.#aead) return (this.#rtpGcm as AesGcmSrtp).sealRtp(buf, hdrLen, len, out, ssrc, roc, seq);
    (this.#rtpCm as AesCmHmac).protectRtp(buf, hdrLen, len, out, ssrc, roc, seq, v * 0x1_0000 + seq, st.keystream, this.#prefetch, tagLen);
    return len + tagLen;
  }

  /**
   * Authenticates and (when E is set) decrypts the SRTCP packet `buf[0, len)` in place. Returns the
   * compound RTCP length or a negative {@link SrtpDropReason}; on a drop `buf` is unchanged.
   * Once per received RTCP packet.
   */
  unprotectRtcp(buf: Buffer, len: number): number | SrtpDropReason {
    const tagLen = this.#rtcpTagLength;
    if (len < MIN_RTCP + SRTCP_INDEX_SIZE + tagLen || len > buf.length) return SrtpDropReason.TooShort;
    if ((buf[0] as number) >> 6 !== 2) return SrtpDropReason.BadHeader;
    // AES-CM: … ‖ E‖index ‖ tag (RFC 3711 §3.4); GCM: … ‖ tag ‖ E‖index (RFC 7714 §9.1).
    const indexOff = this.#aead ? len - SRTCP_INDEX_SIZE : len - tagLen - SRTCP_INDEX_SIZE;
    const word = buf.readUInt32BE(indexOff);
    const encrypted = word >= 0x8000_0000;
    const index = word & 0x7fff_ffff;
    const ssrc = buf.readUInt32BE(4);
    const st = this.#rtcpIn.get(ssrc);
    if (st !== undefined) {
      const check = (st.replay as ReplayWindow).check(index);
      if (check !== ReplayCheck.Ok) return check === ReplayCheck.Replayed ? SrtpDropReason.Replayed : SrtpDropReason.TooOld;
    }
    let plainLen: number;
    if (this.#aead) {
      plainLen = (this.#rtcpGcm as AesGcmSrtp).openRtcp(buf, len, ssrc, index, encrypted);
      if (plainLen < 0) return SrtpDropReason.AuthFailed;
    } else {
      if (!(this.#rtcpCm as AesCmHmac).unprotectRtcp(buf, indexOff, ssrc, index, encrypted, tagLen)) return SrtpDropReason.AuthFailed;
      plainLen = indexOff;
    }
    if (st === undefined) {
      const created = new RtcpStream(new ReplayWindow(this.#replayWindowSize));
      (created.replay as ReplayWindow).accept(index);
      this.#rtcpIn.set(ssrc, created);
    } else {
      (st.replay as ReplayWindow).accept(index);
    }
    return plainLen;
  }

  /**
   * Encrypts (E = 1) and authenticates the compound RTCP packet `buf[0, len)` into `out` (which
   * may be `buf` with `rtcpTrailerLength` bytes of room). The SRTCP index is per sender SSRC
   * (bytes 4–7), starting at 0 (RFC 3711 §3.4). Returns the SRTCP length or a negative
   * {@link SrtpDropReason}.
   */
  protectRtcp(buf: Buffer, len: number, out: Buffer): number | SrtpDropReason {
    if (len < MIN_RTCP || len > buf.length) return SrtpDropReason.TooShort;
    if ((buf[0] as number) >> 6 !== 2) return SrtpDropReason.BadHeader;
    if (out.length < len + this.rtcpTrailerLength) return SrtpDropReason.BufferTooSmall;
    const ssrc = buf.readUInt32BE(4);
    let st = this.#rtcpOut.get(ssrc);
    if (st === undefined) {
      st = new RtcpStream(undefined);
      this.#rtcpOut.set(ssrc, st);
    }
    const index = st.next;
    st.next = (index + 1) & 0x7fff_ffff;
    if (this.#aead) return (this.#rtcpGcm as AesGcmSrtp).sealRtcp(buf, len, out, ssrc, index);
    (this.#rtcpCm as AesCmHmac).protectRtcp(buf, len, out, ssrc, index, this.#rtcpTagLength);
    return len + this.rtcpTrailerLength;
  }

  /**
   * Sets the next SRTCP index sent for `ssrc` (protect side). For tests against fixed vectors and
   * for continuing a stream's index after a re-key; normal senders never call it.
   */
  setNextRtcpIndex(ssrc: number, index: number): void {
    let st = this.#rtcpOut.get(ssrc >>> 0);
    if (st === undefined) {
      st = new RtcpStream(undefined);
      this.#rtcpOut.set(ssrc >>> 0, st);
    }
    st.next = index & 0x7fff_ffff;
  }

  /**
   * Seeds the protect-side ROC and highest sequence number of `ssrc` (e.g. a stream whose sender
   * already wrapped, or RFC vectors with a non-zero ROC). Normal senders never call it.
   */
  setRtpSendState(ssrc: number, roc: number, seq: number): void {
    const st = new RtpStream(undefined, seq & 0xffff, this.#prefetch > 1 ? new KeystreamCache() : undefined);
    st.roc = roc >>> 0;
    this.#rtpOut.set(ssrc >>> 0, st);
  }

  /** Forgets all state of `ssrc` (both kinds, both sides), e.g. when a source is removed. */
  deleteSsrc(ssrc: number): void {
    this.#rtpIn.delete(ssrc);
    this.#rtpOut.delete(ssrc);
    this.#rtcpIn.delete(ssrc);
    this.#rtcpOut.delete(ssrc);
  }

  /** Number of SSRCs with state, per kind and side (for stats). */
  stats(): { rtpIn: number; rtpOut: number; rtcpIn: number; rtcpOut: number } {
    return { rtpIn: this.#rtpIn.size, rtpOut: this.#rtpOut.size, rtcpIn: this.#rtcpIn.size, rtcpOut: this.#rtcpOut.size };
  }
}
