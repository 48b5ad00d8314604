/**
 * The fuzz loop shared by the tests and `npm run bench -- fuzz`: runs N cases of a {@link FuzzFamily}, each with its
 * own seeded {@link Prng} (so any case can be replayed from the printed run seed, family and case index), catches
 * every exception and invariant violation as a {@link FuzzFailure} (with the hex of the input and the mutations
 * applied), counts outcomes ("drops by reason") and publishes each case to the {@link Watchdog}.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { Prng, caseSeed } from './prng.js';
import type { Watchdog } from './watchdog.js';

/** One violated invariant or exception. */
export interface FuzzFailure {
  family: string;
  /** Seed of the run. */
  runSeed: number;
  /** Case index within the family. */
  caseIndex: number;
  /** Seed of the case's PRNG (= caseSeed(runSeed, familyIndex, caseIndex)). */
  caseSeed: number;
  /** The error message (and stack head). */
  message: string;
  /** Hex of the input that failed (truncated to 4 KiB of hex). */
  inputHex: string;
  /** Names of the mutations applied to the input. */
  mutations: string[];
}

/** Per-family result. */
export interface FamilyResult {
  family: string;
  cases: number;
  /** Outcome label → count (parse statuses, drop reasons, …). */
  outcomes: Record<string, number>;
  failures: FuzzFailure[];
  /** Failures beyond the ones kept (only the first `maxFailures` keep their details). */
  failureCount: number;
  elapsedMs: number;
}

/** What a case sees. */
export class CaseContext {
  rng: Prng = new Prng(0);
  /** Mutations applied to the current input (for reports). */
  readonly mutations: string[] = [];
  #input: Uint8Array | undefined;
  readonly #outcomes: Record<string, number>;
  readonly #watchdog: Watchdog | undefined;
  readonly #onInput: ((bytes: Uint8Array) => void) | undefined;

  constructor(outcomes: Record<string, number>, watchdog: Watchdog | undefined, onInput?: (bytes: Uint8Array) => void) {
    this.#outcomes = outcomes;
    this.#watchdog = watchdog;
    this.#onInput = onInput;
  }

  /** Records the case's input (for failure reports and the hang detector). Call before feeding it to the target. */
  input(bytes: Uint8Array): void {
    this.#input = bytes;
    this.#watchdog?.input(bytes);
    this.#onInput?.(bytes);
  }

  /** The recorded input. */
  get currentInput(): Uint8Array | undefined {
    return this.#input;
  }

  /** Counts one outcome. */
  outcome(label: string): void {
    this.#outcomes[label] = (this.#outcomes[label] ?? 0) + 1;
  }

  /** @internal */
  reset(seed: number): void {
    this.rng.reseed(seed);
    this.mutations.length = 0;
    this.#input = undefined;
  }
}

/** A fuzz target. `runCase` throws on an invariant violation; a returned promise is awaited. */
export interface FuzzFamily {
  readonly name: string;
  runCase(ctx: CaseContext, caseIndex: number): void | Promise<void>;
  /** Invariants over the whole run (leaks, state growth); throws on a violation. */
  finish?(ctx: CaseContext): void | Promise<void>;
  /** Frees resources. */
  close?(): void | Promise<void>;
}

/** An invariant violation. */
export class InvariantError extends Error {
  override readonly name = 'InvariantError';
}

/** Throws an {@link InvariantError} when `cond` is false. */
export function check(cond: boolean, message: string | (() => string)): asserts cond {
  if (!cond) throw new InvariantError(typeof message === 'string' ? message : message());
}

/** Options of {@link runFamily}. */
export interface RunOptions {
  seed: number;
  cases: number;
  /** Family number (goes into the case seeds; keep it stable per family name). */
  familyIndex: number;
  watchdog?: Watchdog;
  /** Yield to the event loop every this many cases (default 512; async targets need their promises settled). */
  yieldEvery?: number;
  /** Failures kept with details (default 20). */
  maxFailures?: number;
  /** Sees every case's input (e.g. a ring of recent inputs to attach to asynchronous errors). */
  onInput?: (bytes: Uint8Array) => void;
}

function hexOf(b: Uint8Array | undefined): string {
  if (b === undefined) return '';
  const hex = Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
  return hex.length > 8192 ? `${hex.slice(0, 8192)}…(${b.length} bytes)` : hex;
}

function describeError(err: unknown): string {
  if (err instanceof InvariantError) return err.message;
  if (err instanceof Error) return `${err.name}: ${err.message}\n${(err.stack ?? '').split('\n').slice(1, 6).join('\n')}`;
  return `non-Error thrown: ${String(err)}`;
}

/** Runs `cases` cases of `family`. Never throws for a failing case: failures are returned. */
export async function runFamily(family: FuzzFamily, o: RunOptions): Promise<FamilyResult> {
  const outcomes: Record<string, number> = {};
  const failures: FuzzFailure[] = [];
  let failureCount = 0;
  const maxFailures = o.maxFailures ?? 20;
  const ctx = new CaseContext(outcomes, o.watchdog, o.onInput);
  const yieldEvery = o.yieldEvery ?? 512;
  const t0 = performance.now();
  const fail = (caseIndex: number, seed: number, err: unknown): void => {
    failureCount++;
    if (failures.length < maxFailures) {
      failures.push({
        family: family.name,
        runSeed: o.seed,
        caseIndex,
        caseSeed: seed,
        message: describeError(err),
        inputHex: hexOf(ctx.currentInput),
        mutations: [...ctx.mutations],
      });
    }
  };
  for (let i = 0; i < o.cases; i++) {
    const seed = caseSeed(o.seed, o.familyIndex, i);
    ctx.reset(seed);
    o.watchdog?.begin(o.familyIndex, i, seed);
    try {
      const r = family.runCase(ctx, i);
      if (r !== undefined) {
        o.watchdog?.idle();
        await r;
      }
    } catch (err) {
      fail(i, seed, err);
    }
    if ((i + 1) % yieldEvery === 0) {
      o.watchdog?.idle();
      await yieldToLoop();
    }
  }
  o.watchdog?.idle();
  if (family.finish !== undefined) {
    ctx.reset(caseSeed(o.seed, o.familyIndex, -1));
    try {
      await family.finish(ctx);
    } catch (err) {
      fail(-1, 0, err);
    }
  }
  return { family: family.name, cases: o.cases, outcomes, failures, failureCount, elapsedMs: performance.now() - t0 };
}

/** A readable multi-line summary of failures (for assertion messages and the bench report). */
export function formatFailures(results: readonly FamilyResult[], limit = 5): string {
  const lines: string[] = [];
  for (const r of results) {
    for (const f of r.failures.slice(0, limit)) {
      lines.push(
        `[${f.family}] case ${f.caseIndex} (run seed ${f.runSeed}, case seed ${f.caseSeed}) mutations=${f.mutations.join('+') || '-'}\n  ${f.message.replace(/\n/g, '\n  ')}\n  input: ${f.inputHex}`,
      );
    }
    if (r.failureCount > limit) lines.push(`[${r.family}] … ${r.failureCount - limit} more failures`);
  }
  return lines.join('\n');
}
