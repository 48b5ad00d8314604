/**
 * Corpora of VALID packets for the fuzzers, built with the bridge's own builders (writeRtpHeader, the RTCP writers,
 * TransportCcFeedback, StunMessageBuilder, SrtpSession.protect*) plus hand-assembled RFC 8285 extension blocks,
 * VP8 payload descriptors and DTLS records. Mutators (mutators.ts) then break them in targeted ways.
 *
 * Everything is deterministic for a given {@link Prng}.
 */
import { ONE_BYTE_EXTENSION_PROFILE, TWO_BYTE_EXTENSION_PROFILE } from '../../src/rtp/header-ext.js';
import {
  RtcpPacketType,
  TransportCcFeedback,
  byeSize,
  createReportBlock,
  createSenderInfo,
  firSize,
  nackEntriesFor,
  nackSize,
  rembSize,
  receiverReportSize,
  sdesCnameSize,
  senderReportSize,
  writeBye,
  writeFir,
  writeNack,
  writePli,
  writeReceiverReport,
  writeRemb,
  writeSdesCname,
  writeSenderReport,
  type RtcpReportBlock,
} from '../../src/rtp/rtcp.js';
import { RTP_HEADER_SIZE, writeRtpHeader } from '../../src/rtp/rtp-packet.js';
import { StunAttr, StunMessageBuilder, StunType } from '../../src/transport/stun.js';
import type { Prng } from './prng.js';

/** Extension ids the corpus uses (and the invariants read back). One-byte ids must be 1–14. */
export const EXT_IDS = {
  audioLevel: 1,
  absSendTime: 3,
  mid: 4,
  transportCc: 5,
  videoOrientation: 13,
  /** Only in the two-byte form (> 14). */
  twoByteOnly: 200,
} as const;

/** Ids {@link stripHeaderExtensions} keeps in the fuzzers (as the forwarding path: audio level + orientation). */
export const KEPT_EXT_IDS: readonly number[] = [EXT_IDS.audioLevel, EXT_IDS.videoOrientation];

/** Payload types used by the corpus. */
export const PT = { opus: 111, vp8: 96, rtx: 97 } as const;

interface ExtElement {
  id: number;
  data: Buffer;
}

function extensionElements(rng: Prng, twoByte: boolean): ExtElement[] {
  const out: ExtElement[] = [];
  const maxId = twoByte ? 255 : 14;
  if (rng.chance(0.6)) out.push({ id: EXT_IDS.audioLevel, data: Buffer.from([rng.byte()]) });
  if (rng.chance(0.5)) out.push({ id: EXT_IDS.absSendTime, data: rng.bytes(3) });
  if (rng.chance(0.6)) out.push({ id: EXT_IDS.transportCc, data: rng.bytes(2) });
  if (rng.chance(0.3)) out.push({ id: EXT_IDS.mid, data: Buffer.from(String(rng.int(100)), 'ascii') });
  if (rng.chance(0.3)) out.push({ id: EXT_IDS.videoOrientation, data: Buffer.from([rng.int(16)]) });
  if (twoByte && rng.chance(0.4)) out.push({ id: EXT_IDS.twoByteOnly, data: rng.bytes(rng.int(40)) });
  if (twoByte && rng.chance(0.2)) out.push({ id: rng.range(1, maxId), data: Buffer.alloc(0) }); // L = 0 allowed
  const extra = rng.int(3);
  for (let i = 0; i < extra; i++) out.push({ id: rng.range(1, maxId), data: rng.bytes(rng.range(1, twoByte ? 30 : 16)) });
  // Shuffle (Fisher–Yates) so elements come in any order.
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = out[i] as ExtElement;
    out[i] = out[j] as ExtElement;
    out[j] = t;
  }
  return out;
}

/** An RFC 8285 extension block body (without its 4-byte header), padded to 32 bits; `null` when it can't hold them. */
function extensionBlock(rng: Prng, twoByte: boolean, elements: readonly ExtElement[]): Buffer {
  const bytes: number[] = [];
  for (const e of elements) {
    if (twoByte) bytes.push(e.id, e.data.length, ...e.data);
    else bytes.push((e.id << 4) | (e.data.length - 1), ...e.data);
    // Padding bytes (value 0) may appear between elements (RFC 8285 §4.1).
    if (rng.chance(0.15)) for (let g = rng.range(1, 3); g > 0; g--) bytes.push(0);
  }
  while (bytes.length % 4 !== 0) bytes.push(0);
  return Buffer.from(bytes);
}

