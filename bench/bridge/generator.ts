/**
 * Load generator of the bridge bench, in the bench process: one real client EndpointTransport per
 * endpoint (ICE + DTLS + SRTP, each on its own UdpMux on 127.0.0.1, so each has its own address as
 * a browser would), signalled to the bridge child through Colibri2 conference-modify over the
 * control channel. Two bridge EndpointTransports connect back to back: the bridge offers
 * `actpass`, the client answers `active` (DTLS client), both start ICE-controlling and one yields.
 *
 * Senders (`s<i>`) send VP8 simulcast: three SSRCs (SIM group 180/360/720, each with an RTX SSRC in a
 * FID group, as Chrome signals it), all at the same packet rate and size, with valid VP8 payload
 * descriptors (15-bit PictureID, TL0PICIDX, TID 0), key frames carrying their height on request
 * (PLI/FIR from the bridge) and every `keyframeIntervalMs`; optionally Opus-like audio with RFC 6464
 * levels. Receivers (`r<j>`) send nothing; receiver j asks (ReceiverVideoConstraints) for layer
 * j mod 3 of every sender (maxHeight 180/360/720), so each receives one layer of each sender.
 *
 * Sending: one template buffer per stream, rewritten in place per packet (sequence number,
 * timestamp, marker, PictureID/TL0PICIDX, key frame header, and a trailer with the send time from
 * performance.now()) and handed to the client transport's sendRtp(), which SRTP-protects and sends
 * it. The SRTP keys of an EndpointTransport are private, so packets cannot be encrypted ahead of
 * time; since the bridge fans each video packet out to many receivers while senders send
 * 3 × senders streams, the offered rate is a fraction of the forwarded rate and this costs the
 * generator little (its CPU is measured and reported).
 *
 * Receiving: each receiver transport's handleDatagram is wrapped so every SRTP datagram is counted
 * from its clear-text RTP header (SSRC, sequence number) before decryption: the bridge rewrites
 * sequence numbers into one continuous stream per source and keeps input gaps as gaps, so a
 * sequence gap at the receiver is a packet lost anywhere on the way. Every `decryptEvery`-th packet
 * (default every one) then goes through the transport (SRTP unprotect), and its trailer gives the
 * one-way latency (same process, same clock) and the layer it came from.
 */
import { randomBytes } from 'node:crypto';
import {
  EndpointTransport,
  HeaderExtensionUri,
  RtcpIterator,
  RtcpPacketType,
  UdpMux,
  createBridgeCertificate,
  silentLogger,
  type BridgeCertificate,
  type EndpointModify,
  type Media,
  type MediaSourceDesc,
} from '@jitsi-one/bridge';
import type { BridgeProcess } from './bridge-process.js';

export const VP8_PT = 100;
export const RTX_PT = 96;
export const OPUS_PT = 111;
const EXT_AUDIO_LEVEL = 1;
const EXT_MID = 10;
const EXT_VIDEO_ORIENTATION = 11;
const HEIGHTS = [180, 360, 720] as const;
const TRAILER_MAGIC = 0x42524231; // 'BRB1'
const TRAILER_SIZE = 16;
/** Offset of the VP8 payload descriptor in our video packets (12 header + 8 extension block). */
const VP8_DESC_OFFSET = 20;
const VP8_BODY_OFFSET = VP8_DESC_OFFSET + 6;
const AUDIO_PACKET_SIZE = 120;

export interface ScenarioShape {
  senders: number;
  receivers: number;
}

export interface GeneratorOptions {
  /** RTP packet size of video packets (plain, before SRTP), bytes. */
  packetSize: number;
  /** Audio packets/s per sender (0 = no audio). */
  audioRate: number;
  /** Decrypt (and time) every n-th received packet; 1 = all. */
  decryptEvery: number;
  /** Frame rate used to group video packets into frames. */
  fps: number;
  /** Periodic key frames (besides those on request), ms; 0 = only on request. */
  keyframeIntervalMs: number;
  log: (line: string) => void;
}

