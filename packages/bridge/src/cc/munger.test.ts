import { describe, expect, it } from 'vitest';
import { createVp8PayloadDescriptor, parseVp8PayloadDescriptor, type Vp8PayloadDescriptor } from '../codecs/vp8.js';
import { RtpMunger, type MungeResult, type RtpMungerOptions } from './munger.js';

const OUT_SSRC = 0xa1b2c3d4;
const SSRCS = [0x11111111, 0x22222222, 0x33333333];

interface Pkt {
  e?: number;
  seq: number;
  ts: number;
  marker?: boolean;
  /** PictureID; null = no I field. */
  pic?: number | null;
  /** 7-bit PictureID field instead of 15-bit. */
  short?: boolean;
  tl0?: number | null;
  tid?: number;
  key?: boolean;
  start?: boolean;
}

interface Built {
  buf: Buffer;
  vp8: Vp8PayloadDescriptor | null;
  e: number;
}

/** An RTP packet (RFC 3550 §5.1) with a VP8 descriptor (RFC 7741 §4.2), placed at offset 3 of a larger buffer. */
function build(p: Pkt, vp8 = true): Built {
  const head = [0x80, (p.marker === true ? 0x80 : 0) | 96, (p.seq >> 8) & 0xff, p.seq & 0xff];
  const ts = p.ts >>> 0;
  head.push((ts >>> 24) & 0xff, (ts >>> 16) & 0xff, (ts >>> 8) & 0xff, ts & 0xff);
  const ssrc = SSRCS[p.e ?? 0] ?? 0;
  head.push((ssrc >>> 24) & 0xff, (ssrc >>> 16) & 0xff, (ssrc >>> 8) & 0xff, ssrc & 0xff);
  const payload: number[] = [];
  if (vp8) {
    const pic = p.pic === undefined ? 0 : p.pic;
    const tl0 = p.tl0 === undefined ? 0 : p.tl0;
    const start = p.start ?? true;
    payload.push(0x80 | (start ? 0x10 : 0));
    payload.push((pic !== null ? 0x80 : 0) | (tl0 !== null ? 0x40 : 0) | 0x20);
    if (pic !== null) {
      if (p.short === true) payload.push(pic & 0x7f);
      else payload.push(0x80 | ((pic >> 8) & 0x7f), pic & 0xff);
    }
    if (tl0 !== null) payload.push(tl0 & 0xff);
    payload.push(((p.tid ?? 0) & 3) << 6);
    payload.push(p.key === true ? 0x10 : 0x11, 0, 0);
  } else {
    payload.push(1, 2, 3);
  }
  const buf = Buffer.from([0xee, 0xee, 0xee, ...head, ...payload, 0xee]);
  let d: Vp8PayloadDescriptor | null = null;
  if (vp8) {
    d = createVp8PayloadDescriptor();
    expect(parseVp8PayloadDescriptor(buf, 15, payload.length, d)).toBe('ok');
  }
  return { buf, vp8: d, e: p.e ?? 0 };
}

interface Out {
  result: MungeResult;
  seq: number;
  ts: number;
  ssrc: number;
  pic: number;
  tl0: number;
}

function read(b: Built, result: MungeResult): Out {
  const at = 3;
  const d = createVp8PayloadDescriptor();
  let pic = -1;
  let tl0 = -1;
  if (b.vp8 !== null) {
    parseVp8PayloadDescriptor(b.buf, at + 12, b.buf.length - at - 13, d);
    pic = d.pictureId;
    tl0 = d.tl0PicIdx;
  }
  return {
    result,
    seq: b.buf.readUInt16BE(at + 2),
    ts: b.buf.readUInt32BE(at + 4),
    ssrc: b.buf.readUInt32BE(at + 8),
    pic,
    tl0,
  };
}