/** A VP8 payload: RFC 7741 descriptor (random optional fields) + payload header (+ key frame header) + data. */
export function buildVp8Payload(rng: Prng, maxData = 1000): Buffer {
  const bytes: number[] = [];
  const x = rng.chance(0.8);
  const s = rng.chance(0.5);
  const pid = rng.chance(0.8) ? 0 : rng.int(8);
  bytes.push((x ? 0x80 : 0) | (rng.chance(0.2) ? 0x20 : 0) | (s ? 0x10 : 0) | pid);
  if (x) {
    const i = rng.chance(0.85);
    const l = rng.chance(0.6);
    const t = rng.chance(0.6) || l;
    const k = rng.chance(0.2);
    bytes.push((i ? 0x80 : 0) | (l ? 0x40 : 0) | (t ? 0x20 : 0) | (k ? 0x10 : 0));
    if (i) {
      if (rng.chance(0.8)) {
        const id = rng.int(0x8000);
        bytes.push(0x80 | (id >> 8), id & 0xff);
      } else bytes.push(rng.int(0x80));
    }
    if (l) bytes.push(rng.byte());
    if (t || k) bytes.push((rng.int(4) << 6) | (rng.chance(0.3) ? 0x20 : 0) | rng.int(32));
  }
  const key = s && pid === 0 && rng.chance(0.4);
  if (key) {
    // RFC 6386 §9.1: frame tag (P = 0 for a key frame), start code, 14-bit width/height little endian.
    const w = rng.range(16, 1920);
    const h = rng.range(16, 1080);
    bytes.push(0x10 | (rng.int(8) << 1), rng.byte(), rng.byte(), 0x9d, 0x01, 0x2a, w & 0xff, w >> 8, h & 0xff, h >> 8);
  } else {
    bytes.push(0x01 | (rng.byte() & 0xfe)); // P = 1: inter frame
  }
  const data = rng.bytes(rng.int(maxData));
  return Buffer.concat([Buffer.from(bytes), data]);
}

/** Options of {@link buildRtp}. */
export interface RtpBuildOptions {
  ssrc?: number;
  sequenceNumber?: number;
  payloadType?: number;
  /** Force a VP8 payload. */
  vp8?: boolean;
  /** Largest payload (default 1100). */
  maxPayload?: number;
  /** No padding (SRTP protect of padded packets is fine, but some families want plain payloads). */
  noPadding?: boolean;
}

/**
 * A valid RTP packet: optional CSRCs, optional one-byte or two-byte header extension with the ids of
 * {@link EXT_IDS} and random others (with padding bytes between elements), an Opus-like or VP8 payload, optional
 * RTP padding (including padding-only packets).
 */
export function buildRtp(rng: Prng, o: RtpBuildOptions = {}): Buffer {
  const vp8 = o.vp8 ?? rng.chance(0.5);
  const csrcs: number[] = [];
  if (rng.chance(0.15)) for (let n = rng.range(1, 15); n > 0; n--) csrcs.push(rng.u32());
  const form = rng.weighted([25, 50, 25]); // none, one-byte, two-byte
  let ext: Buffer | undefined;
  let profile = 0;
  if (form > 0) {
    const two = form === 2;
    let elements = extensionElements(rng, two);
    if (!two) elements = elements.filter((e) => e.id <= 14 && e.data.length >= 1 && e.data.length <= 16);
    ext = extensionBlock(rng, two, elements);
    profile = two ? TWO_BYTE_EXTENSION_PROFILE | (rng.chance(0.2) ? rng.int(16) : 0) : ONE_BYTE_EXTENSION_PROFILE;
  }
  const maxPayload = o.maxPayload ?? 1100;
  const paddingOnly = !vp8 && !o.noPadding && rng.chance(0.05);
  const payload = paddingOnly ? Buffer.alloc(0) : vp8 ? buildVp8Payload(rng, maxPayload) : rng.bytes(rng.int(maxPayload));
  const padding = o.noPadding ? 0 : paddingOnly ? rng.range(1, 255) : rng.chance(0.1) ? rng.range(1, 32) : 0;
  const headerLen = RTP_HEADER_SIZE + 4 * csrcs.length + (ext !== undefined ? 4 + ext.length : 0);
  const buf = Buffer.alloc(headerLen + payload.length + padding);
  writeRtpHeader(buf, {
    payloadType: o.payloadType ?? (vp8 ? PT.vp8 : PT.opus),
    sequenceNumber: o.sequenceNumber ?? rng.int(0x10000),
    timestamp: rng.u32(),
    ssrc: o.ssrc ?? rng.u32(),
    marker: rng.chance(0.2),
    csrcs,
  });
  let off = RTP_HEADER_SIZE + 4 * csrcs.length;
  if (ext !== undefined) {
    buf[0] = (buf[0] as number) | 0x10;
    buf.writeUInt16BE(profile, off);
    buf.writeUInt16BE(ext.length / 4, off + 2);
    ext.copy(buf, off + 4);
    off += 4 + ext.length;
  }
  payload.copy(buf, off);
  if (padding > 0) {
    buf[0] = (buf[0] as number) | 0x20;
    rng.fill(buf, buf.length - padding, buf.length - 1);
    buf[buf.length - 1] = padding;
  }
  return buf;
}