/** The media descriptions of the Jicofo-like offer (same for every endpoint). */
function medias(): Media[] {
  const mid = { id: EXT_MID, uri: HeaderExtensionUri.SdesMid };
  return [
    {
      type: 'audio',
      payloadTypes: [{ id: OPUS_PT, name: 'opus', clockrate: 48000, channels: 2 }],
      rtpHdrExts: [{ id: EXT_AUDIO_LEVEL, uri: HeaderExtensionUri.SsrcAudioLevel }, mid],
    },
    {
      type: 'video',
      payloadTypes: [
        {
          id: VP8_PT,
          name: 'VP8',
          clockrate: 90000,
          rtcpFbs: [{ type: 'nack' }, { type: 'nack', subtype: 'pli' }, { type: 'ccm', subtype: 'fir' }, { type: 'goog-remb' }],
        },
        { id: RTX_PT, name: 'rtx', clockrate: 90000, parameters: { apt: String(VP8_PT) } },
      ],
      rtpHdrExts: [mid, { id: EXT_VIDEO_ORIENTATION, uri: HeaderExtensionUri.VideoOrientation }],
    },
  ];
}

interface SsrcPlan {
  audio: number;
  video: [number, number, number];
  rtx: [number, number, number];
}

function ssrcPlan(i: number): SsrcPlan {
  const base = (0x1000_0000 + i * 0x100) >>> 0;
  return { audio: base + 1, video: [base + 0x10, base + 0x11, base + 0x12], rtx: [base + 0x20, base + 0x21, base + 0x22] };
}

function sourcesOf(id: string, plan: SsrcPlan, audio: boolean): MediaSourceDesc[] {
  const out: MediaSourceDesc[] = [];
  if (audio) out.push({ type: 'audio', id: `${id}-a0`, sources: [{ ssrc: plan.audio, name: `${id}-a0` }] });
  out.push({
    type: 'video',
    id: `${id}-v0`,
    videoType: 'camera',
    sources: [...plan.video, ...plan.rtx].map((ssrc) => ({ ssrc, name: `${id}-v0` })),
    ssrcGroups: [{ semantics: 'SIM', ssrcs: [...plan.video] }, ...plan.video.map((s, i) => ({ semantics: 'FID' as const, ssrcs: [s, plan.rtx[i] as number] }))],
  });
  return out;
}

// ------------------------------------------------------------------------------------------------ sending

/** One RTP stream of a sender, with its template packet and pacing state. */
abstract class OutStream {
  readonly buf: Buffer;
  seq = Math.floor(Math.random() * 0x8000);
  ts = Math.floor(Math.random() * 0x7fff_ffff);
  /** Packets sent (total). */
  sent = 0;
  /** Pacing: packets/s and the (time, count) the current rate started at. */
  rate = 0;
  baseMs = 0;
  baseCount = 0;

  constructor(
    readonly transport: EndpointTransport,
    readonly ssrc: number,
    size: number,
    readonly senderIndex: number,
    readonly layer: number,
  ) {
    this.buf = Buffer.allocUnsafeSlow(size);
    randomBytes(size).copy(this.buf);
    this.buf.writeUInt32BE(ssrc >>> 0, 8);
    this.buf.writeUInt32BE(TRAILER_MAGIC, size - TRAILER_SIZE);
    this.buf[size - TRAILER_SIZE + 4] = senderIndex & 0xff;
    this.buf[size - TRAILER_SIZE + 5] = layer & 0xff;
    this.buf.writeUInt16BE(0, size - TRAILER_SIZE + 6);
  }

  /** Writes the per-packet fields and sends one packet. */
  abstract sendOne(nowMs: number): void;

  protected finish(): void {
    const b = this.buf;
    b.writeUInt16BE(this.seq, 2);
    b.writeUInt32BE(this.ts >>> 0, 4);
    b.writeDoubleLE(performance.now(), b.length - 8);
    this.transport.sendRtp(b, b.length);
    this.seq = (this.seq + 1) & 0xffff;
    this.sent++;
  }
}

class VideoStream extends OutStream {
  pic = Math.floor(Math.random() * 0x7fff);
  tl0 = Math.floor(Math.random() * 0xff);
  /** Index of the next packet within the current frame. */
  k = 0;
  packetsPerFrame = 1;
  keyPending = true;
  lastKeyMs = -Infinity;

