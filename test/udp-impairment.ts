/**
 * A UDP impairment proxy for system tests: sits between one participant and the bridge's UDP port and applies loss,
 * reordering and jitter per direction, from a seeded PRNG so that a run is reproducible.
 *
 * The participant is pointed at the proxy by rewriting the candidates of the bridge's offer
 * (`ParticipantOptions.bridgeAddress = proxy.address`). The proxy has two sockets on 127.0.0.1: `front` faces the
 * participant (the first address that sends to it is "the client"), `back` faces the bridge, which therefore sees
 * the participant at the back socket's address (a peer-reflexive candidate, as for any client behind a NAT).
 *
 * Impairments (per leg: `up` = participant → bridge, `down` = bridge → participant), changeable at any time:
 * - `loss`: probability of dropping a packet. For SRTP the decision is a hash of (seed, leg, SSRC, sequence number,
 *   how often that packet was seen), so the same packets are lost on every run; for STUN/DTLS/SRTCP the leg's PRNG;
 * - `jitterMs`: every packet is delayed by a uniform 0…jitterMs, first in first out (as a queue varies: jitter
 *   alone does not reorder);
 * - `reorder` / `reorderDelayMs`: probability that a packet is held back by an extra `reorderDelayMs`, so that the
 *   packets after it overtake it;
 * - `drop: true` drops everything (a path that died: ICE consent then fails on both sides).
 *
 * SRTP keeps the RTP header in the clear (RFC 3711 §3.1), so the proxy counts packets per SSRC and direction: what
 * it forwarded and what it dropped. That is "loss before repair", exactly.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';

export interface Impairment {
  /** Drop probability, 0–1. */
  loss?: number;
  /** Uniform random extra delay up to this many ms. */
  jitterMs?: number;
  /** Probability that a packet is held back by `reorderDelayMs`. */
  reorder?: number;
  reorderDelayMs?: number;
  /** Drop everything. */
  drop?: boolean;
}

export interface LegCounters {
  /** Datagrams that arrived at the proxy on this leg. */
  packets: number;
  dropped: number;
  /** Delayed by reordering (not counting jitter). */
  reordered: number;
  /** Per RTP SSRC: packets seen and dropped. */
  readonly bySsrc: Map<number, { packets: number; dropped: number }>;
}

export type Leg = 'up' | 'down';