function reportBlocks(rng: Prng, n: number): RtcpReportBlock[] {
  const out: RtcpReportBlock[] = [];
  for (let i = 0; i < n; i++) {
    const rb = createReportBlock();
    rb.ssrc = rng.u32();
    rb.fractionLost = rng.byte();
    rb.cumulativeLost = rng.range(-0x800000, 0x7fffff);
    rb.extendedHighestSeq = rng.u32();
    rb.jitter = rng.u32();
    rb.lastSr = rng.u32();
    rb.delaySinceLastSr = rng.u32();
    out.push(rb);
  }
  return out;
}

/** One RTCP packet of a random kind, written by the package's builders (some hand-built: APP, XR, padded RR). */
export function buildRtcpPacket(rng: Prng, ssrc: number = rng.u32()): Buffer {
  const kind = rng.int(12);
  switch (kind) {
    case 0: {
      const blocks = reportBlocks(rng, rng.int(4));
      const info = createSenderInfo();
      info.ntpMsw = rng.u32();
      info.ntpLsw = rng.u32();
      info.rtpTimestamp = rng.u32();
      info.packetCount = rng.u32();
      info.octetCount = rng.u32();
      const b = Buffer.alloc(senderReportSize(blocks.length));
      writeSenderReport(b, 0, ssrc, info, blocks);
      return b;
    }
    case 1: {
      const blocks = reportBlocks(rng, rng.int(3));
      const b = Buffer.alloc(receiverReportSize(blocks.length));
      writeReceiverReport(b, 0, ssrc, blocks);
      return b;
    }
    case 2: {
      const cname = rng.bytes(rng.range(1, 40)).toString('base64').slice(0, rng.range(1, 40));
      const b = Buffer.alloc(sdesCnameSize(Buffer.byteLength(cname)));
      writeSdesCname(b, 0, ssrc, cname);
      return b;
    }
    case 3: {
      const ssrcs = [ssrc];
      for (let n = rng.int(3); n > 0; n--) ssrcs.push(rng.u32());
      const reason = rng.chance(0.5) ? 'bye '.repeat(rng.range(1, 10)) : undefined;
      const b = Buffer.alloc(byeSize(ssrcs.length, reason === undefined ? 0 : Buffer.byteLength(reason)));
      writeBye(b, 0, ssrcs, reason);
      return b;
    }
    case 4: {
      const seqs: number[] = [];
      let s = rng.int(0x10000);
      for (let n = rng.range(1, 40); n > 0; n--) {
        seqs.push(s & 0xffff);
        s += rng.chance(0.7) ? 1 : rng.range(2, 40);
      }
      const b = Buffer.alloc(nackSize(nackEntriesFor(seqs)));
      writeNack(b, 0, ssrc, rng.u32(), seqs);
      return b;
    }
    case 5: {
      const b = Buffer.alloc(12);
      writePli(b, 0, ssrc, rng.u32());
      return b;
    }
    case 6: {
      const b = Buffer.alloc(firSize(1));
      writeFir(b, 0, ssrc, rng.u32(), rng.byte());
      return b;
    }
    case 7: {
      const ssrcs: number[] = [];
      for (let n = rng.range(1, 4); n > 0; n--) ssrcs.push(rng.u32());
      const b = Buffer.alloc(rembSize(ssrcs.length));
      writeRemb(b, 0, ssrc, rng.chance(0.1) ? rng.u32() * 1000 : rng.int(20_000_000), ssrcs);
      return b;
    }
    case 8:
    case 9: {
      // transport-cc feedback: runs, 1-bit and 2-bit vectors, small/large/negative deltas, losses.
      const fb = new TransportCcFeedback();
      const ref = rng.int(0x1000000) * 64_000;
      fb.reset(ssrc, rng.u32(), rng.int(0x10000), ref, rng.byte());
      let t = ref + rng.int(64_000);
      for (let n = rng.range(1, kind === 9 ? 300 : 40); n > 0; n--) {
        const r = rng.int(10);
        if (r < 2) {
          fb.addNotReceived();
          continue;
        }
        if (r < 8) t += rng.int(63_000);
        else if (r === 8) t += rng.range(64_000, 8_000_000);
        else t -= rng.int(20_000);
        if (!fb.addReceived(t)) break;
      }
      const b = Buffer.alloc(fb.serializedSize());
      fb.write(b, 0);
      return b;
    }
    case 10: {
      // APP (RFC 3550 §6.7): subtype, SSRC, 4-char name, data.
      const data = rng.bytes(4 * rng.int(8));
      const b = Buffer.alloc(12 + data.length);
      b[0] = 0x80 | rng.int(32);
      b[1] = RtcpPacketType.APP;
      b.writeUInt16BE(b.length / 4 - 1, 2);
      b.writeUInt32BE(ssrc >>> 0, 4);
      b.write('FUZZ', 8, 'ascii');
      data.copy(b, 12);
      return b;
    }
    default: {
      // RR with RTP-style padding (P bit; the last octet counts the padding octets).
      const pad = 4 * rng.range(1, 3);
      const b = Buffer.alloc(8 + pad);
      b[0] = 0xa0;
      b[1] = RtcpPacketType.RR;
      b.writeUInt16BE(b.length / 4 - 1, 2);
      b.writeUInt32BE(ssrc >>> 0, 4);
      b[b.length - 1] = pad;
      return b;
    }
  }
}

