/**
 * Fakes for the in-process bridge model tests: a manual clock + scheduler (count of live timers), media transports
 * connected back-to-back with a test peer (no sockets), and synthetic senders (Opus-like audio with RFC 6464 levels,
 * VP8 simulcast with valid payload descriptors and periodic key frames) plus RTCP builders for the peer side.
 */
import { Bridge } from '../src/bridge.js';
import type { ConferenceModify, EndpointModify, Media, MediaSourceDesc } from '../src/colibri/types.js';
import type { BridgeConfigInput } from '../src/config.js';
import { createVp8PayloadDescriptor, parseVp8PayloadDescriptor } from '../src/codecs/vp8.js';
import { HeaderExtensionUri } from '../src/rtp/header-ext.js';
import { RtpHeader } from '../src/rtp/rtp-packet.js';
import {
  createReportBlock,
  nackSize,
  PLI_SIZE,
  RtcpIterator,
  RtcpPacketType,
  writeNack,
  writePli,
  writeReceiverReport,
} from '../src/rtp/rtcp.js';
import type { Candidate, Clock, MediaTransport, MediaTransportState, Scheduler, TimerHandle } from '../src/types.js';

// ------------------------------------------------------------------------------------------------- time

interface FakeTimer {
  id: number;
  at: number;
  fn: () => void;
  interval: number | undefined;
}

/** A manual clock and scheduler: `advance(ms)` runs due timers in order. */
export class FakeTime implements Clock, Scheduler {
  now = 10_000;
  readonly #timers = new Map<number, FakeTimer>();
  #nextId = 1;

  nowMs(): number {
    return this.now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.#nextId++;
    this.#timers.set(id, { id, at: this.now + Math.max(0, ms), fn, interval: undefined });
    return id;
  }

  clearTimeout(h: TimerHandle): void {
    this.#timers.delete(h as number);
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    const id = this.#nextId++;
    this.#timers.set(id, { id, at: this.now + ms, fn, interval: Math.max(1, ms) });
    return id;
  }

  clearInterval(h: TimerHandle): void {
    this.#timers.delete(h as number);
  }

  /** Timers still scheduled. */
  get activeTimers(): number {
    return this.#timers.size;
  }

  /** Runs timers due now (zero-delay ones included). */
  flush(): void {
    this.advance(0);
  }

  /** Moves time forward by `ms`, running every timer that falls due, in order. */
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      let next: FakeTimer | undefined;
      for (const t of this.#timers.values()) if (t.at <= end && (next === undefined || t.at < next.at || (t.at === next.at && t.id < next.id))) next = t;
      if (next === undefined) break;
      this.now = Math.max(this.now, next.at);
      if (next.interval === undefined) this.#timers.delete(next.id);
      else next.at += next.interval;
      next.fn();
    }
    this.now = end;
  }
}

// ------------------------------------------------------------------------------------------------- transport

/** A media transport whose far end is the test (no ICE/DTLS/SRTP): packets go straight through. */
export class FakeTransport implements MediaTransport {
  readonly localUfrag: string;
  readonly localPwd = 'bridgepwd0123456789abcdef';
  readonly localFingerprint = { hash: 'sha-256' as const, value: 'AA:BB:CC' };
  state: MediaTransportState = 'connected';
  onRtp: (buf: Buffer, len: number) => void = () => {};
  onRtcp: (buf: Buffer, len: number) => void = () => {};
  onStateChange: (state: MediaTransportState) => void = () => {};
  /** What the bridge sent (copies). */
  readonly rtp: Buffer[] = [];
  readonly rtcp: Buffer[] = [];
  remote: Parameters<MediaTransport['setRemote']>[0] | undefined;
  closed = false;

  constructor(readonly endpointId: string) {
    this.localUfrag = `uf${endpointId}`;
  }

  localCandidates(): Candidate[] {
    return [{ foundation: '1', component: 1, protocol: 'udp', priority: 2130706431, ip: '192.0.2.1', port: 10000, type: 'host', generation: 0 }];
  }

  setRemote(p: Parameters<MediaTransport['setRemote']>[0]): void {
    this.remote = p;
  }

  sendRtp(buf: Buffer, len: number): void {
    if (this.closed) throw new Error('send on closed transport');
    // The transport copies what it needs; the bridge may reuse `buf` at once. Scribble over nothing here.
    this.rtp.push(Buffer.from(buf.subarray(0, len)));
  }

