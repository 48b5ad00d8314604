/**
 * DTLS fuzz family: DtlsSession.handleDatagram (the record screen in dtls.ts, then werift-dtls's record layer) fed
 * with mutated real handshake records, DTLS-looking corpus datagrams and garbage with a first byte of 20–63.
 *
 * Targets:
 * - a server and a client session that completed a real handshake with each other in memory (the state of every
 *   connected endpoint: this is what a spoofed or garbled datagram from a verified address reaches). Invariant:
 *   they stay `connected` and their listener never hears `failed` — garbage must not tear down an endpoint;
 * - a fresh server session (the state before the client's ClientHello arrives). Garbage may fail the handshake
 *   there (counted; the session is replaced), but must never throw or reject unhandled.
 */
import { pino, type Logger } from 'pino';
import type { BridgeCertificate } from '../../src/transport/certificate.js';
import { DtlsSession, type DtlsFailureReason, type DtlsRole } from '../../src/transport/dtls.js';
import { buildDtls, dtlsRecord } from './corpus.js';
import { check, type CaseContext, type FuzzFamily } from './engine.js';
import { DTLS_MUTATORS, mutate } from './mutators.js';
import { Prng } from './prng.js';

interface Tracked {
  session: DtlsSession;
  failed: { reason: DtlsFailureReason; err: unknown } | undefined;
  connected: boolean;
  sent: number;
}

function track(role: DtlsRole, certificate: BridgeCertificate, remote: BridgeCertificate, log: Logger, send: (buf: Buffer) => void): Tracked {
  const t: Tracked = { session: undefined as unknown as DtlsSession, failed: undefined, connected: false, sent: 0 };
  t.session = new DtlsSession({
    role,
    certificate,
    remoteFingerprints: [remote.fingerprint],
    send: (buf) => {
      t.sent++;
      send(buf);
    },
    log,
    listener: {
      connected: () => {
        t.connected = true;
      },
      failed: (reason, err) => {
        t.failed = { reason, err };
      },
    },
  });
  return t;
}

/** Two DtlsSessions that completed a handshake over an in-memory wire; every datagram they exchanged. */
export interface DtlsPair {
  server: Tracked;
  client: Tracked;
  /** Datagrams exchanged during the handshake (both directions, in order). */
  captured: Buffer[];
}