class Harness {
  readonly m: RtpMunger;
  now = 0;
  constructor(options: Partial<RtpMungerOptions> = {}) {
    this.m = new RtpMunger({ ssrc: OUT_SSRC, ...options });
  }
  fwd(p: Pkt, vp8 = true): Out {
    const b = build(p, vp8);
    const r = this.m.munge(b.buf, 3, b.buf.length - 4, b.e, b.vp8, this.now);
    return read(b, r);
  }
  drop(p: Pkt, vp8 = true): void {
    const b = build(p, vp8);
    const before = Buffer.from(b.buf);
    this.m.drop(b.buf, 3, b.buf.length - 4, b.e, b.vp8, this.now);
    expect(b.buf.equals(before)).toBe(true);
  }
  /** Forwards and returns [seq, ts, pic, tl0], asserting it was forwarded with the output SSRC. */
  f(p: Pkt, vp8 = true): [number, number, number, number] {
    const o = this.fwd(p, vp8);
    expect(o.result).toBe('forward');
    expect(o.ssrc).toBe(OUT_SSRC);
    return [o.seq, o.ts, o.pic, o.tl0];
  }
}

describe('RtpMunger: one encoding', () => {
  it('the first packet passes through unchanged except the SSRC', () => {
    const h = new Harness();
    expect(h.f({ seq: 1000, ts: 5000, pic: 200, tl0: 7, key: true })).toEqual([1000, 5000, 200, 7]);
    expect(h.f({ seq: 1001, ts: 8000, pic: 201, tl0: 7, tid: 2 })).toEqual([1001, 8000, 201, 7]);
  });

  it('rewrites only the SSRC, sequence number, timestamp, PictureID and TL0PICIDX bytes', () => {
    const h = new Harness();
    h.f({ seq: 1, ts: 1, pic: 1, tl0: 1, key: true });
    h.f({ e: 1, seq: 500, ts: 90_000, pic: 900, tl0: 90, key: true });
    const b = build({ e: 1, seq: 501, ts: 93_000, pic: 901, tl0: 90, marker: true });
    const before = Buffer.from(b.buf);
    expect(h.m.munge(b.buf, 3, b.buf.length - 4, 1, b.vp8, 0)).toBe('forward');
    const changed = [...b.buf].flatMap((v, i) => (v === before[i] ? [] : [i]));
    // seq 5-6, ts 7-10, ssrc 11-14, PictureID 17-18, TL0PICIDX 19; padding bytes 0-2 and the tail untouched.
    expect(changed.every((i) => (i >= 5 && i <= 14) || (i >= 17 && i <= 19))).toBe(true);
    expect(b.buf[1 + 1]).toBe(0xee);
    expect(b.buf[b.buf.length - 1]).toBe(0xee);
  });

  it('temporal drops leave no gap in sequence numbers or PictureIDs; TL0PICIDX and timestamps are untouched', () => {
    const h = new Harness();
    const tids = [0, 2, 1, 2, 0, 2, 1, 2, 0];
    const out: Array<[number, number, number, number]> = [];
    let seq = 100;
    tids.forEach((tid, i) => {
      const tl0 = 10 + Math.floor(i / 4);
      // Two packets per frame.
      const a: Pkt = { seq: seq++, ts: i * 3000, pic: 50 + i, tl0, tid, key: i === 0, start: true };
      const b: Pkt = { seq: seq++, ts: i * 3000, pic: 50 + i, tl0, tid, start: false, marker: true };
      if (tid === 2) {
        h.drop(a);
        h.drop(b);
      } else {
        out.push(h.f(a), h.f(b));
      }
    });
    expect(out.map((o) => o[0])).toEqual([100, 101, 102, 103, 104, 105, 106, 107, 108, 109]);
    expect(out.map((o) => o[2])).toEqual([50, 50, 51, 51, 52, 52, 53, 53, 54, 54]);
    expect(out.map((o) => o[3])).toEqual([10, 10, 10, 10, 11, 11, 11, 11, 12, 12]);
    expect(out.map((o) => o[1])).toEqual([0, 0, 6000, 6000, 12000, 12000, 18000, 18000, 24000, 24000]);
  });

  it('a loss stays a gap, and the late packet fills exactly that number', () => {
    const h = new Harness();
    expect(h.f({ seq: 10, ts: 0, pic: 1 })[0]).toBe(10);
    expect(h.f({ seq: 12, ts: 0, pic: 1 })[0]).toBe(12);
    expect(h.f({ seq: 11, ts: 0, pic: 1 })[0]).toBe(11);
  });

  it('a hole keeps its number even after later drops shifted the stream', () => {
    const h = new Harness();
    h.f({ seq: 10, ts: 0, pic: 1, marker: true });
    // 11 is lost; 12 (frame 2) dropped; 13 (frame 3) forwarded.
    h.drop({ seq: 12, ts: 3000, pic: 2, tid: 2, marker: true });
    expect(h.f({ seq: 13, ts: 6000, pic: 3, tid: 1, marker: true })).toEqual([12, 6000, 2, 0]);
    // 11 was the last packet of frame 1 and arrives late (retransmitted): it gets the reserved 11.
    expect(h.f({ seq: 11, ts: 0, pic: 1, start: false, marker: true })).toEqual([11, 0, 1, 0]);
  });

  it('out-of-order packets across frames keep their numbers', () => {
    const h = new Harness();
    h.f({ seq: 1, ts: 0, pic: 1, key: true });
    // Frame 2 = seq 2..3, frame 3 = seq 4; seq 3 arrives after 4.
    expect(h.f({ seq: 2, ts: 3000, pic: 2 })).toEqual([2, 3000, 2, 0]);
    expect(h.f({ seq: 4, ts: 6000, pic: 3 })).toEqual([4, 6000, 3, 0]);
    expect(h.f({ seq: 3, ts: 3000, pic: 2, start: false })).toEqual([3, 3000, 2, 0]);
  });

  it('a retransmission of a forwarded packet gets the same sequence number', () => {
    const h = new Harness();
    h.f({ seq: 100, ts: 0, pic: 1 });
    h.drop({ seq: 101, ts: 3000, pic: 2, tid: 2 });
    const first = h.f({ seq: 102, ts: 6000, pic: 3 });
    h.f({ seq: 103, ts: 9000, pic: 4 });
    expect(first[0]).toBe(101);
    expect(h.f({ seq: 102, ts: 6000, pic: 3 })).toEqual(first);
  });

  it('refuses a retransmission of a packet that was never forwarded, and one older than the history', () => {
    const h = new Harness({ historySize: 16 });
    h.f({ seq: 100, ts: 0, pic: 1 });
    h.drop({ seq: 101, ts: 3000, pic: 2, tid: 2 });
    expect(h.fwd({ seq: 101, ts: 3000, pic: 2, tid: 2 }).result).toBe('drop-not-forwarded');
    for (let s = 102; s < 140; s++) h.f({ seq: s, ts: s * 100, pic: 3 + Math.floor((s - 102) / 4) });
    expect(h.fwd({ seq: 100, ts: 0, pic: 1 }).result).toBe('drop-too-old');
  });

  it('a late packet of a dropped frame is refused even when the selector lets it through', () => {
    const h = new Harness();
    h.f({ seq: 1, ts: 0, pic: 1 });
    h.drop({ seq: 2, ts: 3000, pic: 2, tid: 2 });
    h.f({ seq: 4, ts: 6000, pic: 3 });
    // seq 3 (a hole) belongs to dropped picture 2.
    expect(h.fwd({ seq: 3, ts: 3000, pic: 2, tid: 2, start: false }).result).toBe('drop-not-forwarded');
    expect(h.f({ seq: 5, ts: 6000, pic: 3, start: false })[0]).toBe(4);
  });

  it('16-bit sequence wrap (65535 → 0) on input and on output', () => {
    const h = new Harness();
    const seqs = [65533, 65534, 65535, 0, 1, 2];
    expect(seqs.map((seq, i) => h.f({ seq, ts: i * 3000, pic: i })[0])).toEqual(seqs);
    // Output wrap: forward 65534, drop 65535 → the input 0 becomes output 65535, 1 becomes 0.
    const g = new Harness();
    g.f({ seq: 65534, ts: 0, pic: 10 });
    g.drop({ seq: 65535, ts: 3000, pic: 11, tid: 2 });
    expect(g.f({ seq: 0, ts: 6000, pic: 12 })[0]).toBe(65535);
    expect(g.f({ seq: 1, ts: 9000, pic: 13 })[0]).toBe(0);
    expect(g.f({ seq: 65534, ts: 0, pic: 10 })[0]).toBe(65534); // old packet across the wrap
  });

  it('32-bit timestamp wrap passes through', () => {
    const h = new Harness();
    const ts = [0xffffe000, 0xfffff000, 0x00000100, 0x00001100];
    expect(ts.map((t, i) => h.f({ seq: i, ts: t, pic: i })[1])).toEqual(ts);
  });

  it('15-bit PictureID wrap', () => {
    const h = new Harness();
    const pics = [32766, 32767, 0, 1];
    expect(pics.map((pic, i) => h.f({ seq: i, ts: i * 3000, pic })[2])).toEqual(pics);
    // Drops across the wrap collapse too.
    const g = new Harness();
    g.f({ seq: 1, ts: 0, pic: 32767 });
    g.drop({ seq: 2, ts: 3000, pic: 0, tid: 2 });
    expect(g.f({ seq: 3, ts: 6000, pic: 1 })[2]).toBe(0);
  });

  it('7-bit PictureIDs stay 7 bits and wrap at 128', () => {
    const h = new Harness();
    const out = [126, 127, 0, 1].map((pic, i) => h.f({ seq: i, ts: i, pic, short: true })[2]);
    expect(out).toEqual([126, 127, 0, 1]);
    h.drop({ seq: 4, ts: 4, pic: 2, short: true, tid: 2 });
    expect(h.f({ seq: 5, ts: 5, pic: 3, short: true })[2]).toBe(2);
  });

  it('8-bit TL0PICIDX wrap', () => {
    const h = new Harness();
    expect([254, 255, 0, 1].map((tl0, i) => h.f({ seq: i, ts: i, pic: i, tl0 })[3])).toEqual([254, 255, 0, 1]);
  });

  it('packets without a VP8 descriptor get SSRC, sequence and timestamp rewriting only', () => {
    const h = new Harness();
    expect(h.f({ seq: 7, ts: 70 }, false)).toEqual([7, 70, -1, -1]);
    h.drop({ seq: 8, ts: 80 }, false);
    expect(h.f({ seq: 9, ts: 90 }, false)).toEqual([8, 90, -1, -1]);
  });

  it('packets without PictureID or TL0PICIDX fields are handled', () => {
    const h = new Harness();
    expect(h.f({ seq: 1, ts: 1, pic: null, tl0: null })).toEqual([1, 1, -1, -1]);
    expect(h.f({ seq: 2, ts: 2, pic: 5, tl0: null })).toEqual([2, 2, 5, -1]);
  });

  it('rejects malformed input without touching the buffer', () => {
    const h = new Harness({ encodingCount: 2 });
    const b = build({ seq: 1, ts: 1, e: 2 });
    expect(h.m.munge(b.buf, 3, b.buf.length - 4, 2, b.vp8, 0)).toBe('drop-malformed');
    expect(h.m.munge(b.buf, 3, 11, 0, b.vp8, 0)).toBe('drop-malformed');
    h.m.drop(b.buf, 3, 11, 0, b.vp8, 0);
    expect(h.m.state().sequenceNumber).toBe(-1);
  });
});

