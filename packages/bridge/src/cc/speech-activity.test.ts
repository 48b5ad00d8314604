import { describe, expect, it } from 'vitest';
import { SpeechActivity, type DominantSpeakerChange, type SpeechActivityOptions } from './speech-activity.js';

const SILENT = 127;
const TALK = 35;

/** Level of each endpoint at time t, or undefined for "no packet" (DTX). */
type Script = Record<string, (t: number) => number | undefined>;

interface Change {
  at: number;
  change: DominantSpeakerChange;
}

/** Feeds 20 ms audio packets for every endpoint of `script` from `from` to `to` (exclusive). */
function play(sa: SpeechActivity, script: Script, from: number, to: number): Change[] {
  const changes: Change[] = [];
  for (let t = from; t < to; t += 20) {
    for (const [id, level] of Object.entries(script)) {
      const l = level(t);
      if (l === undefined) continue;
      const c = sa.onAudioLevel(id, l, t);
      if (c !== undefined) changes.push({ at: t, change: c });
    }
  }
  return changes;
}

const always = (level: number) => () => level;
const between = (start: number, end: number, level: number) => (t: number) => (t >= start && t < end ? level : SILENT);

function fresh(options: SpeechActivityOptions = {}, ids = ['a', 'b', 'c']): SpeechActivity {
  const sa = new SpeechActivity(options);
  for (const id of ids) sa.addEndpoint(id);
  return sa;
}

