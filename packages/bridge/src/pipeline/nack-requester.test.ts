import { describe, expect, it } from 'vitest';
import { NACK_MAX_AGE_MS, NACK_MAX_GAP, NACK_MAX_TRIES, NACK_PENDING_MAX, NackRequester } from './nack-requester.js';

function due(r: NackRequester, nowMs: number, retryMs = 50): number[] {
  const out = new Uint16Array(NACK_PENDING_MAX);
  return [...out.subarray(0, r.collect(nowMs, retryMs, out))];
}

describe('NackRequester', () => {
  it('marks skipped sequence numbers missing and requests them at once', () => {
    const r = new NackRequester();
    expect(r.onPacket(10, 0)).toBe(0);
    expect(r.onPacket(11, 1)).toBe(0);
    expect(r.onPacket(14, 2)).toBe(2);
    expect(r.pending).toBe(2);
    expect(due(r, 2)).toEqual([12, 13]);
    // Not again before the retry interval.
    expect(due(r, 20)).toEqual([]);
    expect(due(r, 52)).toEqual([12, 13]);
    expect(r.requests).toBe(4);
  });

  it('clears a number when it arrives late or as a retransmission, and counts it recovered', () => {
    const r = new NackRequester();
    r.onPacket(100, 0);
    r.onPacket(105, 0);
    expect(r.onPacket(102, 5)).toBe(0);
    expect(due(r, 5)).toEqual([101, 103, 104]);
    r.onPacket(101, 6);
    r.onPacket(104, 6);
    expect(due(r, 100)).toEqual([103]);
    expect(r.missing).toBe(4);
    expect(r.recovered).toBe(3);
    // A duplicate of something never missing changes nothing.
    r.onPacket(100, 7);
    expect(r.recovered).toBe(3);
  });

  it('works across the 16-bit wrap', () => {
    const r = new NackRequester();
    r.onPacket(65534, 0);
    expect(r.onPacket(2, 0)).toBe(3);
    expect(due(r, 0)).toEqual([65535, 0, 1]);
    r.onPacket(0, 1);
    expect(due(r, 100)).toEqual([65535, 1]);
  });

  it('gives up after the maximum tries and age', () => {
    const r = new NackRequester();
    r.onPacket(1, 0);
    r.onPacket(3, 0);
    let sent = 0;
    for (let t = 0; t < 20; t++) sent += due(r, t * 50).length;
    expect(sent).toBe(NACK_MAX_TRIES);
    expect(r.pending).toBe(0);
    const old = new NackRequester();
    old.onPacket(1, 0);
    old.onPacket(3, 0);
    expect(due(old, NACK_MAX_AGE_MS + 1)).toEqual([]);
    expect(old.pending).toBe(0);
  });

  it('takes a large jump as a restart, not loss, and keeps at most NACK_PENDING_MAX numbers', () => {
    const r = new NackRequester();
    r.onPacket(1000, 0);
    expect(r.onPacket(1000 + NACK_MAX_GAP + 2, 0)).toBe(0);
    expect(r.pending).toBe(0);
    let seq = 5000;
    r.onPacket(seq, 0);
    for (let i = 0; i < 100; i++) {
      seq += 3;
      r.onPacket(seq, 0);
    }
    expect(r.pending).toBe(NACK_PENDING_MAX);
    const first = due(r, 0);
    expect(first.length).toBe(NACK_PENDING_MAX);
    // The oldest gave way: the newest missing numbers are the ones kept, in order.
    expect(first.at(-1)).toBe(seq - 1);
    expect(first[0]).toBeGreaterThan(5000);
  });
});