  sendRtcp(buf: Buffer, len: number): void {
    if (this.closed) throw new Error('send on closed transport');
    this.rtcp.push(Buffer.from(buf.subarray(0, len)));
  }

  close(): void {
    this.closed = true;
    this.state = 'closed';
  }

  /** The peer sends an RTP packet (arrives decrypted at the bridge). */
  deliverRtp(buf: Buffer): void {
    this.onRtp(buf, buf.length);
  }

  /** The peer sends an RTCP packet. */
  deliverRtcp(buf: Buffer): void {
    this.onRtcp(buf, buf.length);
  }

  setState(s: MediaTransportState): void {
    this.state = s;
    this.onStateChange(s);
  }
}

// ------------------------------------------------------------------------------------------------- signalling

export const OPUS_PT = 111;
export const VP8_PT = 100;
export const RTX_PT = 96;
export const EXT_AUDIO_LEVEL = 1;
export const EXT_TCC = 5;
export const EXT_MID = 10;
export const EXT_VIDEO_ORIENTATION = 11;

/** The `<media>` of the Jicofo-like offer (same for every endpoint). */
export function medias(opts: { transportCc?: boolean; firOnly?: boolean } = {}): Media[] {
  const tcc = opts.transportCc ?? false;
  const keyframe = opts.firOnly ? [{ type: 'ccm', subtype: 'fir' }] : [{ type: 'nack', subtype: 'pli' }, { type: 'ccm', subtype: 'fir' }];
  const common = [{ id: EXT_MID, uri: HeaderExtensionUri.SdesMid }, ...(tcc ? [{ id: EXT_TCC, uri: HeaderExtensionUri.TransportCc }] : [])];
  return [
    {
      type: 'audio',
      payloadTypes: [{ id: OPUS_PT, name: 'opus', clockrate: 48000, channels: 2 }],
      rtpHdrExts: [{ id: EXT_AUDIO_LEVEL, uri: HeaderExtensionUri.SsrcAudioLevel }, ...common],
    },
    {
      type: 'video',
      payloadTypes: [
        {
          id: VP8_PT,
          name: 'VP8',
          clockrate: 90000,
          rtcpFbs: [{ type: 'nack' }, ...keyframe, ...(tcc ? [{ type: 'transport-cc' }] : [{ type: 'goog-remb' }])],
        },
        { id: RTX_PT, name: 'rtx', clockrate: 90000, parameters: { apt: String(VP8_PT) } },
      ],
      rtpHdrExts: [...common, { id: EXT_VIDEO_ORIENTATION, uri: HeaderExtensionUri.VideoOrientation }],
    },
  ];
}

/** SSRC plan of a test endpoint. */
export interface SsrcPlan {
  audio: number;
  /** SIM SSRCs low → high. */
  video: number[];
  /** RTX SSRCs, one per video SSRC. */
  rtx: number[];
}

/** A deterministic SSRC plan for endpoint number `n`. */
export function ssrcPlan(n: number): SsrcPlan {
  const base = 0x1000_0000 * (n + 1);
  return { audio: base + 1, video: [base + 0x10, base + 0x11, base + 0x12], rtx: [base + 0x20, base + 0x21, base + 0x22] };
}

/** The endpoint's `<sources>` (audio `<id>-a0`, simulcast video `<id>-v0` with SIM + FID groups). */
export function sourcesOf(id: string, plan: SsrcPlan, opts: { video?: boolean; audio?: boolean } = {}): MediaSourceDesc[] {
  const out: MediaSourceDesc[] = [];
  if (opts.audio ?? true) out.push({ type: 'audio', id: `${id}-a0`, sources: [{ ssrc: plan.audio, name: `${id}-a0` }] });
  if (opts.video ?? true) {
    out.push({
      type: 'video',
      id: `${id}-v0`,
      videoType: 'camera',
      sources: [...plan.video, ...plan.rtx].map((ssrc) => ({ ssrc, name: `${id}-v0` })),
      ssrcGroups: [
        { semantics: 'SIM', ssrcs: plan.video },
        ...plan.video.map((s, i) => ({ semantics: 'FID' as const, ssrcs: [s, plan.rtx[i] as number] })),
      ],
    });
  }
  return out;
}

/** An endpoint `create` as the focus sends it first. */
export function createEndpoint(id: string, extra: Partial<EndpointModify> = {}): EndpointModify {
  return { id, create: true, medias: medias(), transport: { iceControlling: true }, capabilities: ['source-names'], ...extra };
}

