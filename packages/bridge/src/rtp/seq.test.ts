import { describe, expect, it } from 'vitest';
import {
  addSeq,
  addTimestamp,
  ExtendedSeqTracker,
  isNewerOrEqualSeq,
  isNewerSeq,
  isNewerTimestamp,
  seqDelta,
  timestampDelta,
  TimestampUnwrapper,
} from './seq.js';

describe('16-bit sequence arithmetic', () => {
  it('seqDelta() is signed with wraparound', () => {
    expect(seqDelta(5, 3)).toBe(2);
    expect(seqDelta(3, 5)).toBe(-2);
    expect(seqDelta(0, 65535)).toBe(1);
    expect(seqDelta(65535, 0)).toBe(-1);
    expect(seqDelta(32767, 0)).toBe(32767);
    expect(seqDelta(32768, 0)).toBe(-32768);
  });

  it('isNewerSeq() / isNewerOrEqualSeq() follow RFC 1982', () => {
    expect(isNewerSeq(1, 0)).toBe(true);
    expect(isNewerSeq(0, 65535)).toBe(true);
    expect(isNewerSeq(65535, 0)).toBe(false);
    expect(isNewerSeq(7, 7)).toBe(false);
    expect(isNewerOrEqualSeq(7, 7)).toBe(true);
    expect(isNewerSeq(0x7fff, 0)).toBe(true);
    expect(isNewerSeq(0x8000, 0)).toBe(false);
    expect(addSeq(65535, 2)).toBe(1);
    expect(addSeq(0, -1)).toBe(65535);
  });
});

describe('32-bit timestamp arithmetic', () => {
  it('timestampDelta() / isNewerTimestamp() wrap at 2^32', () => {
    expect(timestampDelta(10, 0xffff_fff0)).toBe(26);
    expect(timestampDelta(0xffff_fff0, 10)).toBe(-26);
    expect(isNewerTimestamp(10, 0xffff_fff0)).toBe(true);
    expect(isNewerTimestamp(0xffff_fff0, 10)).toBe(false);
    expect(isNewerTimestamp(5, 5)).toBe(false);
    expect(addTimestamp(0xffff_ffff, 3000)).toBe(2999);
  });
});

describe('ExtendedSeqTracker', () => {
  it('counts cycles through several wraps, in order and with reordering', () => {
    const t = new ExtendedSeqTracker();
    expect(t.highest).toBe(-1);
    expect(t.update(65530)).toBe(65530);
    expect(t.update(65535)).toBe(65535);
    expect(t.update(2)).toBe(65538);
    expect(t.update(65534)).toBe(65534); // late packet from the previous cycle
    expect(t.highest).toBe(65538);
    expect(t.cycles).toBe(1);
    let ext = 65538;
    for (let i = 0; i < 3 * 65536; i += 1000) ext = t.update((2 + i) & 0xffff);
    expect(ext).toBe(65538 + 196000);
    expect(t.cycles).toBe(Math.floor(ext / 65536));
    expect(t.peek((ext + 1) & 0xffff)).toBe(ext + 1);
    t.reset();
    expect(t.update(9)).toBe(9);
  });

  it('gives negative extended numbers to packets from before the first one across a wrap', () => {
    const t = new ExtendedSeqTracker();
    t.update(2);
    expect(t.update(65535)).toBe(-1);
    expect(t.highest).toBe(2);
  });
});

describe('TimestampUnwrapper', () => {
  it('unwraps forwards and backwards', () => {
    const u = new TimestampUnwrapper();
    expect(u.update(0xffff_ff00)).toBe(0xffff_ff00);
    expect(u.update(0x100)).toBe(0x1_0000_0100);
    expect(u.update(0xffff_ff80)).toBe(0xffff_ff80);
    expect(u.update(0x200)).toBe(0x1_0000_0200);
  });
});