  constructor(transport: EndpointTransport, ssrc: number, size: number, senderIndex: number, layer: number, private readonly opts: GeneratorOptions) {
    super(transport, ssrc, size, senderIndex, layer);
    const b = this.buf;
    b[0] = 0x90; // V=2, X=1
    b[1] = VP8_PT;
    // One-byte header extensions: MID ("1"), video orientation; one 32-bit word.
    b.writeUInt16BE(0xbede, 12);
    b.writeUInt16BE(1, 14);
    b[16] = (EXT_MID << 4) | 0;
    b[17] = 0x31;
    b[18] = (EXT_VIDEO_ORIENTATION << 4) | 0;
    b[19] = 0x01;
    // VP8 payload descriptor: X; I, L, T; 15-bit PictureID; TL0PICIDX; TID 0.
    b[VP8_DESC_OFFSET + 1] = 0xe0;
    b[VP8_DESC_OFFSET + 5] = 0x00;
  }

  sendOne(nowMs: number): void {
    const b = this.buf;
    const start = this.k === 0;
    if (start) {
      this.packetsPerFrame = Math.max(1, Math.round(this.rate / this.opts.fps));
      this.tl0 = (this.tl0 + 1) & 0xff;
    }
    const last = this.k === this.packetsPerFrame - 1;
    b[1] = (last ? 0x80 : 0) | VP8_PT;
    b[VP8_DESC_OFFSET] = 0x80 | (start ? 0x10 : 0);
    b[VP8_DESC_OFFSET + 2] = 0x80 | ((this.pic >> 8) & 0x7f);
    b[VP8_DESC_OFFSET + 3] = this.pic & 0xff;
    b[VP8_DESC_OFFSET + 4] = this.tl0;
    const o = VP8_BODY_OFFSET;
    if (start) {
      const interval = this.opts.keyframeIntervalMs;
      const key = this.keyPending || (interval > 0 && nowMs - this.lastKeyMs >= interval);
      if (key) {
        this.keyPending = false;
        this.lastKeyMs = nowMs;
        const h = HEIGHTS[this.layer] ?? 180;
        const w = Math.round((h * 16) / 9);
        // VP8 payload header with P = 0 (key frame), start code, width and height (RFC 6386 §9.1).
        b[o] = 0x10;
        b[o + 1] = 0x02;
        b[o + 2] = 0x00;
        b[o + 3] = 0x9d;
        b[o + 4] = 0x01;
        b[o + 5] = 0x2a;
        b[o + 6] = w & 0xff;
        b[o + 7] = (w >> 8) & 0x3f;
        b[o + 8] = h & 0xff;
        b[o + 9] = (h >> 8) & 0x3f;
      } else {
        b[o] = 0x11; // P = 1: inter frame
        b[o + 1] = 0x02;
        b[o + 2] = 0x00;
      }
    }
    this.finish();
    if (last) {
      this.k = 0;
      this.ts = (this.ts + Math.round(90000 / this.opts.fps)) >>> 0;
      this.pic = (this.pic + 1) & 0x7fff;
    } else {
      this.k++;
    }
  }
}

class AudioStream extends OutStream {
  constructor(transport: EndpointTransport, ssrc: number, senderIndex: number, level: number) {
    super(transport, ssrc, AUDIO_PACKET_SIZE, senderIndex, 255);
    const b = this.buf;
    b[0] = 0x90;
    b[1] = OPUS_PT;
    b.writeUInt16BE(0xbede, 12);
    b.writeUInt16BE(1, 14);
    b[16] = (EXT_AUDIO_LEVEL << 4) | 0;
    b[17] = 0x80 | (level & 0x7f); // V = 1, level in -dBov (127 = silence, dropped by the bridge)
    b[18] = (EXT_MID << 4) | 0;
    b[19] = 0x30;
  }

  sendOne(): void {
    this.finish();
    this.ts = (this.ts + 960) >>> 0;
  }
}

// ------------------------------------------------------------------------------------------------ receiving