/** A valid compound RTCP packet: SR or RR first (usually), then 0–3 more packets (SDES, feedback, BYE, …). */
export function buildRtcpCompound(rng: Prng, ssrc: number = rng.u32()): Buffer {
  const parts: Buffer[] = [];
  if (rng.chance(0.7)) {
    // RFC 3550 §6.1: SR/RR first, SDES with CNAME next.
    let first = buildRtcpPacket(rng, ssrc);
    while (first[1] !== RtcpPacketType.SR && first[1] !== RtcpPacketType.RR) first = buildRtcpPacket(rng, ssrc);
    parts.push(first);
    if (rng.chance(0.6)) {
      const b = Buffer.alloc(sdesCnameSize(8));
      writeSdesCname(b, 0, ssrc, rng.bytes(6).toString('base64').slice(0, 8));
      parts.push(b);
    }
  }
  for (let n = rng.int(parts.length === 0 ? 3 : 4) + (parts.length === 0 ? 1 : 0); n > 0; n--) parts.push(buildRtcpPacket(rng, ssrc));
  return Buffer.concat(parts);
}

/** What the STUN corpus needs to know. */
export interface StunCorpusOptions {
  /** `<localUfrag>:<remoteUfrag>` usernames to use (one is picked per message). */
  usernames: readonly string[];
  /** MESSAGE-INTEGRITY key of requests. */
  requestKey: Buffer;
  /** MESSAGE-INTEGRITY key of responses. */
  responseKey: Buffer;
}

/**
 * A valid STUN message: Binding request (USERNAME, PRIORITY, ICE-CONTROLLING/CONTROLLED, USE-CANDIDATE,
 * MESSAGE-INTEGRITY, FINGERPRINT), success response (XOR-MAPPED-ADDRESS IPv4/IPv6), 487 error, indication, with
 * optional SOFTWARE and unknown attributes.
 */
