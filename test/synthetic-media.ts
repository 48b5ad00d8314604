/**
 * Synthetic media for headless test participants: RTP as a browser sends it, without codecs.
 *
 * - audio: an Opus-like packet every 20 ms with the ssrc-audio-level header extension (RFC 6464: voice, -20 dBov);
 * - video: VP8 at 30 fps per simulcast layer with a full RFC 7741 payload descriptor (15-bit PictureID, TL0PICIDX,
 *   TID 0) and a VP8 payload header whose key frames carry the start code and the layer's resolution; a key frame
 *   first and every 30 frames. Every frame is one packet with the marker bit, or `videoPacketsPerFrame` packets
 *   (the first starts the partition, the last has the marker bit);
 * - a flood on request ({@link MediaPump.flood}): one layer sends a frame of 1200-byte packets every 5 ms at a given
 *   bit rate instead of its 30 fps (a misbehaving sender, for the bridge's receive rate limit).
 *
 * The pump only builds packets; `send` puts them on the wire (below werift's RTP sender, on the DTLS transport).
 */

/** A tiny RTP builder (one-byte header extensions, RFC 8285). */
export function rtpPacket(o: { pt: number; seq: number; ts: number; ssrc: number; marker?: boolean; ext?: Array<[number, number[]]>; payload: number[] }): Buffer {
  const ext = o.ext ?? [];
  let extBytes: number[] = [];
  if (ext.length > 0) {
    for (const [id, data] of ext) extBytes.push((id << 4) | (data.length - 1), ...data);
    while (extBytes.length % 4 !== 0) extBytes.push(0);
    extBytes = [0xbe, 0xde, (extBytes.length / 4) >> 8, (extBytes.length / 4) & 0xff, ...extBytes];
  }
  const b = Buffer.alloc(12 + extBytes.length + o.payload.length);
  b[0] = 0x80 | (ext.length > 0 ? 0x10 : 0);
  b[1] = (o.marker ? 0x80 : 0) | o.pt;
  b.writeUInt16BE(o.seq & 0xffff, 2);
  b.writeUInt32BE(o.ts >>> 0, 4);
  b.writeUInt32BE(o.ssrc >>> 0, 8);
  Buffer.from(extBytes).copy(b, 12);
  Buffer.from(o.payload).copy(b, 12 + extBytes.length);
  return b;
}

/** Offset of the VP8 payload header after the RFC 7741 descriptor, when this packet starts a partition 0. */
function vp8HeaderOffset(payload: Buffer): number | undefined {
  const b0 = payload[0];
  if (b0 === undefined || (b0 & 0x10) === 0 || (b0 & 0x07) !== 0) return undefined;
  let i = 1;
  if ((b0 & 0x80) !== 0) {
    const x = payload[i++] ?? 0;
    if ((x & 0x80) !== 0) i += ((payload[i] ?? 0) & 0x80) !== 0 ? 2 : 1;
    if ((x & 0x40) !== 0) i++;
    if ((x & 0x30) !== 0) i++;
  }
  return i;
}

/** True for the first packet of a VP8 key frame (RFC 7741 §4.2–4.3: S=1, PID 0, payload header P=0, start code). */
export function isVp8KeyFrame(payload: Buffer): boolean {
  const i = vp8HeaderOffset(payload);
  if (i === undefined) return false;
  const h = payload[i];
  return h !== undefined && (h & 0x01) === 0 && payload[i + 3] === 0x9d && payload[i + 4] === 0x01 && payload[i + 5] === 0x2a;
}

/** Width × height of a VP8 key frame (RFC 6386 §9.1, 14 bits each), or undefined for other packets. */
export function vp8KeyFrameSize(payload: Buffer): { width: number; height: number } | undefined {
  if (!isVp8KeyFrame(payload)) return undefined;
  const i = vp8HeaderOffset(payload) ?? 0;
  if (payload.length < i + 10) return undefined;
  return { width: payload.readUInt16LE(i + 6) & 0x3fff, height: payload.readUInt16LE(i + 8) & 0x3fff };
}