/** Runs a real DTLS 1.2 handshake between a server and a client session in memory. */
export async function connectDtlsPair(serverCert: BridgeCertificate, clientCert: BridgeCertificate, log: Logger, timeoutMs = 10_000): Promise<DtlsPair> {
  const captured: Buffer[] = [];
  let wired = true;
  // Delivered on the next turn (as UDP would be); the wire is cut once both are connected, so a fuzzed record
  // that makes one side re-send a flight cannot start a ping-pong between the two.
  const deliver = (to: () => Tracked) => (buf: Buffer): void => {
    const copy = Buffer.from(buf);
    if (!wired) return;
    captured.push(copy);
    setImmediate(() => to().session.handleDatagram(copy, copy.length));
  };
  let server: Tracked | undefined;
  let client: Tracked | undefined;
  server = track('server', serverCert, clientCert, log, deliver(() => client as Tracked));
  client = track('client', clientCert, serverCert, log, deliver(() => server as Tracked));
  server.session.start();
  client.session.start();
  const deadline = Date.now() + timeoutMs;
  while (!(server.connected && client.connected)) {
    if (server.failed || client.failed) throw new Error(`in-memory DTLS handshake failed: ${server.failed?.reason ?? client.failed?.reason}`);
    if (Date.now() > deadline) throw new Error('in-memory DTLS handshake timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
  wired = false;
  return { server, client, captured };
}

export class DtlsFamily implements FuzzFamily {
  readonly name = 'dtls';
  readonly #corpus: Buffer[];
  readonly #pair: DtlsPair;
  readonly #serverCert: BridgeCertificate;
  readonly #clientCert: BridgeCertificate;
  readonly #log: Logger;
  #fresh: Tracked | undefined;
  #freshCreated = 0;
  readonly #recent: string[] = [];

  private constructor(pair: DtlsPair, corpus: Buffer[], serverCert: BridgeCertificate, clientCert: BridgeCertificate, log: Logger) {
    this.#pair = pair;
    this.#corpus = corpus;
    this.#serverCert = serverCert;
    this.#clientCert = clientCert;
    this.#log = log;
  }

  /** Builds the corpus: the records of a real handshake plus DTLS-looking datagrams. */
  static async create(seed: number, serverCert: BridgeCertificate, clientCert: BridgeCertificate, log: Logger = pino({ level: 'silent' })): Promise<DtlsFamily> {
    const pair = await connectDtlsPair(serverCert, clientCert, log);
    const rng = new Prng(seed);
    const corpus = [...pair.captured];
    // Individual records of the captured flights, and epoch-1 records with random "ciphertext".
    for (const d of pair.captured) {
      let off = 0;
      while (off + 13 <= d.length) {
        const end = off + 13 + d.readUInt16BE(off + 11);
        if (end > d.length) break;
        corpus.push(Buffer.from(d.subarray(off, end)));
        off = end;
      }
    }
    for (let i = 0; i < 200; i++) corpus.push(buildDtls(rng));
    for (let i = 0; i < 50; i++) corpus.push(dtlsRecord(rng.pick([20, 21, 22]), 1, rng.int(100), rng.bytes(rng.range(8, 80))));
    return new DtlsFamily(pair, corpus, serverCert, clientCert, log);
  }

  /** Handshake datagrams captured from the in-memory handshake (for other harnesses). */
  get captured(): readonly Buffer[] {
    return this.#pair.captured;
  }

  async runCase(ctx: CaseContext): Promise<void> {
    const rng = ctx.rng;
    let input: Buffer;
    const r = rng.u32() / 0x1_0000_0000;
    if (r < 0.1) {
      input = rng.bytes(rng.length(400));
      if (input.length > 0) input[0] = rng.range(20, 63);
      ctx.mutations.push('random');
    } else if (r < 0.15) {
      input = rng.pick(this.#corpus);
      ctx.mutations.push('valid');
    } else input = mutate(rng, rng.pick(this.#corpus), DTLS_MUTATORS, { donors: this.#corpus }, ctx.mutations);
    ctx.input(input);
    this.#recent.push(input.toString('hex'));
    if (this.#recent.length > 8) this.#recent.shift();

    const which = rng.weighted([60, 15, 25]);
    const target = which === 0 ? this.#pair.server : which === 1 ? this.#pair.client : this.#freshSession();
    const label = ['connected-server', 'connected-client', 'fresh-server'][which] as string;
    const rejectedBefore = target.session.rejectedRecords;
    const sentBefore = target.sent;
    target.session.handleDatagram(Buffer.from(input), input.length);
    // Let werift's promise chains settle before judging.
    await new Promise<void>((res) => setImmediate(res));
    ctx.outcome(`${label}:${target.session.rejectedRecords > rejectedBefore ? 'screened-out' : 'to-werift'}${target.sent > sentBefore ? ':answered' : ''}`);
    for (const t of [this.#pair.server, this.#pair.client]) {
      check(t.failed === undefined && t.session.state === 'connected', () => `connected DTLS session torn down (${t.failed?.reason ?? t.session.state}: ${String(t.failed?.err)}) by one of the last inputs:\n  ${this.#recent.join('\n  ')}`);
    }
    if (which === 2 && this.#fresh !== undefined && (this.#fresh.failed !== undefined || this.#fresh.session.state === 'failed')) {
      ctx.outcome(`fresh-server:failed:${this.#fresh.failed?.reason ?? 'unknown'}`);
      this.#fresh.session.close();
      this.#fresh = undefined;
    }
  }

  #freshSession(): Tracked {
    if (this.#fresh === undefined) {
      this.#fresh = track('server', this.#serverCert, this.#clientCert, this.#log, () => {});
      this.#fresh.session.start();
      this.#freshCreated++;
    }
    return this.#fresh;
  }

  finish(ctx: CaseContext): void {
    ctx.outcome(`fresh-server:sessions:${this.#freshCreated}`);
  }

  close(): void {
    this.#pair.server.session.close();
    this.#pair.client.session.close();
    this.#fresh?.session.close();
  }
}
