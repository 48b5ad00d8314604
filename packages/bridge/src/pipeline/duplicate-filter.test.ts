import { describe, expect, it } from 'vitest';
import { SeqWindow } from './duplicate-filter.js';

describe('SeqWindow', () => {
  it('tells new, duplicate and too-old sequence numbers apart across the 16-bit wrap', () => {
    const w = new SeqWindow(16);
    expect(w.check(65530)).toBe('new');
    expect(w.check(65535)).toBe('new');
    expect(w.check(2)).toBe('new');
    expect(w.check(65535)).toBe('duplicate');
    expect(w.check(65533)).toBe('new'); // late, still in the window
    expect(w.check(65533)).toBe('duplicate');
    expect(w.check(40)).toBe('new');
    expect(w.check(3)).toBe('too-old');
    w.reset();
    expect(w.check(3)).toBe('new');
  });
});
