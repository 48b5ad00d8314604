import { describe, expect, it } from 'vitest';
import { SafeEmitter } from './types.js';

interface Events {
  ping: [n: number];
  done: [];
}

class E extends SafeEmitter<Events> {
  errors: unknown[] = [];
  fire(n: number): void {
    this.safeEmit('ping', n);
  }
  protected override listenerError(_event: keyof Events, err: unknown): void {
    this.errors.push(err);
  }
}

describe('SafeEmitter', () => {
  it('calls listeners in order; a throwing listener is reported and does not stop the others', () => {
    const e = new E();
    const got: string[] = [];
    const one = (n: number): void => {
      got.push(`one${n}`);
    };
    e.on('ping', () => {
      throw new Error('bad listener');
    });
    e.on('ping', one);
    e.once('ping', (n) => got.push(`once${n}`));
    e.fire(1);
    e.fire(2);
    expect(got).toEqual(['one1', 'once1', 'one2']);
    expect(e.errors).toHaveLength(2);
    e.off('ping', one);
    expect(e.listenerCount('ping')).toBe(1);
    e.removeAllListeners();
    expect(e.listenerCount('ping')).toBe(0);
  });
});