export function buildStun(rng: Prng, o: StunCorpusOptions): Buffer {
  const txId = rng.bytes(12);
  const kind = rng.weighted([6, 3, 1, 1]);
  const type = [StunType.BindingRequest, StunType.BindingSuccess, StunType.BindingError, StunType.BindingIndication][kind] as number;
  const b = new StunMessageBuilder(type, txId);
  if (rng.chance(0.2)) b.addSoftware('fuzz/'.repeat(rng.range(1, 6)));
  if (kind === 0) {
    b.addUsername(rng.pick(o.usernames));
    b.addPriority(rng.u32());
    if (rng.chance(0.5)) b.addIceControlling(BigInt(rng.u32()) * 0x1_0000_0000n + BigInt(rng.u32()));
    else b.addIceControlled(BigInt(rng.u32()));
    if (rng.chance(0.4)) b.addUseCandidate();
  } else if (kind === 1) {
    if (rng.chance(0.8)) b.addXorMappedAddress(`127.0.0.${rng.range(1, 254)}`, rng.int(0x10000));
    else b.addXorMappedAddress(rng.pick(['::1', 'fe80::1:2:3:4', '2001:db8::8:800:200c:417a', '::ffff:10.0.0.1']), rng.int(0x10000));
  } else if (kind === 2) {
    b.addErrorCode(rng.pick([400, 401, 420, 487, 500]), 'Role Conflict');
  }
  if (rng.chance(0.15)) b.addAttribute(rng.pick([0x0003, 0x0017, 0x7777, 0x8001, 0xc057]), rng.bytes(rng.int(12)));
  const key = kind === 0 ? o.requestKey : o.responseKey;
  const withIntegrity = kind !== 3 && rng.chance(0.9);
  return b.build({ ...(withIntegrity ? { integrityKey: key } : {}), fingerprint: rng.chance(0.95) });
}

/** A DTLS record (RFC 6347 §4.1): type, version, epoch, 48-bit sequence number, length, fragment. */
export function dtlsRecord(type: number, epoch: number, seq: number, body: Uint8Array, version = 0xfefd): Buffer {
  const h = Buffer.alloc(13);
  h[0] = type;
  h.writeUInt16BE(version, 1);
  h.writeUInt16BE(epoch & 0xffff, 3);
  h.writeUIntBE(Math.floor(seq) % 0x1_0000_0000_0000, 5, 6);
  h.writeUInt16BE(body.length, 11);
  return Buffer.concat([h, body]);
}

/** A DTLS handshake message header + body (RFC 6347 §4.2.2), unfragmented. */
export function dtlsHandshake(msgType: number, messageSeq: number, body: Uint8Array): Buffer {
  const h = Buffer.alloc(12);
  h[0] = msgType;
  h.writeUIntBE(body.length, 1, 3);
  h.writeUInt16BE(messageSeq & 0xffff, 4);
  h.writeUIntBE(0, 6, 3);
  h.writeUIntBE(body.length, 9, 3);
  return Buffer.concat([h, body]);
}

/** A plausible DTLS 1.2 ClientHello body with use_srtp, extended_master_secret, supported groups. */
export function clientHelloBody(rng: Prng): Buffer {
  const parts: Buffer[] = [Buffer.from([0xfe, 0xfd]), rng.bytes(32)];
  parts.push(Buffer.from([0])); // session id
  const cookie = rng.chance(0.5) ? rng.bytes(32) : Buffer.alloc(0);
  parts.push(Buffer.from([cookie.length]), cookie);
  parts.push(Buffer.from([0x00, 0x04, 0xc0, 0x2b, 0xc0, 0x2f])); // ECDHE_ECDSA/RSA_WITH_AES_128_GCM_SHA256
  parts.push(Buffer.from([0x01, 0x00])); // compression: null
  const ext = Buffer.from([
    0x00, 0x0e, 0x00, 0x07, 0x00, 0x04, 0x00, 0x01, 0x00, 0x07, 0x00, // use_srtp
    0x00, 0x17, 0x00, 0x00, // extended_master_secret
    0x00, 0x0a, 0x00, 0x04, 0x00, 0x02, 0x00, 0x17, // supported_groups: secp256r1
    0x00, 0x0d, 0x00, 0x04, 0x00, 0x02, 0x04, 0x03, // signature_algorithms: ecdsa_secp256r1_sha256
  ]);
  const extLen = Buffer.alloc(2);
  extLen.writeUInt16BE(ext.length);
  parts.push(extLen, ext);
  return Buffer.concat(parts);
}

/**
 * A DTLS-looking datagram: one or more records of the types a WebRTC peer sends (handshake, change_cipher_spec,
 * alert, application data) or any type 20–63, epoch 0/1/random, sometimes a real-looking ClientHello.
 */
