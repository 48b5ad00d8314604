import { describe, expect, it } from 'vitest';
import {
  createVp8PayloadDescriptor,
  parseVp8PayloadDescriptor,
  rewriteVp8PictureId,
  rewriteVp8Tl0PicIdx,
  vp8PictureIdDelta,
  writeVp8PictureId,
  writeVp8Tl0PicIdx,
  type Vp8ParseResult,
} from './vp8.js';

interface Spec {
  n?: boolean;
  s?: boolean;
  pid?: number;
  /** PictureID: undefined = absent; with `m` true it is 15-bit. */
  picture?: number;
  m?: boolean;
  tl0?: number;
  tid?: number;
  y?: boolean;
  keyIdx?: number;
  /** Force X = 1 even with no optional field. */
  x?: boolean;
}

/** Builds a descriptor by hand, bit by bit as drawn in RFC 7741 §4.2. */
function descriptor(spec: Spec): number[] {
  const hasI = spec.picture !== undefined;
  const hasL = spec.tl0 !== undefined;
  const hasT = spec.tid !== undefined;
  const hasK = spec.keyIdx !== undefined;
  const x = spec.x === true || hasI || hasL || hasT || hasK;
  const out: number[] = [];
  out.push((x ? 0x80 : 0) | (spec.n === true ? 0x20 : 0) | (spec.s === true ? 0x10 : 0) | ((spec.pid ?? 0) & 7));
  if (x) {
    out.push((hasI ? 0x80 : 0) | (hasL ? 0x40 : 0) | (hasT ? 0x20 : 0) | (hasK ? 0x10 : 0));
    if (hasI) {
      const pic = spec.picture ?? 0;
      if (spec.m === true) out.push(0x80 | ((pic >> 8) & 0x7f), pic & 0xff);
      else out.push(pic & 0x7f);
    }
    if (hasL) out.push((spec.tl0 ?? 0) & 0xff);
    if (hasT || hasK) out.push((((spec.tid ?? 0) & 3) << 6) | (spec.y === true ? 0x20 : 0) | ((spec.keyIdx ?? 0) & 0x1f));
  }
  return out;
}

/** VP8 payload header of a key frame 1280x720 (RFC 6386 §9.1): frame tag with P = 0, start code, sizes. */
const KEY_HEADER = [0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x00, 0x05, 0xd0, 0x02];
/** Interframe payload header: P = 1. */
const DELTA_HEADER = [0x31, 0x02, 0x00, 0xaa, 0xbb];

function parse(bytes: number[], pad = 0) {
  // Surround with junk to prove offsets are honoured.
  const buf = Buffer.from([0xee, 0xee, ...bytes, ...new Array<number>(pad).fill(0xee)]);
  const d = createVp8PayloadDescriptor();
  const r = parseVp8PayloadDescriptor(buf, 2, bytes.length, d);
  return { r, d, buf };
}