// ------------------------------------------------------------------------------------------------- harness

/** A bridge with fake time and transports, plus helpers to build a conference. */
export class Harness {
  readonly time = new FakeTime();
  readonly transports = new Map<string, FakeTransport>();
  readonly bridge: Bridge;
  readonly meetingId = 'b4d1c0de-0000-4000-8000-000000000001';

  constructor(config: BridgeConfigInput = {}) {
    this.bridge = new Bridge({
      transportFactory: (id) => {
        const t = new FakeTransport(id);
        this.transports.set(id, t);
        return t;
      },
      config,
      clock: this.time,
      scheduler: this.time,
    });
  }

  /** Creates the conference (first call) and the endpoints, with their sources. */
  join(
    ids: string[],
    opts: { video?: boolean; audio?: boolean; transportCc?: boolean; firOnly?: boolean; capabilities?: string[] } = {},
  ): void {
    const conf = this.bridge.getConferenceByMeetingId(this.meetingId);
    const req: ConferenceModify = {
      meetingId: this.meetingId,
      name: 'room@conference.meet.jitsi',
      ...(conf === undefined ? { create: true } : {}),
      endpoints: ids.map((id) =>
        createEndpoint(id, {
          medias: medias({ transportCc: opts.transportCc ?? false, firOnly: opts.firOnly ?? false }),
          capabilities: ['source-names', ...(opts.capabilities ?? [])],
          sources: sourcesOf(id, this.plan(id), opts),
        }),
      ),
    };
    this.bridge.conferenceModify(req);
    this.time.flush();
  }

  readonly #plans = new Map<string, SsrcPlan>();

  /** SSRC plan by endpoint id (stable per id). */
  plan(id: string): SsrcPlan {
    let p = this.#plans.get(id);
    if (p === undefined) {
      p = ssrcPlan(this.#plans.size % 14);
      this.#plans.set(id, p);
    }
    return p;
  }

  conference() {
    const c = this.bridge.getConferenceByMeetingId(this.meetingId);
    if (c === undefined) throw new Error('no conference');
    return c;
  }

  transport(id: string): FakeTransport {
    const t = this.transports.get(id);
    if (t === undefined) throw new Error(`no transport ${id}`);
    return t;
  }
}

// ------------------------------------------------------------------------------------------------- packets

/** Writes a one-byte-form header extension block with the given elements; returns its length. */
function writeExtensions(buf: Buffer, off: number, elements: Array<[id: number, data: number[]]>): number {
  let p = off + 4;
  for (const [id, data] of elements) {
    buf[p++] = (id << 4) | (data.length - 1);
    for (const b of data) buf[p++] = b;
  }
  while ((p - off) % 4 !== 0) buf[p++] = 0;
  buf.writeUInt16BE(0xbede, off);
  buf.writeUInt16BE((p - off - 4) / 4, off + 2);
  return p - off;
}

/** Builds an RTP packet with optional one-byte extensions. */
export function rtp(opts: {
  pt: number;
  seq: number;
  ts: number;
  ssrc: number;
  marker?: boolean;
  ext?: Array<[number, number[]]>;
  payload: Buffer | number[];
  padding?: number;
}): Buffer {
  const payload = Buffer.isBuffer(opts.payload) ? opts.payload : Buffer.from(opts.payload);
  const buf = Buffer.alloc(12 + 64 + payload.length + (opts.padding ?? 0));
  const hasExt = opts.ext !== undefined && opts.ext.length > 0;
  buf[0] = 0x80 | (hasExt ? 0x10 : 0) | (opts.padding ? 0x20 : 0);
  buf[1] = (opts.marker ? 0x80 : 0) | opts.pt;
  buf.writeUInt16BE(opts.seq & 0xffff, 2);
  buf.writeUInt32BE(opts.ts >>> 0, 4);
  buf.writeUInt32BE(opts.ssrc >>> 0, 8);
  let p = 12;
  if (hasExt) p += writeExtensions(buf, p, opts.ext ?? []);
  payload.copy(buf, p);
  p += payload.length;
  if (opts.padding) {
    buf.fill(0, p, p + opts.padding - 1);
    buf[p + opts.padding - 1] = opts.padding;
    p += opts.padding;
  }
  return buf.subarray(0, p);
}

/** An Opus-like audio sender with RFC 6464 levels (0 loud … 127 silence). */
export class AudioSender {
  seq = 1000;
  ts = 50_000;
  tcc = 0;
  constructor(readonly ssrc: number, readonly opts: { transportCc?: boolean } = {}) {}

