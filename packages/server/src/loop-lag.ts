/**
 * How late the event loop is: a timer that should fire every `intervalMs` measures by how much it fired late, and
 * the monitor keeps the largest lateness of the last `windowSamples` ticks. Health uses it to call a stalled loop
 * unhealthy (`health.maxEventLoopLagMs`); `/metrics` reports it next to prom-client's histogram-based figures.
 *
 * Why a timer and not `perf_hooks.monitorEventLoopDelay` alone: the timer also sees a stall that is still going
 * on (a timer due but not yet run: {@link EventLoopLagMonitor.lagMs} counts the time since it was due), and with an
 * injected clock and timer it is tested without waiting.
 */

/** Timer functions (Node's by default; tests pass fakes). */
export interface LagScheduler {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface EventLoopLagMonitorOptions {
  /** Tick interval (ms). Default 500. */
  intervalMs?: number;
  /** How many ticks the reported lag covers (the window is `intervalMs × windowSamples`). Default 10 (5 s). */
  windowSamples?: number;
  /** Monotonic milliseconds. Default `performance.now()`. */
  now?: () => number;
  /** Default Node's timers, unref'd (the monitor never keeps the process alive). */
  scheduler?: LagScheduler;
}

const nodeScheduler: LagScheduler = {
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** See the module comment. `start()` once, `stop()` when done. */
export class EventLoopLagMonitor {
  readonly intervalMs: number;
  readonly #now: () => number;
  readonly #scheduler: LagScheduler;
  /** Ring of the last lags (ms). */
  readonly #samples: Float64Array;
  #next = 0;
  #dueAt = 0;
  #timer: unknown;

  constructor(options: EventLoopLagMonitorOptions = {}) {
    this.intervalMs = options.intervalMs ?? 500;
    this.#samples = new Float64Array(Math.max(1, options.windowSamples ?? 10));
    this.#now = options.now ?? (() => performance.now());
    this.#scheduler = options.scheduler ?? nodeScheduler;
  }

  /** Starts ticking (idempotent). */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#schedule();
  }

  /** Stops ticking (idempotent); {@link lagMs} then reports the last window. */
  stop(): void {
    if (this.#timer === undefined) return;
    this.#scheduler.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /**
   * The worst lag (ms) of the last window, or the time since the next tick was due when that is larger (a stall
   * in progress, seen by whoever runs first after it).
   */
  lagMs(): number {
    let max = 0;
    for (const s of this.#samples) if (s > max) max = s;
    if (this.#timer !== undefined) {
      const overdue = this.#now() - this.#dueAt;
      if (overdue > max) max = overdue;
    }
    return max;
  }

  #schedule(): void {
    this.#dueAt = this.#now() + this.intervalMs;
    this.#timer = this.#scheduler.setTimeout(() => this.#tick(), this.intervalMs);
  }

  #tick(): void {
    const lag = Math.max(0, this.#now() - this.#dueAt);
    this.#samples[this.#next] = lag;
    this.#next = (this.#next + 1) % this.#samples.length;
    this.#schedule();
  }
}