export function buildDtls(rng: Prng): Buffer {
  const records: Buffer[] = [];
  for (let n = rng.weighted([70, 20, 10]) + 1; n > 0; n--) {
    const type = rng.chance(0.8) ? rng.pick([20, 21, 22, 23]) : rng.range(20, 63);
    const epoch = rng.chance(0.5) ? 0 : rng.chance(0.8) ? 1 : rng.int(0x10000);
    let body: Buffer;
    if (type === 22 && epoch === 0) {
      body = rng.chance(0.6) ? dtlsHandshake(1, rng.int(3), clientHelloBody(rng)) : dtlsHandshake(rng.pick([1, 2, 3, 11, 12, 13, 14, 15, 16, 20]), rng.int(8), rng.bytes(rng.int(200)));
    } else if (type === 20) body = Buffer.from([1]);
    else if (type === 21 && epoch === 0) body = Buffer.from([rng.pick([1, 2]), rng.pick([0, 10, 20, 40, 42, 80])]);
    else body = rng.bytes(rng.int(120)); // encrypted: 8-byte explicit nonce + ciphertext + 16-byte tag for GCM
    records.push(dtlsRecord(type, epoch, rng.int(1000), body, rng.chance(0.9) ? 0xfefd : rng.pick([0xfeff, 0x0303, rng.int(0x10000)])));
  }
  return Buffer.concat(records);
}

/** Valid inbound (and some outbound) bridge-channel JSON messages (PROTOCOL.md §6). */
export function buildChannelJson(rng: Prng): string {
  const name = (): string => `${rng.bytes(4).toString('hex')}-v${rng.int(3)}`;
  const names = (): string[] => Array.from({ length: rng.int(4) }, name);
  const k = rng.int(12);
  switch (k) {
    case 0:
      return JSON.stringify({
        colibriClass: 'ReceiverVideoConstraints',
        lastN: rng.range(-1, 20),
        selectedSources: names(),
        onStageSources: names(),
        defaultConstraints: { maxHeight: rng.pick([0, 180, 360, 720, -1]) },
        constraints: Object.fromEntries(names().map((n) => [n, { maxHeight: rng.pick([0, 180, 720]), maxFrameRate: rng.pick([15, 30]) }])),
        assumedBandwidthBps: rng.chance(0.5) ? -1 : rng.int(10_000_000),
      });
    case 1:
      return JSON.stringify({ colibriClass: 'LastNChangedEvent', lastN: rng.range(-1, 50) });
    case 2:
      return JSON.stringify({ colibriClass: 'SourceVideoTypeMessage', sourceName: name(), videoType: rng.pick(['camera', 'desktop', 'CAMERA', 'none', 'disabled', 'desktop_high_fps']) });
    case 3:
      return JSON.stringify({ colibriClass: 'VideoTypeMessage', videoType: rng.pick(['camera', 'desktop', 'none']) });
    case 4:
      return JSON.stringify({ colibriClass: 'EndpointMessage', to: rng.chance(0.5) ? '' : rng.bytes(4).toString('hex'), msgPayload: { type: 'e2e-ping', id: rng.int(1000), nested: { list: [1, 'two', null, true] } } });
    case 5:
      return JSON.stringify({ colibriClass: 'EndpointStats', from: 'x', bitrate: { upload: rng.int(1e6), download: rng.int(1e6) }, packetLoss: { total: rng.int(100) }, jvbRTT: rng.int(300) });
    case 6:
      return JSON.stringify({ colibriClass: 'ReceiverAudioSubscription', mode: rng.pick(['All', 'None', 'Include', 'Exclude', 'Custom']), list: names(), include: names(), exclude: names() });
    case 7:
      return JSON.stringify({ colibriClass: 'ReceiverAudioSubscription', all: rng.chance(0.5), include: names(), exclude: names() });
    case 8:
      return JSON.stringify({ colibriClass: 'ClientHello' });
    case 9:
      return JSON.stringify({ colibriClass: 'ServerHello', version: '1.0' }); // outbound class: unknownClass inbound
    case 10:
      return JSON.stringify({ colibriClass: 'DominantSpeakerEndpointChangeEvent', dominantSpeakerEndpoint: 'abcd', previousSpeakers: ['x'] });
    default:
      // Own "__proto__"/"constructor" keys (JSON.parse creates them as own properties).
      return '{"colibriClass":"EndpointMessage","to":"","__proto__":{"polluted":true},"msgPayload":{"constructor":{"prototype":{"x":1}}}}';
  }
}