describe('RtpMunger: switching encodings', () => {
  /** Forwards frames of `e` from (seq, ts, pic, tl0); each frame is one packet with the marker bit. */
  function stream(h: Harness, e: number, seq: number, ts: number, pic: number, tl0: number, frames: number, key = false) {
    const out: Array<[number, number, number, number]> = [];
    for (let i = 0; i < frames; i++) {
      out.push(h.f({ e, seq: seq + i, ts: ts + i * 3000, pic: pic + i, tl0: tl0 + i, marker: true, key: key && i === 0 }));
      h.now += 33;
    }
    return out;
  }

  it('up-switch continues seq +1, PictureID +1, TL0PICIDX +1 and the timestamp by the elapsed time', () => {
    const h = new Harness();
    const low = stream(h, 0, 1000, 10_000, 300, 40, 3, true); // last out: seq 1002, ts 16000, pic 302, tl0 42
    expect(low[2]).toEqual([1002, 16_000, 302, 42]);
    h.now += 100 - 33; // key frame of encoding 2 arrives 100 ms after the last forwarded frame
    const high = stream(h, 2, 50_000, 777_777, 9000, 200, 3, true);
    expect(high[0]).toEqual([1003, 16_000 + 9000, 303, 43]);
    expect(high[1]).toEqual([1004, 16_000 + 9000 + 3000, 304, 44]);
    expect(high[2]).toEqual([1005, 16_000 + 9000 + 6000, 305, 45]);
  });

  it('a switch sooner than one frame interval still advances the timestamp by 3000', () => {
    const h = new Harness();
    h.f({ e: 0, seq: 1, ts: 0, pic: 1, tl0: 1, marker: true, key: true });
    h.now += 5;
    expect(h.f({ e: 1, seq: 900, ts: 12_345, pic: 77, tl0: 9, key: true, marker: true })).toEqual([2, 3000, 2, 2]);
  });

  it('the minimum switch gap is configurable', () => {
    const h = new Harness({ minSwitchGapTicks: 1 });
    h.f({ e: 0, seq: 1, ts: 0, pic: 1, tl0: 1, marker: true, key: true });
    h.now += 5;
    expect(h.f({ e: 1, seq: 900, ts: 12_345, pic: 77, tl0: 9, key: true })[1]).toBe(450);
  });

  it('leaves one extra sequence number when the last forwarded frame was incomplete', () => {
    const h = new Harness();
    h.f({ e: 0, seq: 10, ts: 0, pic: 1, key: true });
    h.f({ e: 0, seq: 11, ts: 0, pic: 1, start: false }); // no marker: frame not finished
    h.now += 40;
    expect(h.f({ e: 1, seq: 500, ts: 1, pic: 9, key: true })[0]).toBe(13);
  });

  it('down-switch and back up: every epoch continues the output', () => {
    const h = new Harness();
    const a = stream(h, 2, 100, 0, 10, 0, 2, true);
    const b = stream(h, 0, 7000, 3_000_000, 20_000, 100, 2, true);
    const c = stream(h, 2, 106, 18_000, 16, 6, 2, true); // encoding 2 again, later in its own numbering
    const all = [...a, ...b, ...c];
    expect(all.map((o) => o[0])).toEqual([100, 101, 102, 103, 104, 105]);
    expect(all.map((o) => o[2])).toEqual([10, 11, 12, 13, 14, 15]);
    expect(all.map((o) => o[3])).toEqual([0, 1, 2, 3, 4, 5]);
    const ts = all.map((o) => o[1]);
    for (let i = 1; i < ts.length; i++) expect((ts[i] ?? 0) - (ts[i - 1] ?? 0)).toBe(3000);
    expect(h.m.state().encoding).toBe(2);
  });

  it('after a switch, packets of the new encoding from before the switch point are refused', () => {
    const h = new Harness();
    stream(h, 0, 1, 0, 1, 1, 2, true);
    stream(h, 1, 500, 0, 50, 5, 2, true);
    expect(h.fwd({ e: 1, seq: 499, ts: 0, pic: 49, tl0: 4 }).result).toBe('drop-before-switch');
  });

  it('drops of the encoding not being forwarded are ignored', () => {
    const h = new Harness();
    h.f({ e: 0, seq: 1, ts: 0, pic: 1, key: true, marker: true });
    h.drop({ e: 2, seq: 500, ts: 0, pic: 50 });
    expect(h.f({ e: 0, seq: 2, ts: 3000, pic: 2, marker: true })[0]).toBe(2);
  });

  it('switch across output wraps: sequence 65535 → 0, PictureID 32767 → 0, TL0PICIDX 255 → 0, timestamp 2^32 → 0', () => {
    const h = new Harness();
    h.f({ e: 0, seq: 65535, ts: 0xfffff000, pic: 32767, tl0: 255, key: true, marker: true });
    h.now += 50;
    expect(h.f({ e: 1, seq: 1234, ts: 5, pic: 4321, tl0: 17, key: true, marker: true })).toEqual([
      0,
      (0xfffff000 + 4500) >>> 0,
      0,
      0,
    ]);
    h.now += 33;
    expect(h.f({ e: 1, seq: 1235, ts: 3005, pic: 4322, tl0: 18, marker: true })).toEqual([1, (0xfffff000 + 7500) >>> 0, 1, 1]);
  });

  it('a switch from a 15-bit to a 7-bit PictureID stream keeps counting', () => {
    const h = new Harness();
    h.f({ e: 0, seq: 1, ts: 0, pic: 200, marker: true, key: true });
    h.now += 40;
    expect(h.f({ e: 1, seq: 9, ts: 0, pic: 5, short: true, key: true })[2]).toBe(201 & 0x7f);
  });
});

