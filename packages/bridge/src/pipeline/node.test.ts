import { describe, expect, it } from 'vitest';
import { PacketInfo, PacketInfoPool } from '../rtp/packet-info.js';
import { consumer, filter, observer, pipeline, transformer } from './node.js';

function packet(pool: PacketInfoPool, first: number): PacketInfo {
  const p = pool.acquire();
  p.buffer[0] = first;
  p.length = 1;
  return p;
}

describe('pipeline nodes', () => {
  it('chains transformer → filter → observer → consumer, counting in/out/drops per node', () => {
    const pool = new PacketInfoPool({ bufferSize: 16 });
    const released: PacketInfo[] = [];
    const consumed: number[] = [];
    const seen: number[] = [];
    const pl = pipeline('test', (p) => {
      released.push(p);
      pool.release(p);
    }, (b) => {
      b.node(transformer('t', (p) => ((p.buffer[0] as number) === 0 ? 'zero' : p)));
      b.node(filter('odd-only', (p) => ((p.buffer[0] as number) & 1) === 1, 'even'));
      b.node(observer('o', (p) => seen.push(p.buffer[0] as number)));
      b.node(consumer('c', (p) => {
        consumed.push(p.buffer[0] as number);
        pool.release(p);
      }));
    });
    for (const v of [0, 1, 2, 3]) pl.process(packet(pool, v));
    expect(consumed).toEqual([1, 3]);
    expect(seen).toEqual([1, 3]);
    expect(released).toHaveLength(2);
    const s = pl.stats();
    expect(s.packetsIn).toBe(4);
    expect(s.packetsOut).toBe(2);
    expect(s.dropped).toBe(2);
    expect(s.children?.map((c) => [c.name, c.packetsIn, c.packetsOut, c.drops])).toEqual([
      ['t', 4, 3, { zero: 1 }],
      ['odd-only', 3, 2, { even: 1 }],
      ['o', 2, 2, {}],
      ['c', 2, 2, {}],
    ]);
  });

  it('a demux sends each packet down the first matching path; no match is a counted drop', () => {
    const pool = new PacketInfoPool({ bufferSize: 16 });
    const got: string[] = [];
    let releases = 0;
    const pl = pipeline('demux', () => releases++, (b) => {
      b.demux('kind', (d) => {
        d.path('small', (p) => (p.buffer[0] as number) < 10, (x) => x.node(consumer('s', () => got.push('small'))));
        d.path('big', (p) => (p.buffer[0] as number) < 100, (x) => x.node(consumer('b', () => got.push('big'))));
      });
    });
    pl.process(packet(pool, 5));
    pl.process(packet(pool, 50));
    pl.process(packet(pool, 200));
    expect(got).toEqual(['small', 'big']);
    expect(releases).toBe(1);
    const demux = pl.stats().children?.[0];
    expect(demux?.drops).toEqual({ 'no-path': 1 });
    expect(demux?.children?.map((c) => [c.name, c.packetsIn])).toEqual([
      ['small', 1],
      ['big', 1],
    ]);
  });

  it('an exception inside a node is counted and the packet released; the pipeline keeps working', () => {
    const pool = new PacketInfoPool({ bufferSize: 16 });
    let releases = 0;
    let ok = 0;
    const pl = pipeline('x', () => releases++, (b) => {
      b.node(observer('boom', (p) => {
        if (p.buffer[0] === 9) throw new Error('bug');
      }));
      b.node(consumer('c', () => ok++));
    });
    pl.process(packet(pool, 9));
    pl.process(packet(pool, 1));
    expect(releases).toBe(1);
    expect(ok).toBe(1);
    expect(pl.stats().children?.[0]?.drops).toEqual({ exception: 1 });
  });

  it('forwarding past the last node releases the packet; unbindSsrc reaches every node', () => {
    let released = 0;
    const unbound: number[] = [];
    const pl = pipeline('tail', () => released++, (b) => {
      b.node(observer('o', () => {}, (ssrc) => unbound.push(ssrc)));
      b.node(transformer('t', (p) => p, (ssrc) => unbound.push(ssrc + 1)));
    });
    pl.process(new PacketInfo(Buffer.alloc(4)));
    expect(released).toBe(1);
    pl.unbindSsrc(10);
    expect(unbound).toEqual([10, 11]);
  });
});