describe('parseVp8PayloadDescriptor()', () => {
  const combos: Spec[] = [];
  for (const i of [false, true])
    for (const m of [false, true])
      for (const l of [false, true])
        for (const t of [false, true])
          for (const k of [false, true]) {
            if (!i && m) continue;
            combos.push({
              ...(i ? { picture: m ? 0x5a5a : 0x5a, m } : {}),
              ...(l ? { tl0: 0xc3 } : {}),
              ...(t ? { tid: 2, y: true } : {}),
              ...(k ? { keyIdx: 0x15 } : {}),
            });
          }
  combos.push({ x: true }); // X = 1 with an empty extension byte
  combos.push({}); // X = 0

  for (const spec of combos) {
    for (const n of [false, true]) {
      for (const s of [false, true]) {
        const full: Spec = { ...spec, n, s, pid: 0 };
        const name = JSON.stringify(full);
        it(`reads every field of ${name}`, () => {
          const desc = descriptor(full);
          const { r, d } = parse([...desc, ...DELTA_HEADER]);
          expect(r).toBe<Vp8ParseResult>('ok');
          expect(d.size).toBe(desc.length);
          expect(d.extended).toBe(desc.length > 1);
          expect(d.nonReference).toBe(n);
          expect(d.startOfPartition).toBe(s);
          expect(d.partitionIndex).toBe(0);
          expect(d.pictureId).toBe(spec.picture ?? -1);
          expect(d.pictureIdBits).toBe(spec.picture === undefined ? 0 : spec.m === true ? 15 : 7);
          expect(d.pictureIdOffset).toBe(spec.picture === undefined ? -1 : 4);
          expect(d.tl0PicIdx).toBe(spec.tl0 ?? -1);
          expect(d.tid).toBe(spec.tid ?? -1);
          expect(d.layerSync).toBe(spec.y === true);
          expect(d.keyIdx).toBe(spec.keyIdx ?? -1);
          expect(d.isStartOfFrame).toBe(s);
          expect(d.isKeyframe).toBe(false);
        });

        it(`reports every truncation of ${name}`, () => {
          const desc = descriptor(full);
          for (let len = 0; len < desc.length; len++) {
            const { r } = parse(desc.slice(0, len), 4);
            expect(r).not.toBe('ok');
            expect(r).toBe(expectedTruncation(full, len));
          }
          expect(parse(desc, 4).r).toBe('no-payload');
        });
      }
    }
  }

  it('reads every PID and only PID 0 with S = 1 starts a frame', () => {
    for (let pid = 0; pid < 8; pid++) {
      for (const s of [false, true]) {
        const { r, d } = parse([...descriptor({ s, pid, picture: 1, m: true }), ...KEY_HEADER]);
        expect(r).toBe('ok');
        expect(d.partitionIndex).toBe(pid);
        expect(d.isStartOfFrame).toBe(s && pid === 0);
        // The P bit is only meaningful at the start of partition 0 (RFC 7741 §4.3).
        expect(d.isKeyframe).toBe(s && pid === 0);
      }
    }
  });

  it('detects a key frame by P = 0 and reads its size (RFC 6386 §9.1)', () => {
    const { r, d } = parse([...descriptor({ s: true, picture: 300, m: true, tl0: 4, tid: 0 }), ...KEY_HEADER]);
    expect(r).toBe('ok');
    expect(d.isKeyframe).toBe(true);
    expect(d.width).toBe(1280);
    expect(d.height).toBe(720);
  });

  it('masks the scale bits out of the key frame width and height', () => {
    const hdr = [...KEY_HEADER];
    hdr[7] = 0x05 | 0xc0; // width 1280, horizontal scale 3
    hdr[9] = 0x02 | 0x40; // height 720, vertical scale 1
    const { d } = parse([...descriptor({ s: true }), ...hdr]);
    expect([d.width, d.height]).toEqual([1280, 720]);
  });

  it('a key frame with a short or wrong-start-code header is still a key frame, without size', () => {
    const short = parse([...descriptor({ s: true }), 0x10, 0x02]);
    expect(short.r).toBe('ok');
    expect(short.d.isKeyframe).toBe(true);
    expect([short.d.width, short.d.height]).toEqual([-1, -1]);
    const badCode = [...KEY_HEADER];
    badCode[3] = 0x00;
    const wrong = parse([...descriptor({ s: true }), ...badCode]);
    expect(wrong.d.isKeyframe).toBe(true);
    expect(wrong.d.height).toBe(-1);
  });

  it('an interframe (P = 1) at the start of a frame is not a key frame', () => {
    const { d } = parse([...descriptor({ s: true, tid: 1 }), ...DELTA_HEADER]);
    expect(d.isStartOfFrame).toBe(true);
    expect(d.isKeyframe).toBe(false);
    expect(d.width).toBe(-1);
  });

  it('a continuation packet whose first payload byte has P = 0 is not a key frame', () => {
    const { d } = parse([...descriptor({ s: false }), 0x00, 0x00]);
    expect(d.isKeyframe).toBe(false);
  });

  it('ignores reserved bits and the TID/Y of a K-only byte', () => {
    const bytes = [0x80 | 0x40 | 0x08 | 0x10, 0x10 | 0x0f, 0xff, 0x01];
    const { r, d } = parse(bytes);
    expect(r).toBe('ok');
    expect(d.startOfPartition).toBe(true);
    expect(d.tid).toBe(-1);
    expect(d.layerSync).toBe(false);
    expect(d.keyIdx).toBe(0x1f);
  });

  it('tolerates L = 1 without T = 1', () => {
    const { r, d } = parse([0x90, 0x40, 0x07, 0x01]);
    expect(r).toBe('ok');
    expect(d.tl0PicIdx).toBe(7);
    expect(d.tid).toBe(-1);
  });

  it('reads TID 0..3 and the Y bit', () => {
    for (let tid = 0; tid < 4; tid++) {
      for (const y of [false, true]) {
        const { d } = parse([...descriptor({ tid, y }), 0x01]);
        expect(d.tid).toBe(tid);
        expect(d.layerSync).toBe(y);
      }
    }
  });

  it('empty payload is typed as empty', () => {
    expect(parse([]).r).toBe('empty');
    const d = createVp8PayloadDescriptor();
    expect(parseVp8PayloadDescriptor(Buffer.alloc(4), 0, -1, d)).toBe('empty');
  });

  it('resets stale fields from a previous parse', () => {
    const d = createVp8PayloadDescriptor();
    const a = Buffer.from([...descriptor({ s: true, picture: 9, m: true, tl0: 1, tid: 1, y: true, keyIdx: 3 }), ...KEY_HEADER]);
    expect(parseVp8PayloadDescriptor(a, 0, a.length, d)).toBe('ok');
    const b = Buffer.from([0x00, 0x01]);
    expect(parseVp8PayloadDescriptor(b, 0, b.length, d)).toBe('ok');
    expect(d).toEqual(createFresh(1));
  });
});

