import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DailyLogFile, utcDay } from './log-file.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let dir: string;
let file: DailyLogFile | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'jitsi-one-logs-'));
  vi.useFakeTimers();
  vi.setSystemTime(new Date('2025-03-10T09:00:00Z'));
});

afterEach(() => {
  file?.close();
  file = undefined;
  vi.useRealTimers();
  rmSync(dir, { recursive: true, force: true });
});

const files = (): string[] => readdirSync(dir).sort();

describe('DailyLogFile', () => {
  it('writes one file per UTC day, named after the pattern, mode 0600', () => {
    file = new DailyLogFile({ path: join(dir, 'jitsi-one.log'), retentionHours: 24 });
    const log = pino({ base: undefined }, file);
    log.info('first');
    vi.setSystemTime(new Date('2025-03-10T23:59:59.999Z'));
    log.info('last of the day');
    vi.setSystemTime(new Date('2025-03-11T00:00:00Z'));
    log.info('next day');
    expect(files()).toEqual(['jitsi-one.2025-03-10.log', 'jitsi-one.2025-03-11.log']);
    const day1 = readFileSync(join(dir, 'jitsi-one.2025-03-10.log'), 'utf8');
    expect(day1.trim().split('\n').map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['first', 'last of the day']);
    expect(readFileSync(join(dir, 'jitsi-one.2025-03-11.log'), 'utf8')).toContain('"msg":"next day"');
    expect(statSync(join(dir, 'jitsi-one.2025-03-11.log')).mode & 0o777).toBe(0o600);
    expect(file.currentFile).toBe(join(dir, 'jitsi-one.2025-03-11.log'));
  });

  it('deletes a file once its day has been over for retentionHours, on a timer even when nothing is logged', () => {
    file = new DailyLogFile({ path: join(dir, 'jitsi-one.log'), retentionHours: 24 });
    file.write('day 1\n');
    vi.setSystemTime(new Date('2025-03-11T12:00:00Z'));
    file.write('day 2\n');
    expect(files()).toEqual(['jitsi-one.2025-03-10.log', 'jitsi-one.2025-03-11.log']);

    // 2025-03-10 ended at 03-11T00:00; kept until 03-12T00:00.
    vi.advanceTimersByTime(12 * HOUR - 1000);
    expect(files()).toEqual(['jitsi-one.2025-03-10.log', 'jitsi-one.2025-03-11.log']);
    vi.advanceTimersByTime(1000);
    expect(files()).toEqual(['jitsi-one.2025-03-11.log']);

    // Nothing logged for two days: the open file of 03-11 goes at 03-13T00:00 too, and the next line opens a new one.
    vi.advanceTimersByTime(DAY);
    expect(files()).toEqual([]);
    file.write('later\n');
    expect(files()).toEqual(['jitsi-one.2025-03-13.log']);
  });

  it('cleans up expired files left by an earlier run at start, and touches only files of its pattern', () => {
    for (const name of ['jitsi-one.2025-03-01.log', 'jitsi-one.2025-03-09.log', 'other.2025-03-01.log', 'jitsi-one.log', 'notes.txt']) {
      writeFileSync(join(dir, name), 'x\n');
    }
    file = new DailyLogFile({ path: join(dir, 'jitsi-one.log'), retentionHours: 24 });
    // 03-09 ended at 03-10T00:00 and is kept until 03-11T00:00; 03-01 is long expired.
    expect(files()).toEqual(['jitsi-one.2025-03-09.log', 'jitsi-one.2025-03-10.log', 'jitsi-one.log', 'notes.txt', 'other.2025-03-01.log']);
    vi.advanceTimersByTime(15 * HOUR);
    expect(files()).toEqual(['jitsi-one.2025-03-10.log', 'jitsi-one.log', 'notes.txt', 'other.2025-03-01.log']);
  });

  it('with retentionHours 0 keeps only the current day; a longer retention keeps more days', () => {
    file = new DailyLogFile({ path: join(dir, 'a.log'), retentionHours: 0 });
    file.write('x\n');
    vi.setSystemTime(new Date('2025-03-11T00:00:01Z'));
    file.write('y\n');
    expect(files()).toEqual(['a.2025-03-11.log']);
    file.close();

    file = new DailyLogFile({ path: join(dir, 'b.log'), retentionHours: 72 });
    for (let d = 0; d < 6; d++) {
      file.write(`${d}\n`);
      vi.advanceTimersByTime(DAY);
    }
    // Now 03-17T00:00:01: days ended ≥ 72 h ago (03-11, 03-12, 03-13) are gone.
    expect(files().filter((f) => f.startsWith('b.'))).toEqual(['b.2025-03-14.log', 'b.2025-03-15.log', 'b.2025-03-16.log']);
  });

  it('uses .log when the path has no extension, and throws at construction when the directory does not exist', () => {
    file = new DailyLogFile({ path: join(dir, 'server'), retentionHours: 24 });
    expect(file.currentFile).toBe(join(dir, `server.${utcDay(Date.now())}.log`));
    expect(() => new DailyLogFile({ path: join(dir, 'missing', 'x.log'), retentionHours: 24 })).toThrow(/ENOENT/);
  });

  it('after start, a failing write is reported once and never thrown to the caller', () => {
    const errors: string[] = [];
    file = new DailyLogFile({ path: join(dir, 'c.log'), retentionHours: 24, onError: (m) => errors.push(m) });
    rmSync(dir, { recursive: true, force: true });
    vi.setSystemTime(new Date('2025-03-11T01:00:00Z')); // rotation needs to create a file in the removed directory
    expect(() => {
      file?.write('a\n');
      file?.write('b\n');
    }).not.toThrow();
    expect(errors.filter((e) => /^open failed \(ENOENT\)/.test(e))).toHaveLength(1);
    expect(new Set(errors).size).toBe(errors.length);
  });
});
