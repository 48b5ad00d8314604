/**
 * Optional file logging (`log.file.path`): a pino destination that writes one file per UTC day and deletes files
 * older than `log.file.retentionHours`.
 *
 * `log.file.path` names the file pattern: `/var/log/jitsi-one/jitsi-one.log` writes
 * `/var/log/jitsi-one/jitsi-one.2025-01-31.log` on 31 January (UTC), and so on. A file is deleted once its day has
 * been over for `retentionHours` (so a line is kept at least `retentionHours` and at most `retentionHours` + 24 h;
 * `0` keeps only today's file). Deletion runs at start, at every rotation and on a timer at the moment the next file
 * expires (at least hourly), so it happens even when nothing is logged. Only files matching the pattern are touched.
 *
 * Writes are synchronous (`fs.writeSync`), like pino's default stdout destination: a line is on disk when the log
 * call returns, nothing is lost on a crash, and log volume at the default level is small. Files are created with
 * mode 0600. The directory must exist. An error after start (disk full, directory removed) is reported once on
 * stderr and the line is dropped; logging never throws into the caller.
 */
import { closeSync, openSync, readdirSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import type { DestinationStream } from 'pino';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const DATE_RE = '(\\d{4})-(\\d{2})-(\\d{2})';

/** Timer functions (Node's by default, looked up at call time so `vi.useFakeTimers()` applies). */
export interface LogFileScheduler {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface DailyLogFileOptions {
  /** The file pattern (see the module comment). */
  path: string;
  /** Hours a file is kept after its day ended. */
  retentionHours: number;
  /** Wall clock, ms since the epoch (default `Date.now()`). */
  now?: () => number;
  scheduler?: LogFileScheduler;
  /** Where a write or delete error is reported, once each (default stderr). */
  onError?: (message: string) => void;
}

const defaultScheduler: LogFileScheduler = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** `2025-01-31` for a time in ms (UTC). */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** See the module comment. Throws at construction when today's file cannot be opened. */
export class DailyLogFile implements DestinationStream {
  readonly dir: string;
  readonly #stem: string;
  readonly #ext: string;
  readonly #pattern: RegExp;
  readonly #retentionMs: number;
  readonly #now: () => number;
  readonly #scheduler: LogFileScheduler;
  readonly #onError: (message: string) => void;
  readonly #reported = new Set<string>();
  #fd: number | undefined;
  #dayEndMs = 0;
  #currentFile = '';
  #timer: unknown;
  #closed = false;

  constructor(options: DailyLogFileOptions) {
    this.dir = dirname(options.path);
    this.#ext = extname(options.path) || '.log';
    this.#stem = basename(options.path, extname(options.path));
    this.#pattern = new RegExp(`^${escapeRe(this.#stem)}\\.${DATE_RE}${escapeRe(this.#ext)}$`);
    this.#retentionMs = options.retentionHours * HOUR_MS;
    this.#now = options.now ?? (() => Date.now());
    this.#scheduler = options.scheduler ?? defaultScheduler;
    this.#onError = options.onError ?? ((m) => process.stderr.write(`jitsi-one: log file: ${m}\n`));
    // Fail at start (a ConfigError in the server) rather than lose every line later.
    this.#open(this.#now());
    this.#sweep();
  }

  /** The file written now (absolute or as configured). */
  get currentFile(): string {
    return this.#currentFile;
  }

  /** The file name for a day (ms in that UTC day). */
  fileFor(ms: number): string {
    return join(this.dir, `${this.#stem}.${utcDay(ms)}${this.#ext}`);
  }

  /** pino calls this once per log line. */
  write(line: string): void {
    if (this.#closed) return;
    const now = this.#now();
    if (now >= this.#dayEndMs) this.#rotate(now);
    // No file (an open failed; retried a minute later): the line is dropped.
    if (this.#fd === undefined) return;
    try {
      writeSync(this.#fd, line);
    } catch (err) {
      this.#report('write', err);
    }
  }

  /** Closes the file and stops the deletion timer. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) this.#scheduler.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#closeFd();
  }

  #open(now: number): void {
    const file = this.fileFor(now);
    this.#fd = openSync(file, 'a', 0o600);
    this.#currentFile = file;
    this.#dayEndMs = Math.floor(now / DAY_MS) * DAY_MS + DAY_MS;
  }

  #rotate(now: number): void {
    this.#closeFd();
    try {
      this.#open(now);
    } catch (err) {
      this.#report('open', err);
      this.#fd = undefined;
      // Retry on a later line, not on every one.
      this.#dayEndMs = now + 60_000;
    }
    this.#sweep();
  }

  #closeFd(): void {
    if (this.#fd === undefined) return;
    try {
      closeSync(this.#fd);
    } catch {
      // already gone
    }
    this.#fd = undefined;
  }

  /** Deletes expired files and arms the timer for the next expiry. */
  #sweep(): void {
    if (this.#closed) return;
    const now = this.#now();
    let nextExpiry = Infinity;
    let names: string[] = [];
    try {
      names = readdirSync(this.dir);
    } catch (err) {
      this.#report('list', err);
    }
    for (const name of names) {
      const m = this.#pattern.exec(name);
      if (!m) continue;
      const dayStart = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
      if (Number.isNaN(dayStart)) continue;
      const expiresAt = dayStart + DAY_MS + this.#retentionMs;
      const file = join(this.dir, name);
      if (now >= expiresAt) {
        // The open file too, when nothing was logged since its day ended: the next line opens today's.
        if (file === this.#currentFile) this.#closeFd();
        try {
          unlinkSync(file);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.#report('delete', err);
        }
      } else if (expiresAt < nextExpiry) {
        nextExpiry = expiresAt;
      }
    }
    if (this.#timer !== undefined) this.#scheduler.clearTimeout(this.#timer);
    const delay = Math.min(Math.max(nextExpiry - now, 1000), HOUR_MS);
    this.#timer = this.#scheduler.setTimeout(() => {
      this.#timer = undefined;
      this.#sweep();
    }, delay);
  }

  #report(what: string, err: unknown): void {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    const key = `${what}:${code}`;
    if (this.#reported.has(key)) return;
    this.#reported.add(key);
    this.#onError(`${what} failed (${code}) in ${this.dir}`);
  }
}