function createFresh(size: number) {
  return { ...createVp8PayloadDescriptor(), size };
}

function expectedTruncation(spec: Spec, len: number): Vp8ParseResult {
  if (len === 0) return 'empty';
  if (len === 1) return 'truncated-extension';
  let need = 2;
  if (spec.picture !== undefined) {
    need += spec.m === true ? 2 : 1;
    if (len < need) return 'truncated-picture-id';
  }
  if (spec.tl0 !== undefined) {
    need += 1;
    if (len < need) return 'truncated-tl0picidx';
  }
  if (spec.tid !== undefined || spec.keyIdx !== undefined) {
    need += 1;
    if (len < need) return 'truncated-tid-keyidx';
  }
  throw new Error(`length ${len} is not a truncation`);
}

describe('writeVp8PictureId() / writeVp8Tl0PicIdx()', () => {
  it('rewrites a 15-bit PictureID in place, keeping M and the neighbours', () => {
    const { d, buf } = parse([...descriptor({ s: true, picture: 0x1234, m: true, tl0: 9, tid: 1 }), ...DELTA_HEADER], 2);
    const before = Buffer.from(buf);
    expect(writeVp8PictureId(buf, d, 0x7abc)).toBe(true);
    expect(d.pictureId).toBe(0x7abc);
    const again = createVp8PayloadDescriptor();
    expect(parseVp8PayloadDescriptor(buf, 2, buf.length - 4, again)).toBe('ok');
    expect(again.pictureId).toBe(0x7abc);
    expect(again.pictureIdBits).toBe(15);
    expect(again.tl0PicIdx).toBe(9);
    // Only the two PictureID bytes changed.
    const changed = [...buf].flatMap((b, i) => (b === before[i] ? [] : [i]));
    expect(changed).toEqual([4, 5]);
  });

  it('wraps a 15-bit value modulo 2^15', () => {
    const { d, buf } = parse([...descriptor({ picture: 1, m: true }), 0x01]);
    writeVp8PictureId(buf, d, 0x8000 + 5);
    expect(d.pictureId).toBe(5);
    expect([buf[4], buf[5]]).toEqual([0x80, 0x05]);
  });

  it('keeps a 7-bit PictureID 7 bits wide (mod 128, M = 0)', () => {
    const { d, buf } = parse([...descriptor({ picture: 0x11 }), 0x01]);
    expect(writeVp8PictureId(buf, d, 0x1ff)).toBe(true);
    expect(buf[4]).toBe(0x7f);
    expect(d.pictureId).toBe(0x7f);
  });

  it('refuses to write fields that are absent', () => {
    const { d, buf } = parse([...descriptor({ tid: 0 }), 0x01]);
    const before = Buffer.from(buf);
    expect(writeVp8PictureId(buf, d, 3)).toBe(false);
    expect(writeVp8Tl0PicIdx(buf, d, 3)).toBe(false);
    expect(buf.equals(before)).toBe(true);
  });

  it('rewrites TL0PICIDX modulo 256', () => {
    const { d, buf } = parse([...descriptor({ picture: 2, m: true, tl0: 255, tid: 0 }), 0x01]);
    expect(writeVp8Tl0PicIdx(buf, d, 256 + 7)).toBe(true);
    expect(buf[6]).toBe(7);
    expect(d.tl0PicIdx).toBe(7);
  });
});

