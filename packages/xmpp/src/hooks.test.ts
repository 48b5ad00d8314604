import { describe, expect, it } from 'vitest';
import { HookBus } from './hooks.js';

describe('HookBus', () => {
  it('fire with no handlers returns undefined (and has() is false)', () => {
    const bus = new HookBus<number>();
    expect(bus.has('x')).toBe(false);
    expect(bus.fire('x', 1)).toBeUndefined();
  });

  it('passes the event to the handler and returns its result', () => {
    const bus = new HookBus<{ n: number }>();
    bus.on('x', (e) => e.n * 2);
    expect(bus.has('x')).toBe(true);
    expect(bus.fire('x', { n: 21 })).toBe(42);
  });

  it('runs handlers in descending priority; equal priorities in registration order', () => {
    const bus = new HookBus<string[]>();
    bus.on('x', (log) => void log.push('p0-a'));
    bus.on('x', (log) => void log.push('p10'), 10);
    bus.on('x', (log) => void log.push('p-5'), -5);
    bus.on('x', (log) => void log.push('p0-b'), 0);
    bus.on('x', (log) => void log.push('p10-b'), 10);
    bus.on('x', (log) => void log.push('p1000'), 1000);
    const log: string[] = [];
    expect(bus.fire('x', log)).toBeUndefined();
    expect(log).toEqual(['p1000', 'p10', 'p10-b', 'p0-a', 'p0-b', 'p-5']);
  });

  it('stops at the first handler that returns something other than undefined', () => {
    const bus = new HookBus<string[]>();
    bus.on('x', (log) => void log.push('low'), -1);
    bus.on('x', (log) => {
      log.push('mid');
      return 'handled';
    }, 5);
    bus.on('x', (log) => void log.push('high'), 10);
    const log: string[] = [];
    expect(bus.fire('x', log)).toBe('handled');
    expect(log).toEqual(['high', 'mid']);
  });

  it('falsy results other than undefined (false, null, 0, "") also stop propagation', () => {
    for (const v of [false, null, 0, '']) {
      const bus = new HookBus<string[]>();
      bus.on('x', () => v, 1);
      bus.on('x', (log) => void log.push('should not run'));
      const log: string[] = [];
      expect(bus.fire('x', log)).toBe(v);
      expect(log).toEqual([]);
    }
  });

  it('a single handler returning undefined gives undefined', () => {
    const bus = new HookBus<number>();
    bus.on('x', () => undefined);
    expect(bus.fire('x', 0)).toBeUndefined();
  });

  it('events are independent by name', () => {
    const bus = new HookBus<number>();
    bus.on('a', () => 'A');
    bus.on('b', () => 'B');
    expect(bus.fire('a', 0)).toBe('A');
    expect(bus.fire('b', 0)).toBe('B');
    expect(bus.fire('c', 0)).toBeUndefined();
  });

  it('the returned function removes exactly that handler; removing twice is harmless', () => {
    const bus = new HookBus<string[]>();
    const h = (log: string[]) => void log.push('h');
    const off1 = bus.on('x', h);
    bus.on('x', h, 1); // the same function registered twice is two entries
    const log: string[] = [];
    bus.fire('x', log);
    expect(log).toEqual(['h', 'h']);
    off1();
    off1();
    log.length = 0;
    bus.fire('x', log);
    expect(log).toEqual(['h']);
  });

  it('removing the last handler makes the event unknown again', () => {
    const bus = new HookBus<number>();
    const off = bus.on('x', () => 1);
    off();
    expect(bus.has('x')).toBe(false);
    expect(bus.fire('x', 0)).toBeUndefined();
  });

  it('a stale remover does not remove a handler registered after the list was emptied', () => {
    const bus = new HookBus<number>();
    const off = bus.on('x', () => 1);
    off();
    bus.on('x', () => 2);
    off();
    expect(bus.fire('x', 0)).toBe(2);
  });

  it('a handler removed or added during fire does not change the current run', () => {
    const bus = new HookBus<string[]>();
    let offB: () => void = () => {};
    bus.on('x', (log) => {
      log.push('a');
      offB();
      bus.on('x', (l) => void l.push('late'), -10);
    }, 10);
    offB = bus.on('x', (log) => void log.push('b'), 5);
    const log: string[] = [];
    bus.fire('x', log);
    expect(log).toEqual(['a', 'b']);
    log.length = 0;
    bus.fire('x', log);
    expect(log).toEqual(['a', 'late']); // the second 'late' added by this run waits for the next one
  });

  it('a throwing handler propagates to the caller and stops the run', () => {
    const bus = new HookBus<string[]>();
    bus.on('x', () => {
      throw new Error('boom');
    }, 1);
    bus.on('x', (log) => void log.push('after'));
    const log: string[] = [];
    expect(() => bus.fire('x', log)).toThrow('boom');
    expect(log).toEqual([]);
  });

  it('returns promises as they are (async IQ handlers)', async () => {
    const bus = new HookBus<number>();
    bus.on('x', async (n) => n + 1);
    await expect(bus.fire('x', 1) as Promise<number>).resolves.toBe(2);
  });
});
