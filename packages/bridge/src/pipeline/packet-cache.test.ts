import { describe, expect, it } from 'vitest';
import { SourcePacketCache } from './packet-cache.js';

/** A packet of `len` bytes whose every byte is `(tag + i) & 0xff`. */
function pkt(tag: number, len: number): Buffer {
  const b = Buffer.alloc(len);
  for (let i = 0; i < len; i++) b[i] = (tag + i) & 0xff;
  return b;
}

function read(c: SourcePacketCache, id: number): Buffer | undefined {
  const out = Buffer.alloc(2048);
  const n = c.copy(id, out);
  return n < 0 ? undefined : out.subarray(0, n);
}

describe('SourcePacketCache', () => {
  it('allocates nothing until the first packet, then returns it by id; unknown ids miss', () => {
    const c = new SourcePacketCache({ maxBytes: 65536, maxAgeMs: 1000 });
    expect(c.capacityBytes).toBe(0);
    expect(read(c, 0)).toBeUndefined();
    const id = c.insert(pkt(7, 100), 100, 0);
    expect(c.capacityBytes).toBe(16384);
    expect(read(c, id)).toEqual(pkt(7, 100));
    expect(c.arrivalMs(id)).toBe(0);
    expect(c.size).toBe(1);
    expect(c.bytes).toBe(100);
    // Not yet inserted, negative, far away: misses.
    expect(read(c, id + 1)).toBeUndefined();
    expect(read(c, -1)).toBeUndefined();
    expect(read(c, id + 2 ** 31)).toBeUndefined();
    expect(c.arrivalMs(id + 1)).toBeNaN();
    // Too large for the buffer, or empty: not cached.
    expect(c.insert(pkt(1, 20000), 20000, 0)).toBe(-1);
    expect(c.insert(pkt(1, 0), 0, 0)).toBe(-1);
    // Too small an output buffer: refused.
    expect(c.copy(id, Buffer.alloc(50))).toBe(-1);
  });

  it('wraps round the byte ring and evicts by space once the packets are older than the max age', () => {
    const c = new SourcePacketCache({ maxBytes: 16384, maxAgeMs: 1000, initialBytes: 16384 });
    const ids: number[] = [];
    // 50 packets of 1000 bytes at t = 0…49 ms: 16 fit, the buffer can't grow (max), so the oldest go.
    for (let i = 0; i < 50; i++) ids.push(c.insert(pkt(i, 1000), 1000, i));
    expect(c.capacityBytes).toBe(16384);
    expect(c.size).toBe(16);
    for (let i = 0; i < 50; i++) {
      const got = read(c, ids[i] as number);
      if (i < 34) expect(got, `packet ${i}`).toBeUndefined();
      else expect(got, `packet ${i}`).toEqual(pkt(i, 1000));
    }
    // Sizes that don't divide the buffer: the end of the buffer is skipped, every live packet stays intact.
    const more: number[] = [];
    for (let i = 0; i < 200; i++) more.push(c.insert(pkt(i * 3, 300 + ((i * 97) % 900)), 300 + ((i * 97) % 900), 100 + i));
    let live = 0;
    for (let i = 0; i < 200; i++) {
      const got = read(c, more[i] as number);
      if (got === undefined) {
        expect(live, 'only the oldest are gone').toBe(0);
        continue;
      }
      live++;
      expect(got).toEqual(pkt(i * 3, 300 + ((i * 97) % 900)));
    }
    expect(live).toBe(c.size);
    expect(c.bytes).toBeLessThanOrEqual(16384);
  });

  it('grows instead of evicting packets younger than the max age, up to maxBytes', () => {
    const c = new SourcePacketCache({ maxBytes: 65536, maxAgeMs: 1000, initialBytes: 16384 });
    const ids: number[] = [];
    // 60 KB within 60 ms: the buffer doubles twice and keeps everything.
    for (let i = 0; i < 60; i++) ids.push(c.insert(pkt(i, 1000), 1000, i));
    expect(c.capacityBytes).toBe(65536);
    expect(c.size).toBe(60);
    for (let i = 0; i < 60; i++) expect(read(c, ids[i] as number)).toEqual(pkt(i, 1000));
    // At maxBytes the oldest give way even though they are young.
    for (let i = 60; i < 100; i++) ids.push(c.insert(pkt(i, 1000), 1000, i));
    expect(c.capacityBytes).toBe(65536);
    expect(read(c, ids[0] as number)).toBeUndefined();
    expect(read(c, ids[99] as number)).toEqual(pkt(99, 1000));
  });

  it('grows its index for many small packets, and evicts by age instead of growing for old ones', () => {
    const c = new SourcePacketCache({ maxBytes: 65536, maxAgeMs: 1000, initialEntries: 16, maxEntries: 64 });
    const ids: number[] = [];
    for (let i = 0; i < 64; i++) ids.push(c.insert(pkt(i, 30), 30, i));
    expect(c.capacityEntries).toBe(64);
    expect(c.size).toBe(64);
    expect(read(c, ids[0] as number)).toEqual(pkt(0, 30));
    // Index at its maximum: the oldest goes.
    ids.push(c.insert(pkt(64, 30), 30, 64));
    expect(c.size).toBe(64);
    expect(read(c, ids[0] as number)).toBeUndefined();
    expect(read(c, ids[64] as number)).toEqual(pkt(64, 30));

    // A slow source: every packet older than the max age by the time the index is full.
    const slow = new SourcePacketCache({ maxBytes: 65536, maxAgeMs: 1000, initialEntries: 16 });
    for (let i = 0; i < 100; i++) slow.insert(pkt(i, 30), 30, i * 1000);
    expect(slow.capacityEntries).toBe(16);
    expect(slow.capacityBytes).toBe(16384);
  });

  it('drops what is older than the max age when the ring comes round, and halves a buffer used to a quarter', () => {
    const c = new SourcePacketCache({ maxBytes: 1 << 20, maxAgeMs: 1000, initialBytes: 16384 });
    // A burst: 128 KB within 128 ms.
    for (let i = 0; i < 128; i++) c.insert(pkt(i, 1000), 1000, i);
    expect(c.capacityBytes).toBe(131072);
    // Then 10 packets/s of 500 bytes (5 KB younger than 1 s): each time the ring comes round, what is older than
    // 1 s goes and the buffer halves while that leaves it three quarters empty.
    const ids: number[] = [];
    for (let i = 0; i < 2000; i++) ids.push(c.insert(pkt(i, 500), 500, 10_000 + i * 100));
    expect(c.capacityBytes).toBe(16384);
    expect(c.size).toBeLessThanOrEqual(32);
    // The packets of the last second are all there.
    for (let i = 1990; i < 2000; i++) expect(read(c, ids[i] as number)).toEqual(pkt(i, 500));
    // 10 KB a second in a 32 KB buffer is not shrunk (it would have to grow again).
    const d = new SourcePacketCache({ maxBytes: 1 << 20, maxAgeMs: 1000, initialBytes: 16384 });
    for (let i = 0; i < 32; i++) d.insert(pkt(i, 1000), 1000, i);
    expect(d.capacityBytes).toBe(32768);
    for (let i = 0; i < 500; i++) d.insert(pkt(i, 1000), 1000, 1000 + i * 100);
    expect(d.capacityBytes).toBe(32768);
  });

  it('random sizes and rates: live packets are the newest, intact, and none younger than the max age is lost below maxBytes', () => {
    let seed = 12345;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const maxBytes = 64 * 1024;
    const c = new SourcePacketCache({ maxBytes, maxAgeMs: 1000, initialBytes: 16384, initialEntries: 16, maxEntries: 1024 });
    const ids: number[] = [];
    const lens: number[] = [];
    const times: number[] = [];
    const scratch = Buffer.alloc(2048);
    let now = 0;
    for (let i = 0; i < 6000; i++) {
      // Phases of different rates: 1–20 ms apart, then 20–200 ms apart, …
      now += (Math.floor(i / 1500) % 2 === 0 ? 1 : 20) + rnd(Math.floor(i / 1500) % 2 === 0 ? 20 : 180);
      const len = 1 + rnd(1500);
      ids.push(c.insert(pkt(i, len), len, now));
      lens.push(len);
      times.push(now);
      expect(c.bytes).toBeLessThanOrEqual(c.capacityBytes);
      expect(c.capacityBytes).toBeLessThanOrEqual(maxBytes);
      if (i % 50 !== 0) continue;
      let firstLive = -1;
      for (let k = 0; k <= i; k++) {
        const n = c.copy(ids[k] as number, scratch);
        if (n < 0) {
          if (firstLive >= 0) expect.fail(`packet ${k} missing after live ones`);
          if (c.capacityBytes < maxBytes && c.capacityEntries < 1024 && now - (times[k] as number) < 1000) {
            expect.fail(`young packet ${k} evicted`);
          }
          continue;
        }
        if (firstLive < 0) firstLive = k;
        const len = lens[k] as number;
        const intact = n === len && scratch[0] === (k & 0xff) && scratch[len >> 1] === ((k + (len >> 1)) & 0xff) && scratch[len - 1] === ((k + len - 1) & 0xff);
        if (!intact) expect(scratch.subarray(0, n), `packet ${k} intact`).toEqual(pkt(k, len));
      }
      expect(i - firstLive + 1).toBe(c.size);
    }
  });

  it('clear() frees the buffers; ids of before never match again', () => {
    const c = new SourcePacketCache({ maxBytes: 65536, maxAgeMs: 1000 });
    const a = c.insert(pkt(1, 100), 100, 0);
    c.clear();
    expect(c.capacityBytes).toBe(0);
    expect(c.size).toBe(0);
    expect(read(c, a)).toBeUndefined();
    const b = c.insert(pkt(2, 100), 100, 1);
    expect(b).not.toBe(a);
    expect(read(c, a)).toBeUndefined();
    expect(read(c, b)).toEqual(pkt(2, 100));
  });
});