  packet(level: number): Buffer {
    const ext: Array<[number, number[]]> = [
      [EXT_AUDIO_LEVEL, [0x80 | level]],
      [EXT_MID, [0x30]],
    ];
    if (this.opts.transportCc) ext.push([EXT_TCC, [(this.tcc >> 8) & 0xff, this.tcc++ & 0xff]]);
    const b = rtp({ pt: OPUS_PT, seq: this.seq, ts: this.ts, ssrc: this.ssrc, ext, payload: [0xfc, 0xff, 0xfe, level] });
    this.seq = (this.seq + 1) & 0xffff;
    this.ts = (this.ts + 960) >>> 0;
    return b;
  }
}

const HEIGHTS = [180, 360, 720];
const PACKETS_PER_FRAME = [1, 2, 3];

/** State of one simulcast encoding of {@link Vp8SimulcastSender}. */
interface EncodingState {
  seq: number;
  ts: number;
  pic: number;
  tl0: number;
  keyPending: boolean;
  frames: number;
}

/**
 * A Chrome-like VP8 simulcast sender: three encodings (180/360/720), 15-bit PictureID, TL0PICIDX, TID 0,
 * key frames every `keyframeIntervalFrames` frames and after a PLI/FIR naming the encoding's SSRC. The payload
 * after the VP8 payload header carries the encoding index, so the tests can tell encodings apart.
 */
export class Vp8SimulcastSender {
  readonly enc: EncodingState[];
  /** Packets sent, by encoding and sequence number (to answer NACKs / check retransmissions). */
  readonly sent = new Map<string, Buffer>();
  /** Which encodings send (a low-fps screen share sends only the top one). */
  active = [true, true, true];
  constructor(
    readonly plan: SsrcPlan,
    readonly keyframeIntervalFrames = 90,
  ) {
    this.enc = plan.video.map((_, i) => ({ seq: 100 * (i + 1), ts: 1000 * (i + 1), pic: 5000 + 1000 * i, tl0: 10 * i, keyPending: true, frames: 0 }));
  }

  /** Marks encodings named by PLI/FIR packets in `rtcp` for a key frame; returns how many requests there were. */
  handleRtcp(rtcp: Buffer[]): number {
    let n = 0;
    const it = new RtcpIterator();
    for (const b of rtcp) {
      for (it.reset(b, b.length); it.next(); ) {
        if (it.packetType !== RtcpPacketType.PSFB) continue;
        const target = it.count === 1 ? it.mediaSsrc : it.count === 4 ? b.readUInt32BE(it.offset + 12) : -1;
        const i = this.plan.video.indexOf(target);
        const e = this.enc[i];
        if (e !== undefined) {
          e.keyPending = true;
          n++;
        }
      }
    }
    return n;
  }

  /** One frame on every active encoding: the packets, in send order. */
  frame(): Buffer[] {
    const out: Buffer[] = [];
    this.enc.forEach((st, e) => {
      if (!this.active[e]) return;
      const key = st.keyPending || st.frames % this.keyframeIntervalFrames === 0;
      st.keyPending = false;
      st.frames++;
      st.tl0 = (st.tl0 + 1) & 0xff;
      const n = PACKETS_PER_FRAME[e] ?? 1;
      for (let k = 0; k < n; k++) {
        const start = k === 0;
        const desc = [0x80 | (start ? 0x10 : 0), 0xe0, 0x80 | ((st.pic >> 8) & 0x7f), st.pic & 0xff, st.tl0, 0x00];
        let body: number[];
        if (start && key) {
          const h = HEIGHTS[e] ?? 180;
          const w = (h * 16) / 9;
          // Payload header (P = 0: key frame), 3-byte frame tag, start code, width and height (RFC 6386 §9.1).
          body = [0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, w & 0xff, (w >> 8) & 0x3f, h & 0xff, (h >> 8) & 0x3f, 0xe0 + e, 0xe0 + e];
        } else if (start) {
          body = [0x11, 0x02, 0x00, 0xe0 + e, 0xe0 + e, 0xe0 + e];
        } else {
          body = [0xe0 + e, 0xe0 + e, 0xe0 + e, k];
        }
        const pkt = rtp({
          pt: VP8_PT,
          seq: st.seq,
          ts: st.ts,
          ssrc: this.plan.video[e] as number,
          marker: k === n - 1,
          ext: [
            [EXT_MID, [0x31]],
            [EXT_VIDEO_ORIENTATION, [0x01]],
          ],
          payload: [...desc, ...body],
        });
        this.sent.set(`${e}:${st.seq}`, pkt);
        out.push(pkt);
        st.seq = (st.seq + 1) & 0xffff;
      }
      st.ts = (st.ts + 3000) >>> 0;
      st.pic = (st.pic + 1) & 0x7fff;
    });
    return out;
  }