describe('SpeechActivity', () => {
  it('a loud endpoint becomes dominant after a short time', () => {
    const sa = fresh();
    const changes = play(sa, { a: always(SILENT), b: always(TALK), c: always(SILENT) }, 0, 2000);
    expect(changes).toHaveLength(1);
    expect(changes[0]?.change).toEqual({ dominantSpeaker: 'b', previousSpeakers: ['a', 'c'], silence: false });
    expect(changes[0]?.at).toBeGreaterThanOrEqual(300);
    expect(changes[0]?.at).toBeLessThanOrEqual(700);
    expect(sa.dominantSpeaker).toBe('b');
    expect(sa.speakerOrder()).toEqual(['b', 'a', 'c']);
  });

  it('nobody is dominant before anybody speaks; silence is reported', () => {
    const sa = fresh();
    expect(play(sa, { a: always(SILENT), b: always(100) }, 0, 3000)).toEqual([]);
    expect(sa.dominantSpeaker).toBeNull();
    expect(sa.silence).toBe(true);
  });

  const coughs: Array<[name: string, cough: (t: number) => number]> = [
    ['a single loud packet', (t) => (t === 3000 ? 0 : SILENT)],
    ['a 100 ms burst', between(3000, 3100, 0)],
    ['a 200 ms burst', between(3000, 3200, 5)],
  ];
  for (const [name, cough] of coughs) {
    it(`${name} from another endpoint does not switch`, () => {
      const sa = fresh();
      play(sa, { a: always(TALK), b: always(SILENT) }, 0, 2000);
      expect(sa.dominantSpeaker).toBe('a');
      // a pauses (silence) while b coughs: still no switch.
      const changes = play(sa, { a: between(0, 2800, TALK), b: cough }, 2000, 6000);
      expect(changes).toEqual([]);
      expect(sa.dominantSpeaker).toBe('a');
    });

    it(`${name} alone does not make anybody dominant`, () => {
      const sa = fresh();
      expect(play(sa, { a: always(SILENT), b: cough }, 0, 5000)).toEqual([]);
      expect(sa.dominantSpeaker).toBeNull();
    });
  }

  it('silence keeps the last dominant speaker', () => {
    const sa = fresh();
    play(sa, { a: between(0, 2000, TALK), b: always(SILENT) }, 0, 2000);
    expect(sa.dominantSpeaker).toBe('a');
    expect(play(sa, { a: always(SILENT), b: always(SILENT) }, 2000, 12_000)).toEqual([]);
    expect(sa.dominantSpeaker).toBe('a');
    expect(sa.silence).toBe(true);
  });

  it('silence by DTX (no packets at all) also keeps the dominant speaker; a timer update notices it', () => {
    const sa = fresh();
    play(sa, { a: always(TALK) }, 0, 2000);
    expect(sa.silence).toBe(false);
    expect(sa.update(5000)).toBeUndefined();
    expect(sa.silence).toBe(true);
    expect(sa.dominantSpeaker).toBe('a');
  });

  it('alternating speakers do not flap faster than the hold time', () => {
    const sa = fresh({ minHoldMs: 1500 });
    const turn = 400;
    const script: Script = {
      a: (t) => (Math.floor(t / turn) % 2 === 0 ? TALK : SILENT),
      b: (t) => (Math.floor(t / turn) % 2 === 1 ? TALK : SILENT),
    };
    const changes = play(sa, script, 0, 20_000);
    for (let i = 1; i < changes.length; i++) {
      expect((changes[i]?.at ?? 0) - (changes[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(1500);
    }
    expect(changes.length).toBeLessThanOrEqual(Math.ceil(20_000 / 1500) + 1);
  });

  it('equally loud overlapping speakers do not take over from the dominant one', () => {
    const sa = fresh();
    play(sa, { a: always(TALK), b: always(SILENT) }, 0, 3000);
    expect(play(sa, { a: always(TALK), b: always(TALK) }, 3000, 10_000)).toEqual([]);
    expect(sa.dominantSpeaker).toBe('a');
  });

  it('a clearly louder speaker takes over while the dominant one keeps talking', () => {
    const sa = fresh();
    play(sa, { a: always(45), b: always(SILENT) }, 0, 3000);
    const changes = play(sa, { a: always(45), b: always(20) }, 3000, 6000);
    expect(changes.map((c) => c.change.dominantSpeaker)).toEqual(['b']);
    expect(changes[0]?.at).toBeLessThan(4000);
  });

  it('the next speaker takes over soon after the dominant one stops', () => {
    const sa = fresh();
    play(sa, { a: between(0, 3000, TALK), b: always(SILENT) }, 0, 3000);
    const changes = play(sa, { a: always(SILENT), b: between(3000, 9000, TALK) }, 3000, 9000);
    expect(changes.map((c) => c.change.dominantSpeaker)).toEqual(['b']);
    expect(changes[0]?.at).toBeLessThanOrEqual(3000 + 1000);
    expect(changes[0]?.change.previousSpeakers).toEqual(['a', 'c']);
  });

  it('the speaker order is most recent dominant first, then join order', () => {
    const sa = fresh({}, ['a', 'b', 'c', 'd']);
    play(sa, { c: always(TALK) }, 0, 2000);
    play(sa, { c: always(SILENT), a: always(TALK) }, 2000, 5000);
    expect(sa.speakerOrder()).toEqual(['a', 'c', 'b', 'd']);
  });

  it('an unknown endpoint is added on its first audio level', () => {
    const sa = new SpeechActivity();
    play(sa, { x: always(TALK) }, 0, 1000);
    expect(sa.dominantSpeaker).toBe('x');
    expect(sa.speakerOrder()).toEqual(['x']);
  });

  it('when the dominant speaker leaves, the previous one takes over', () => {
    const sa = fresh();
    play(sa, { b: always(TALK) }, 0, 2000);
    play(sa, { b: always(SILENT), c: always(TALK) }, 2000, 5000);
    expect(sa.speakerOrder()).toEqual(['c', 'b', 'a']);
    expect(sa.removeEndpoint('c', 5000)).toEqual({ dominantSpeaker: 'b', previousSpeakers: ['a'], silence: false });
    expect(sa.removeEndpoint('a', 5000)).toBeUndefined();
    expect(sa.removeEndpoint('zz', 5000)).toBeUndefined();
    expect(sa.removeEndpoint('b', 5000)).toBeUndefined();
    expect(sa.dominantSpeaker).toBeNull();
  });

  it('clamps out-of-range and NaN levels', () => {
    const sa = fresh();
    play(sa, { a: always(-20), b: always(Number.NaN), c: always(400) }, 0, 1000);
    expect(sa.dominantSpeaker).toBe('a');
  });

  it('levels at the threshold count as speech, above it not', () => {
    const at = fresh({ speechLevelThreshold: 50 });
    play(at, { a: always(50) }, 0, 1000);
    expect(at.dominantSpeaker).toBe('a');
    const above = fresh({ speechLevelThreshold: 50 });
    play(above, { a: always(51) }, 0, 1000);
    expect(above.dominantSpeaker).toBeNull();
  });

  it('time going backwards is treated as now', () => {
    const sa = fresh();
    play(sa, { a: always(TALK) }, 0, 1000);
    expect(() => sa.onAudioLevel('b', TALK, 10)).not.toThrow();
    expect(sa.dominantSpeaker).toBe('a');
  });
});