export interface VideoLayer {
  ssrc: number;
  width: number;
  height: number;
}

/** Simulcast layer resolutions as Chrome sends them for a 720p camera (low → high). */
export const SIMULCAST_SIZES: ReadonlyArray<readonly [number, number]> = [
  [320, 180],
  [640, 360],
  [1280, 720],
];

interface LayerState extends VideoLayer {
  seq: number;
  ts: number;
  pic: number;
  tl0: number;
  frames: number;
  keyRequested: boolean;
}

export interface PumpOptions {
  audioSsrc: number;
  audioPt: number;
  audioLevelExtId: number;
  videoPt: number;
  layers: VideoLayer[];
  /** RTP packets per VP8 frame (default 1). */
  videoPacketsPerFrame?: number;
}

interface Flood {
  layer: LayerState;
  bytesPerMs: number;
  packetBytes: number;
  startedAt: number;
  bytes: number;
  timer: NodeJS.Timeout;
}

/** Sends audio every 20 ms and a VP8 frame per layer every 33 ms through `send` while started. */
export class MediaPump {
  readonly #opts: PumpOptions;
  readonly #audio = { seq: 1000, ts: 50_000 };
  readonly #layers: LayerState[];
  #timers: NodeJS.Timeout[] = [];
  #send: ((packet: Buffer) => void) | undefined;
  #flood: Flood | undefined;
  sent = 0;
  /** Bytes of RTP sent (headers included). */
  sentBytes = 0;
  /** Packets and bytes sent by {@link flood}. */
  readonly flooded = { packets: 0, bytes: 0 };

  constructor(opts: PumpOptions) {
    this.#opts = opts;
    this.#layers = opts.layers.map((l, i) => ({ ...l, seq: 2000 + i * 10_000, ts: 90_000, pic: 0x1234 + i * 100, tl0: 0, frames: 0, keyRequested: false }));
  }

  get running(): boolean {
    return this.#timers.length > 0;
  }