/** What one receiver saw of one incoming stream (keyed by the SSRC the bridge sends it with). */
interface RxStream {
  ssrc: number;
  /** Highest extended sequence number, and the last 16-bit one. */
  hi: number;
  last: number;
  count: number;
}

interface Receiver {
  index: number;
  /** Layer it asked for. */
  layer: number;
  streams: Map<number, RxStream>;
  /** RTP datagrams seen (before decryption). */
  count: number;
}

// ------------------------------------------------------------------------------------------------ generator

interface Client {
  id: string;
  mux: UdpMux;
  transport: EndpointTransport;
}

/** Counters of the generator at one instant (see {@link LoadGenerator.snapshot}). */
export interface GeneratorSnapshot {
  atMs: number;
  cpuUs: number;
  sent: number;
  /** Σ over receiver streams of the highest extended sequence number and of the packets counted. */
  streams: Map<string, { hi: number; count: number }>;
  received: number;
  decrypted: number;
  wrongLayer: number;
  badTrailer: number;
  skipped: number;
  srtpErrors: number;
}

export interface WindowResult {
  seconds: number;
  offeredPps: number;
  receivedPps: number;
  expected: number;
  received: number;
  lost: number;
  lossPercent: number;
  /** Streams that got nothing in the window (should be 0). */
  silentStreams: number;
  decrypted: number;
  wrongLayer: number;
  badTrailer: number;
  /** Packets the generator could not send in time (fell behind by more than the backlog limit). */
  skipped: number;
  srtpErrors: number;
  generatorCpuPercent: number;
  latencySamples: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyMaxMs: number;
  maxTickGapMs: number;
}

export class LoadGenerator {
  readonly meetingId = `bench-${randomBytes(6).toString('hex')}`;
  readonly #opts: GeneratorOptions;
  readonly #shape: ScenarioShape;
  readonly #bridge: BridgeProcess;
  readonly #clients: Client[] = [];
  readonly #senders: Client[] = [];
  readonly #receiverClients: Client[] = [];
  readonly #receivers: Receiver[] = [];
  readonly #streams: OutStream[] = [];
  readonly #videoStreams: VideoStream[] = [];
  #timer: NodeJS.Timeout | undefined;
  #videoRate = 0;
  #skipped = 0;
  #decrypted = 0;
  #wrongLayer = 0;
  #badTrailer = 0;
  #lastTickMs = 0;
  #maxTickGapMs = 0;
  /** Latency samples (ms) of the current window. */
  readonly #lat = new Float64Array(1 << 21);
  #latN = 0;
  #recording = false;

  private constructor(shape: ScenarioShape, bridge: BridgeProcess, opts: GeneratorOptions) {
    this.#shape = shape;
    this.#bridge = bridge;
    this.#opts = opts;
  }

  /** Creates the client endpoints, signals them, and waits until every transport is connected. */
  static async connect(shape: ScenarioShape, bridge: BridgeProcess, opts: GeneratorOptions, timeoutMs = 30_000): Promise<LoadGenerator> {
    const g = new LoadGenerator(shape, bridge, opts);
    try {
      await g.#connect(timeoutMs);
    } catch (err) {
      await g.close();
      throw err;
    }
    return g;
  }

  get senders(): number {
    return this.#shape.senders;
  }

  get receivers(): number {
    return this.#shape.receivers;
  }