  /** An RTX retransmission (RFC 4588) of packet `seq` of encoding `e`. */
  rtx(e: number, seq: number, rtxSeq: number): Buffer {
    const orig = this.sent.get(`${e}:${seq}`);
    if (orig === undefined) throw new Error('not sent');
    const h = new RtpHeader();
    h.parse(orig);
    const payload = Buffer.concat([Buffer.from([(seq >> 8) & 0xff, seq & 0xff]), orig.subarray(h.payloadOffset)]);
    return rtp({ pt: RTX_PT, seq: rtxSeq, ts: h.timestamp, ssrc: this.plan.rtx[e] as number, marker: h.marker, payload });
  }
}

/** What a receiver's peer saw of one video stream. */
export interface ReceivedVideo {
  ssrc: number;
  seq: number;
  ts: number;
  pt: number;
  /** Encoding index, from the test payload marker. */
  encoding: number;
  keyframe: boolean;
  startOfFrame: boolean;
  pictureId: number;
  raw: Buffer;
}

/** Parses the VP8 packets a peer received (skips audio and RTX). */
export function receivedVideo(packets: readonly Buffer[]): ReceivedVideo[] {
  const h = new RtpHeader();
  const d = createVp8PayloadDescriptor();
  const out: ReceivedVideo[] = [];
  for (const raw of packets) {
    if (h.parse(raw) !== 0 || h.payloadType !== VP8_PT) continue;
    if (parseVp8PayloadDescriptor(raw, h.payloadOffset, h.payloadLength, d) !== 'ok') continue;
    const body = raw.subarray(h.payloadOffset + d.size);
    const marker = d.isStartOfFrame ? (d.isKeyframe ? body[10] : body[3]) : body[0];
    out.push({
      ssrc: h.ssrc,
      seq: h.sequenceNumber,
      ts: h.timestamp,
      pt: h.payloadType,
      encoding: (marker ?? 0xe0) - 0xe0,
      keyframe: d.isKeyframe,
      startOfFrame: d.isStartOfFrame,
      pictureId: d.pictureId,
      raw,
    });
  }
  return out;
}

/** A generic NACK from a receiver for `seqs` of `mediaSsrc`. */
export function nack(senderSsrc: number, mediaSsrc: number, seqs: number[]): Buffer {
  const out = Buffer.alloc(nackSize(seqs.length));
  const len = writeNack(out, 0, senderSsrc, mediaSsrc, seqs);
  return out.subarray(0, len);
}

/** A PLI from a receiver (in a compound after an empty RR, as browsers send). */
export function pli(senderSsrc: number, mediaSsrc: number): Buffer {
  const out = Buffer.alloc(8 + PLI_SIZE);
  let off = writeReceiverReport(out, 0, senderSsrc, []);
  off += writePli(out, off, senderSsrc, mediaSsrc);
  return out.subarray(0, off);
}

/** An RR about `ssrc`. */
export function receiverReport(senderSsrc: number, ssrc: number, fractionLost: number, lsr = 0, dlsr = 0): Buffer {
  const out = Buffer.alloc(8 + 24);
  const rb = createReportBlock();
  rb.ssrc = ssrc;
  rb.fractionLost = fractionLost;
  rb.lastSr = lsr;
  rb.delaySinceLastSr = dlsr;
  const len = writeReceiverReport(out, 0, senderSsrc, [rb]);
  return out.subarray(0, len);
}

/** RTCP packets of type `pt` (and FMT `fmt`, if given) in what a peer received. */
export function rtcpOfType(packets: readonly Buffer[], pt: number, fmt?: number): Array<{ buf: Buffer; offset: number; length: number; count: number }> {
  const it = new RtcpIterator();
  const out: Array<{ buf: Buffer; offset: number; length: number; count: number }> = [];
  for (const b of packets) {
    for (it.reset(b, b.length); it.next(); ) {
      if (it.packetType === pt && (fmt === undefined || it.count === fmt)) out.push({ buf: b, offset: it.offset, length: it.length, count: it.count });
    }
  }
  return out;
}