  start(send: (packet: Buffer) => void): void {
    this.stop();
    const level = 0x80 | 20;
    const out = (packet: Buffer): void => {
      send(packet);
      this.sent++;
      this.sentBytes += packet.length;
    };
    this.#send = out;
    this.#timers.push(
      setInterval(() => {
        const a = this.#audio;
        out(rtpPacket({ pt: this.#opts.audioPt, seq: a.seq, ts: a.ts, ssrc: this.#opts.audioSsrc, ext: [[this.#opts.audioLevelExtId, [level]]], payload: [0xfc, 0xff, 0xfe, 0x01] }));
        a.seq = (a.seq + 1) & 0xffff;
        a.ts = (a.ts + 960) >>> 0;
      }, 20),
      setInterval(() => {
        const n = this.#opts.videoPacketsPerFrame ?? 1;
        for (const v of this.#layers) {
          if (this.#flood?.layer === v) continue;
          if (n <= 1) out(this.#frame(v));
          else for (const p of this.#frameOf(v, n, 0)) out(p);
        }
      }, 33),
    );
  }

  /**
   * Sends the layer with this SSRC as a flood of `bitrateBps`: every 5 ms one VP8 frame of `packetBytes`-byte
   * packets, as many as keep the average rate (timer lateness is made up for). Its ordinary frames stop meanwhile.
   */
  flood(ssrc: number, bitrateBps: number, packetBytes = 1200): void {
    this.stopFlood();
    const layer = this.#layers.find((l) => l.ssrc === ssrc);
    if (layer === undefined) throw new Error(`no video layer with SSRC ${ssrc}`);
    const f: Flood = { layer, bytesPerMs: bitrateBps / 8 / 1000, packetBytes, startedAt: performance.now(), bytes: 0, timer: setInterval(() => this.#floodTick(f), 5) };
    this.#flood = f;
  }

  stopFlood(): void {
    if (this.#flood !== undefined) clearInterval(this.#flood.timer);
    this.#flood = undefined;
  }

  #floodTick(f: Flood): void {
    const send = this.#send;
    if (send === undefined || !this.running) return;
    const due = (performance.now() - f.startedAt) * f.bytesPerMs - f.bytes;
    const n = Math.min(200, Math.floor(due / f.packetBytes));
    if (n <= 0) return;
    for (const p of this.#frameOf(f.layer, n, f.packetBytes, 450)) {
      send(p);
      f.bytes += p.length;
      this.flooded.packets++;
      this.flooded.bytes += p.length;
    }
  }

  /** Makes the next frame of the layer with this SSRC (of every layer when omitted) a key frame, as an encoder does on PLI/FIR. */
  keyFrame(ssrc?: number): void {
    for (const v of this.#layers) if (ssrc === undefined || v.ssrc === ssrc) v.keyRequested = true;
  }

  /**
   * The next VP8 frame of a layer as `n` RTP packets of `size` bytes each (0: as small as the frame is), the first
   * starting the partition, the last with the marker bit; `tsStep` 90 kHz ticks after the previous frame.
   */
  #frameOf(v: LayerState, n: number, size: number, tsStep = 3000): Buffer[] {
    const key = v.frames % 30 === 0 || v.keyRequested;
    v.keyRequested = false;
    v.frames++;
    v.tl0 = (v.tl0 + 1) & 0xff;
    const out: Buffer[] = [];
    for (let k = 0; k < n; k++) {
      // Payload descriptor: X, S on the first packet, PID 0; I with a 15-bit PictureID, L TL0PICIDX, T TID 0.
      const desc = [k === 0 ? 0x90 : 0x80, 0xe0, 0x80 | ((v.pic >> 8) & 0x7f), v.pic & 0xff, v.tl0, 0x00];
      const body =
        k > 0
          ? [0xcc, 0xdd]
          : key
            ? [0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, v.width & 0xff, (v.width >> 8) & 0x3f, v.height & 0xff, (v.height >> 8) & 0x3f, 0xaa, 0xbb]
            : [0x11, 0x02, 0x00, 0xaa, 0xbb, 0xcc];
      const payload = [...desc, ...body];
      while (size > 0 && payload.length < size - 12) payload.push(0x55);
      out.push(rtpPacket({ pt: this.#opts.videoPt, seq: v.seq, ts: v.ts, ssrc: v.ssrc, marker: k === n - 1, payload }));
      v.seq = (v.seq + 1) & 0xffff;
    }
    v.ts = (v.ts + tsStep) >>> 0;
    v.pic = (v.pic + 1) & 0x7fff;
    return out;
  }

  /** The next VP8 frame of a layer, as one RTP packet (key frame first, every 30 frames, and on request). */
  #frame(v: LayerState): Buffer {
    const key = v.frames % 30 === 0 || v.keyRequested;
    v.keyRequested = false;
    v.frames++;
    v.tl0 = (v.tl0 + 1) & 0xff;
    // Payload descriptor: X, S, PID 0; I with a 15-bit PictureID, L TL0PICIDX, T TID 0.
    const desc = [0x90, 0xe0, 0x80 | ((v.pic >> 8) & 0x7f), v.pic & 0xff, v.tl0, 0x00];
    // VP8 payload header: a key frame (P=0) with start code and 14-bit width/height, or an inter frame.
    const body = key
      ? [0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, v.width & 0xff, (v.width >> 8) & 0x3f, v.height & 0xff, (v.height >> 8) & 0x3f, 0xaa, 0xbb]
      : [0x11, 0x02, 0x00, 0xaa, 0xbb, 0xcc];
    const packet = rtpPacket({ pt: this.#opts.videoPt, seq: v.seq, ts: v.ts, ssrc: v.ssrc, marker: true, payload: [...desc, ...body] });
    v.seq = (v.seq + 1) & 0xffff;
    v.ts = (v.ts + 3000) >>> 0;
    v.pic = (v.pic + 1) & 0x7fff;
    return packet;
  }

  stop(): void {
    this.stopFlood();
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
  }
}