/** mulberry32: a small, fast, seedable PRNG (uniform in [0, 1)). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A uniform [0, 1) from a few 32-bit integers (murmur3-style finalizer). */
function hash01(...xs: number[]): number {
  let h = 0x9e3779b9;
  for (const x of xs) {
    h = Math.imul(h ^ (x >>> 0), 0x85ebca6b);
    h = (h << 13) | (h >>> 19);
    h = Math.imul(h, 0xc2b2ae35);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

/** SRTP (not SRTCP) by RFC 7983's first byte and RFC 5761's payload type range. */
function rtpHeader(b: Buffer): { ssrc: number; seq: number } | undefined {
  const b0 = b[0] ?? 0;
  if (b0 < 128 || b0 > 191 || b.length < 12) return undefined;
  const pt = (b[1] ?? 0) & 0x7f;
  if (pt >= 64 && pt <= 95) return undefined; // RTCP (SR 200 … with the marker bit folded in)
  return { ssrc: b.readUInt32BE(8), seq: b.readUInt16BE(2) };
}

export class UdpImpairmentProxy {
  readonly #front: Socket;
  readonly #back: Socket;
  readonly #target: { ip: string; port: number };
  readonly #seed: number;
  readonly #rand: Record<Leg, () => number>;
  readonly #seen = new Map<string, number>();
  readonly #timers = new Set<NodeJS.Timeout>();
  /** When the last in-order packet of each leg leaves (FIFO jitter). */
  readonly #lastDue: Record<Leg, number> = { up: 0, down: 0 };
  #client: RemoteInfo | undefined;
  #closed = false;
  readonly impair: Record<Leg, Impairment> = { up: {}, down: {} };
  readonly counters: Record<Leg, LegCounters> = {
    up: { packets: 0, dropped: 0, reordered: 0, bySsrc: new Map() },
    down: { packets: 0, dropped: 0, reordered: 0, bySsrc: new Map() },
  };

  private constructor(front: Socket, back: Socket, target: { ip: string; port: number }, seed: number) {
    this.#front = front;
    this.#back = back;
    this.#target = target;
    this.#seed = seed >>> 0;
    this.#rand = { up: mulberry32(seed), down: mulberry32(seed ^ 0x5bd1e995) };
    front.on('message', (msg, rinfo) => {
      this.#client = rinfo;
      this.#pass('up', msg);
    });
    back.on('message', (msg, rinfo) => {
      if (rinfo.port !== target.port || rinfo.address !== target.ip) return;
      this.#pass('down', msg);
    });
    front.on('error', () => undefined);
    back.on('error', () => undefined);
  }

  /** Starts a proxy to the bridge's UDP port at `target`. */
  static async start(target: { ip: string; port: number }, seed = 1): Promise<UdpImpairmentProxy> {
    const bind = (): Promise<Socket> =>
      new Promise((resolve, reject) => {
        const s = createSocket('udp4');
        s.once('error', reject);
        s.bind(0, '127.0.0.1', () => {
          s.off('error', reject);
          resolve(s);
        });
      });
    const [front, back] = await Promise.all([bind(), bind()]);
    return new UdpImpairmentProxy(front, back, target, seed);
  }

  /** Where the participant must send (its bridge candidate). */
  get address(): { ip: string; port: number } {
    return { ip: '127.0.0.1', port: this.#front.address().port };
  }

  /** Replaces the impairment of one leg (or both). */
  set(leg: Leg | 'both', imp: Impairment): void {
    if (leg === 'both' || leg === 'up') this.impair.up = { ...imp };
    if (leg === 'both' || leg === 'down') this.impair.down = { ...imp };
  }

  /** Per-SSRC counters of one leg ({packets: 0, dropped: 0} when never seen). */
  ssrc(leg: Leg, ssrc: number): { packets: number; dropped: number } {
    return this.counters[leg].bySsrc.get(ssrc) ?? { packets: 0, dropped: 0 };
  }

  /** Clears the counters (not the impairments). */
  resetCounters(): void {
    for (const leg of ['up', 'down'] as const) {
      const c = this.counters[leg];
      c.packets = 0;
      c.dropped = 0;
      c.reordered = 0;
      c.bySsrc.clear();
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.#front.close();
    this.#back.close();
  }

  #pass(leg: Leg, msg: Buffer): void {
    if (this.#closed) return;
    const imp = this.impair[leg];
    const c = this.counters[leg];
    c.packets++;
    const rtp = rtpHeader(msg);
    let per: { packets: number; dropped: number } | undefined;
    if (rtp !== undefined) {
      per = c.bySsrc.get(rtp.ssrc);
      if (per === undefined) {
        per = { packets: 0, dropped: 0 };
        c.bySsrc.set(rtp.ssrc, per);
      }
      per.packets++;
    }
    const rand = this.#rand[leg];
    let lost = imp.drop === true;
    if (!lost && (imp.loss ?? 0) > 0) {
      if (rtp !== undefined) {
        // Deterministic per packet; a packet seen again (the same number re-sent) gets a fresh draw.
        const key = `${leg}:${rtp.ssrc}:${rtp.seq}`;
        const n = (this.#seen.get(key) ?? 0) + 1;
        this.#seen.set(key, n);
        lost = hash01(this.#seed, leg === 'up' ? 1 : 2, rtp.ssrc, rtp.seq, n) < (imp.loss ?? 0);
      } else {
        lost = rand() < (imp.loss ?? 0);
      }
    }
    if (lost) {
      c.dropped++;
      if (per !== undefined) per.dropped++;
      return;
    }
    const now = performance.now();
    let due = now + ((imp.jitterMs ?? 0) > 0 ? rand() * (imp.jitterMs ?? 0) : 0);
    if ((imp.reorder ?? 0) > 0 && rand() < (imp.reorder ?? 0)) {
      due += imp.reorderDelayMs ?? 10;
      c.reordered++;
    } else {
      due = Math.max(due, this.#lastDue[leg]);
      this.#lastDue[leg] = due;
    }
    const delay = due - now;
    if (delay <= 0) {
      this.#send(leg, msg);
      return;
    }
    const t = setTimeout(() => {
      this.#timers.delete(t);
      this.#send(leg, msg);
    }, delay);
    this.#timers.add(t);
  }

  #send(leg: Leg, msg: Buffer): void {
    if (this.#closed) return;
    if (leg === 'up') this.#back.send(msg, this.#target.port, this.#target.ip);
    else if (this.#client !== undefined) this.#front.send(msg, this.#client.port, this.#client.address);
  }
}