describe('rewriteVp8PictureId() / rewriteVp8Tl0PicIdx() (standalone)', () => {
  const cases: Array<{ name: string; spec: Spec; pic: boolean; tl0: boolean }> = [
    { name: '15-bit + TL0', spec: { picture: 77, m: true, tl0: 5, tid: 0 }, pic: true, tl0: true },
    { name: '7-bit + TL0', spec: { picture: 7, tl0: 5 }, pic: true, tl0: true },
    { name: 'TL0 only', spec: { tl0: 5 }, pic: false, tl0: true },
    { name: 'PictureID only', spec: { picture: 7, m: true }, pic: true, tl0: false },
    { name: 'no extension', spec: {}, pic: false, tl0: false },
  ];
  for (const c of cases) {
    it(`${c.name}: agrees with the parser`, () => {
      const bytes = [...descriptor(c.spec), 0x01];
      const buf = Buffer.from(bytes);
      expect(rewriteVp8PictureId(buf, 0, buf.length, 0x2345)).toBe(c.pic);
      expect(rewriteVp8Tl0PicIdx(buf, 0, buf.length, 0x1a9)).toBe(c.tl0);
      const d = createVp8PayloadDescriptor();
      expect(parseVp8PayloadDescriptor(buf, 0, buf.length, d)).toBe('ok');
      if (c.pic) expect(d.pictureId).toBe(c.spec.m === true ? 0x2345 : 0x45);
      if (c.tl0) expect(d.tl0PicIdx).toBe(0xa9);
    });
  }

  it('does not write past a truncated PictureID or TL0PICIDX', () => {
    const buf = Buffer.from([0x80, 0xc0, 0x81]);
    expect(rewriteVp8PictureId(buf, 0, 3, 1)).toBe(false);
    expect(rewriteVp8Tl0PicIdx(buf, 0, 3, 1)).toBe(false);
    expect([...buf]).toEqual([0x80, 0xc0, 0x81]);
    expect(rewriteVp8Tl0PicIdx(Buffer.from([0x80, 0x40]), 0, 2, 1)).toBe(false);
    expect(rewriteVp8PictureId(Buffer.from([0x80, 0x80]), 0, 2, 1)).toBe(false);
  });
});

describe('vp8PictureIdDelta()', () => {
  it.each([
    [5, 3, 15, 2],
    [3, 5, 15, -2],
    [0, 0x7fff, 15, 1],
    [0x7fff, 0, 15, -1],
    [0, 127, 7, 1],
    [127, 0, 7, -1],
    [64, 0, 7, 64],
  ] as const)('delta(%i, %i) over %i bits is %i', (a, b, bits, want) => {
    expect(vp8PictureIdDelta(a, b, bits)).toBe(want);
  });
});