  /** Expected forwarded packets/s at a per-layer video rate (receivers × senders × rate, plus audio). */
  forwardedFor(videoRate: number): number {
    const { senders, receivers } = this.#shape;
    return receivers * senders * (videoRate + this.#opts.audioRate);
  }

  /** Offered packets/s at a per-layer video rate (3 layers per sender, plus audio). */
  offeredFor(videoRate: number): number {
    return this.#shape.senders * (3 * videoRate + this.#opts.audioRate);
  }

  async #connect(timeoutMs: number): Promise<void> {
    const log = silentLogger();
    const certificate: BridgeCertificate = await createBridgeCertificate();
    const { senders, receivers } = this.#shape;
    const make = async (id: string, receiveBuffer: boolean): Promise<Client> => {
      const mux = await UdpMux.create({
        port: 0,
        bindAddress: '127.0.0.1',
        hostAddresses: ['127.0.0.1'],
        ...(receiveBuffer ? { receiveBufferBytes: 4 << 20 } : { sendBufferBytes: 4 << 20 }),
        log,
      });
      const transport = new EndpointTransport({ mux, certificate, log });
      const c = { id, mux, transport };
      this.#clients.push(c);
      return c;
    };
    for (let i = 0; i < senders; i++) this.#senders.push(await make(`s${i}`, false));
    for (let j = 0; j < receivers; j++) this.#receiverClients.push(await make(`r${j}`, true));

    const audio = this.#opts.audioRate > 0;
    const endpoint = (c: Client, sources: MediaSourceDesc[] | undefined): EndpointModify => ({
      id: c.id,
      create: true,
      medias: medias(),
      capabilities: ['source-names'],
      transport: {
        iceControlling: true,
        iceUdp: { ufrag: c.transport.localUfrag, pwd: c.transport.localPwd, fingerprints: [{ ...c.transport.localFingerprint, setup: 'active' }] },
      },
      ...(sources ? { sources } : {}),
    });
    const reply = await this.#bridge.request({
      op: 'conferenceModify',
      req: {
        meetingId: this.meetingId,
        name: 'bench@conference.localhost',
        create: true,
        endpoints: [
          ...this.#senders.map((c, i) => endpoint(c, sourcesOf(c.id, ssrcPlan(i), audio))),
          ...this.#receiverClients.map((c) => endpoint(c, undefined)),
        ],
      },
    });
    for (const e of reply.endpoints) {
      const c = this.#clients.find((x) => x.id === e.id);
      const t = e.transport;
      if (c === undefined || t === undefined) throw new Error(`conference-modified without transport for ${e.id}`);
      c.transport.setRemote({
        ufrag: t.ufrag,
        pwd: t.pwd,
        fingerprints: t.fingerprints.map((f) => ({ hash: f.hash, value: f.value, setup: 'passive' as const })),
        candidates: t.candidates,
      });
    }

    // Media plumbing before anything can arrive.
    this.#senders.forEach((c, i) => {
      const plan = ssrcPlan(i);
      const layers = plan.video.map((ssrc, e) => new VideoStream(c.transport, ssrc, this.#opts.packetSize, i, e, this.#opts));
      this.#videoStreams.push(...layers);
      this.#streams.push(...layers);
      if (audio) this.#streams.push(new AudioStream(c.transport, plan.audio, i, 20 + (i % 40)));
      c.transport.onRtcp = (buf, len) => this.#onSenderRtcp(layers, buf, len);
    });
    this.#receiverClients.forEach((c, j) => this.#hookReceiver(c, j));

    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const failed = this.#clients.filter((c) => c.transport.state === 'failed');
      if (failed.length > 0) throw new Error(`client transport failed: ${failed.map((c) => `${c.id} (${c.transport.failureReason})`).join(', ')}`);
      if (this.#clients.every((c) => c.transport.state === 'connected')) {
        const states = await this.#bridge.request({ op: 'transportStates', meetingId: this.meetingId });
        if (Object.values(states).every((s) => s === 'connected')) break;
      }
      if (Date.now() > deadline) {
        const pending = this.#clients.filter((c) => c.transport.state !== 'connected').map((c) => `${c.id}:${c.transport.state}`);
        throw new Error(`endpoints did not connect within ${timeoutMs} ms (${pending.join(', ') || 'bridge side'})`);
      }
      await sleep(20);
    }

    // Constraints: receiver j gets layer j mod 3 of every sender; senders receive no video (and no audio).
    for (const [j, c] of this.#receiverClients.entries()) {
      await this.#bridge.request({
        op: 'setReceiverConstraints',
        meetingId: this.meetingId,
        endpointId: c.id,
        constraints: { colibriClass: 'ReceiverVideoConstraints', lastN: -1, defaultConstraints: { maxHeight: HEIGHTS[j % 3] ?? 180 } },
      });
    }
    for (const c of this.#senders) {
      await this.#bridge.request({
        op: 'setReceiverConstraints',
        meetingId: this.meetingId,
        endpointId: c.id,
        constraints: { colibriClass: 'ReceiverVideoConstraints', lastN: 0, defaultConstraints: { maxHeight: 0 } },
      });
      if (audio) await this.#bridge.request({ op: 'setReceiverAudioSubscription', meetingId: this.meetingId, endpointId: c.id, all: false });
    }
  }

  #onSenderRtcp(layers: readonly VideoStream[], buf: Buffer, len: number): void {
    const it = new RtcpIterator();
    for (it.reset(buf, len); it.next(); ) {
      if (it.packetType !== RtcpPacketType.PSFB) continue;
      // PLI (FMT 1) names the media SSRC; FIR (FMT 4) names it in its FCI entry.
      const target = it.count === 1 ? it.mediaSsrc : it.count === 4 && it.length >= 20 ? buf.readUInt32BE(it.offset + 12) : -1;
      for (const l of layers) if (l.ssrc === target) l.keyPending = true;
    }
  }

  #hookReceiver(c: Client, index: number): void {
    const rx: Receiver = { index, layer: index % 3, streams: new Map(), count: 0 };
    this.#receivers.push(rx);
    const t = c.transport;
    const every = this.#opts.decryptEvery;
    const orig = t.handleDatagram.bind(t);
    t.handleDatagram = (buf: Buffer, len: number, ip: string, port: number): void => {
      const b1 = buf[1] as number;
      if (len >= 12 && ((buf[0] as number) & 0xc0) === 0x80 && (b1 < 192 || b1 > 223)) {
        const ssrc = buf.readUInt32BE(8);
        const seq = buf.readUInt16BE(2);
        let s = rx.streams.get(ssrc);
        if (s === undefined) {
          s = { ssrc, hi: seq, last: seq, count: 1 };
          rx.streams.set(ssrc, s);
        } else {
          const d = (seq - s.last) & 0xffff;
          if (d !== 0 && d < 0x8000) {
            s.hi += d;
            s.last = seq;
          }
          s.count++;
        }
        if (++rx.count % every !== 0) return;
      }
      orig(buf, len, ip, port);
    };
    t.onRtp = (buf, len) => {
      this.#decrypted++;
      if (len < TRAILER_SIZE + 12 || buf.readUInt32BE(len - TRAILER_SIZE) !== TRAILER_MAGIC) {
        this.#badTrailer++;
        return;
      }
      const layer = buf[len - TRAILER_SIZE + 5] as number;
      if (layer !== 255 && layer !== rx.layer) this.#wrongLayer++;
      if (this.#recording && this.#latN < this.#lat.length) this.#lat[this.#latN++] = performance.now() - buf.readDoubleLE(len - 8);
    };
  }

  /** Sets the per-layer video packet rate (audio runs at its fixed rate) and starts pacing if needed. */
  setRate(videoRate: number): void {
    const now = performance.now();
    this.#videoRate = videoRate;
    for (const s of this.#streams) {
      s.rate = s.layer === 255 ? this.#opts.audioRate : videoRate;
      s.baseMs = now;
      s.baseCount = s.sent;
    }
    if (this.#timer === undefined) {
      this.#lastTickMs = now;
      this.#timer = setInterval(() => this.#tick(), 1);
    }
  }

  get videoRate(): number {
    return this.#videoRate;
  }

  #tick(): void {
    const now = performance.now();
    const gap = now - this.#lastTickMs;
    if (gap > this.#maxTickGapMs) this.#maxTickGapMs = gap;
    this.#lastTickMs = now;
    const streams = this.#streams;
    let maxDue = 0;
    const due: number[] = [];
    for (const s of streams) {
      let n = s.baseCount + Math.floor(((now - s.baseMs) * s.rate) / 1000) - s.sent;
      // More than 50 ms behind (the generator stalled): send 50 ms worth at once, skip the rest.
      const limit = Math.max(2, Math.ceil(s.rate / 20));
      if (n > limit) {
        this.#skipped += n - limit;
        s.baseCount -= n - limit;
        n = limit;
      }
      due.push(n);
      if (n > maxDue) maxDue = n;
    }
    // Interleave the streams packet by packet, as several senders' pacers would.
    for (let k = 0; k < maxDue; k++) {
      for (let i = 0; i < streams.length; i++) if ((due[i] as number) > k) (streams[i] as OutStream).sendOne(now);
    }
  }

  /** Receivers × expected streams that have received at least `min` packets, and how many are expected. */
  coverage(min: number): { ready: number; expected: number } {
    const perReceiver = this.#shape.senders * (this.#opts.audioRate > 0 ? 2 : 1);
    let ready = 0;
    for (const r of this.#receivers) for (const s of r.streams.values()) if (s.count >= min) ready++;
    return { ready, expected: perReceiver * this.#receivers.length };
  }

  /** Counters now; starts a fresh latency window. */
  snapshot(): GeneratorSnapshot {
    const streams = new Map<string, { hi: number; count: number }>();
    let received = 0;
    for (const r of this.#receivers) {
      received += r.count;
      for (const s of r.streams.values()) streams.set(`${r.index}:${s.ssrc}`, { hi: s.hi, count: s.count });
    }
    let sent = 0;
    for (const s of this.#streams) sent += s.sent;
    let srtpErrors = 0;
    for (const c of this.#receiverClients) {
      const d = c.transport.stats().dropped;
      srtpErrors += d.rtpAuthFailed + d.rtpReplayed + d.rtpTooOld + d.rtpMalformed;
    }
    const cpu = process.cpuUsage();
    return {
      atMs: performance.now(),
      cpuUs: cpu.user + cpu.system,
      sent,
      streams,
      received,
      decrypted: this.#decrypted,
      wrongLayer: this.#wrongLayer,
      badTrailer: this.#badTrailer,
      skipped: this.#skipped,
      srtpErrors,
    };
  }

  /** Starts a measurement window: clears the latency samples and the tick-gap maximum. */
  startWindow(): GeneratorSnapshot {
    this.#latN = 0;
    this.#recording = true;
    this.#maxTickGapMs = 0;
    return this.snapshot();
  }

  /** Ends the window started with `a`. */
  endWindow(a: GeneratorSnapshot): WindowResult {
    const b = this.snapshot();
    this.#recording = false;
    const seconds = (b.atMs - a.atMs) / 1000;
    let expected = 0;
    let received = 0;
    let silent = 0;
    for (const [key, sb] of b.streams) {
      const sa = a.streams.get(key);
      if (sa === undefined) {
        expected += sb.count; // appeared inside the window: count what came
        received += sb.count;
        continue;
      }
      const e = sb.hi - sa.hi;
      const r = sb.count - sa.count;
      if (r === 0) silent++;
      expected += Math.max(e, r);
      received += r;
    }
    const lost = expected - received;
    const lat = this.#lat.subarray(0, this.#latN).slice().sort();
    const pct = (p: number): number => (lat.length === 0 ? Number.NaN : (lat[Math.min(lat.length - 1, Math.max(0, Math.ceil((p / 100) * lat.length) - 1))] as number));
    return {
      seconds,
      offeredPps: (b.sent - a.sent) / seconds,
      receivedPps: (b.received - a.received) / seconds,
      expected,
      received,
      lost,
      lossPercent: expected > 0 ? (100 * lost) / expected : Number.NaN,
      silentStreams: silent,
      decrypted: b.decrypted - a.decrypted,
      wrongLayer: b.wrongLayer - a.wrongLayer,
      badTrailer: b.badTrailer - a.badTrailer,
      skipped: b.skipped - a.skipped,
      srtpErrors: b.srtpErrors - a.srtpErrors,
      generatorCpuPercent: (100 * (b.cpuUs - a.cpuUs)) / 1e6 / seconds,
      latencySamples: lat.length,
      latencyP50Ms: pct(50),
      latencyP99Ms: pct(99),
      latencyMaxMs: lat.length === 0 ? Number.NaN : (lat[lat.length - 1] as number),
      maxTickGapMs: this.#maxTickGapMs,
    };
  }

  /** Stops sending. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Stops sending and closes every client transport and socket. */
  async close(): Promise<void> {
    this.stop();
    for (const c of this.#clients) c.transport.close();
    await Promise.all(this.#clients.map((c) => c.mux.close()));
    this.#clients.length = 0;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
