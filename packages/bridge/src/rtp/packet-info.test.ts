import { describe, expect, it } from 'vitest';
import { MediaKind, PacketInfo, PacketInfoPool } from './packet-info.js';
import { RtpParseStatus, writeRtpHeader } from './rtp-packet.js';

describe('PacketInfoPool', () => {
  it('reuses released PacketInfos with reset metadata', () => {
    const pool = new PacketInfoPool({ bufferSize: 1500, maxPooled: 2 });
    const a = pool.acquire();
    expect(a.capacity).toBe(1500);
    expect(a.buffer.byteOffset % 8).toBe(0);
    a.length = writeRtpHeader(a.buffer, { payloadType: 96, sequenceNumber: 1, timestamp: 2, ssrc: 3 }) + 10;
    expect(a.parseRtp()).toBe(RtpParseStatus.Ok);
    a.isKeyframe = true;
    a.mediaKind = MediaKind.Video;
    a.endpointId = 'ep1';
    pool.release(a);
    const b = pool.acquire();
    expect(b).toBe(a);
    expect([b.length, b.isKeyframe, b.mediaKind, b.endpointId, b.rtp.ssrc, b.encodingIndex]).toEqual([0, false, MediaKind.Unknown, undefined, 0, -1]);
    expect(pool.stats()).toEqual({ created: 1, pooled: 0, reused: 1 });
  });

  it('clone() copies bytes and metadata into an independent buffer', () => {
    const pool = new PacketInfoPool();
    const p = pool.acquire();
    p.length = writeRtpHeader(p.buffer, { payloadType: 100, sequenceNumber: 77, timestamp: 5, ssrc: 9 }) + 4;
    p.buffer.writeUInt32BE(0xdeadbeef, 12);
    p.parseRtp();
    p.temporalLayer = 2;
    p.receivedTimeUs = 1234;
    const c = pool.clone(p);
    expect(c).not.toBe(p);
    expect(c.view()).toEqual(p.view());
    expect([c.rtp.sequenceNumber, c.rtp.buffer === c.buffer, c.temporalLayer, c.receivedTimeUs]).toEqual([77, true, 2, 1234]);
    c.rtp.setSsrc(1);
    expect(p.rtp.ssrc).toBe(9);
    expect(p.buffer.readUInt32BE(8)).toBe(9);
  });

  it('clone() of a packet larger than the pool buffers gets its own buffer', () => {
    const pool = new PacketInfoPool({ bufferSize: 64 });
    const big = new PacketInfo(Buffer.alloc(200));
    big.length = 200;
    const c = pool.clone(big);
    expect(c.length).toBe(200);
    pool.release(c); // foreign size: not pooled
    expect(pool.stats().pooled).toBe(1);
  });
});
