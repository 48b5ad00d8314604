/**
 * Hang detector for the fuzzers. A parser stuck in an infinite loop blocks the event loop, so no timer in the same
 * thread (vitest's test timeout included) can ever fire. The fuzz loop therefore publishes, before every case, the
 * family, case index, seed and the input bytes into a SharedArrayBuffer; a tiny worker thread checks the heartbeat
 * and, when one case runs longer than `stallMs`, writes the report (with the hex of the input) straight to fd 2 and
 * kills the process, which makes the hang visible and reproducible instead of a silent CI timeout.
 *
 * Cost per case: two Atomics stores and one copy of the input (a few hundred bytes).
 */
import { Worker } from 'node:worker_threads';

const MAX_INPUT = 65_536;
// Int32 slots of the header.
const HEARTBEAT = 0;
const ACTIVE = 1;
const FAMILY = 2;
const CASE = 3;
const SEED = 4;
const LENGTH = 5;
const HEADER_INTS = 8;

const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const fs = require('node:fs');
const { sab, stallMs, families, pid } = workerData;
const h = new Int32Array(sab, 0, ${HEADER_INTS});
const input = new Uint8Array(sab, ${HEADER_INTS * 4});
let last = -1;
let since = Date.now();
setInterval(() => {
  const beat = Atomics.load(h, ${HEARTBEAT});
  if (beat !== last || Atomics.load(h, ${ACTIVE}) === 0) { last = beat; since = Date.now(); return; }
  if (Date.now() - since < stallMs) return;
  const len = Math.min(Atomics.load(h, ${LENGTH}), input.length);
  const hex = Buffer.from(input.subarray(0, len)).toString('hex');
  const fam = families[Atomics.load(h, ${FAMILY})] ?? String(Atomics.load(h, ${FAMILY}));
  fs.writeSync(2, '\\nFUZZ HANG: family ' + fam + ' case ' + Atomics.load(h, ${CASE}) + ' seed ' + (Atomics.load(h, ${SEED}) >>> 0) +
    ' stuck for ' + (Date.now() - since) + ' ms\\ninput (' + len + ' bytes): ' + hex + '\\n');
  process.kill(pid, 'SIGKILL');
}, Math.max(50, Math.floor(stallMs / 10)));
`;

/** See the file comment. */
export class Watchdog {
  readonly #header: Int32Array;
  readonly #input: Uint8Array;
  readonly #worker: Worker;
  #beat = 0;

  /** `families` names the family numbers in reports (an array, or number → name for sparse numbers). */
  constructor(families: readonly string[] | Readonly<Record<number, string>>, stallMs = 10_000) {
    const sab = new SharedArrayBuffer(HEADER_INTS * 4 + MAX_INPUT);
    this.#header = new Int32Array(sab, 0, HEADER_INTS);
    this.#input = new Uint8Array(sab, HEADER_INTS * 4);
    this.#worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { sab, stallMs, families: { ...families }, pid: process.pid } });
    this.#worker.unref();
  }

  /** A case starts (its input is not known yet). */
  begin(family: number, caseIndex: number, seed: number): void {
    const h = this.#header;
    Atomics.store(h, FAMILY, family);
    Atomics.store(h, CASE, caseIndex);
    Atomics.store(h, SEED, seed | 0);
    Atomics.store(h, LENGTH, 0);
    Atomics.store(h, ACTIVE, 1);
    Atomics.store(h, HEARTBEAT, ++this.#beat);
  }

  /** The case's input, for the report if it hangs. */
  input(bytes: Uint8Array): void {
    const n = Math.min(bytes.length, MAX_INPUT);
    this.#input.set(n === bytes.length ? bytes : bytes.subarray(0, n));
    Atomics.store(this.#header, LENGTH, n);
  }

  /** No case running (awaiting I/O, between families): never reported as a hang. */
  idle(): void {
    Atomics.store(this.#header, ACTIVE, 0);
  }

  /** Stops the worker. */
  async stop(): Promise<void> {
    this.idle();
    await this.#worker.terminate();
  }
}