describe('RtpMunger: resync and hand-over', () => {
  it('a jump larger than the history starts a new epoch that continues the output', () => {
    const h = new Harness({ historySize: 64 });
    h.f({ seq: 10, ts: 0, pic: 1, marker: true });
    h.now += 1000;
    expect(h.f({ seq: 10 + 65, ts: 1_000_000, pic: 500, key: true, marker: true })).toEqual([11, 90_000, 2, 1]);
  });

  it('a long run of drops (suspension) closes up', () => {
    const h = new Harness({ historySize: 64 });
    h.f({ seq: 10, ts: 0, pic: 1, marker: true });
    for (let s = 11; s < 300; s++) h.drop({ seq: s, ts: s * 100, pic: 2 + Math.floor((s - 11) / 3) });
    expect(h.f({ seq: 300, ts: 30_000, pic: 500, key: true })).toEqual([11, 30_000, 2, 0]);
  });

  it('an unannounced gap inside the history stays a gap (the receiver may NACK it)', () => {
    const h = new Harness({ historySize: 64 });
    h.f({ seq: 10, ts: 0, pic: 1 });
    expect(h.f({ seq: 40, ts: 0, pic: 1 })[0]).toBe(40);
  });

  it('initialState continues a slot stream (SSRC-rewriting hand-over)', () => {
    const a = new Harness();
    a.f({ seq: 500, ts: 1000, pic: 60, tl0: 6, key: true, marker: true });
    const st = a.m.state();
    expect(st).toEqual({
      ssrc: OUT_SSRC,
      sequenceNumber: 500,
      timestamp: 1000,
      pictureId: 60,
      tl0PicIdx: 6,
      frameArrivalMs: 0,
      frameComplete: true,
      encoding: 0,
    });
    const b = new Harness({ initialState: st });
    b.now = 200;
    expect(b.f({ e: 1, seq: 9, ts: 9, pic: 9, tl0: 9, key: true, marker: true })).toEqual([501, 1000 + 18_000, 61, 7]);
  });

  it('state() before any packet', () => {
    const h = new Harness();
    expect(h.m.state()).toMatchObject({ sequenceNumber: -1, timestamp: -1, pictureId: -1, tl0PicIdx: -1, encoding: -1 });
    expect(h.m.ssrc).toBe(OUT_SSRC);
    // An empty initial state is like none.
    const g = new Harness({ initialState: h.m.state() });
    expect(g.f({ seq: 3, ts: 4, pic: 5, tl0: 6 })).toEqual([3, 4, 5, 6]);
  });
});
