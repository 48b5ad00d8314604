/**
 * Fuzzing the media port itself, on real loopback UDP.
 *
 * Set-up (as transport.test.ts's "connects two transports to each other"): one bridge {@link UdpMux} with two
 * {@link EndpointTransport}s; each is connected to a peer EndpointTransport on its own mux (the peers play the
 * browsers: they check the bridge, which learns their addresses peer-reflexively, then DTLS with the bridge as
 * server). Pair 0 negotiates AES128_CM_HMAC_SHA1_80, pair 1 AEAD_AES_128_GCM. A two-line forwarder on the bridge
 * relays whatever one endpoint's transport decrypts to the other one, so "media flows" means peer 0 → bridge →
 * peer 1 and back, both hops encrypted.
 *
 * Then datagrams are thrown at the port:
 * (a) from an unknown address: a separate socket sending to the mux port, paced on the mux's receive counter so the
 *     kernel buffer is not the only thing being tested;
 * (b) from a peer's VERIFIED address: a socket cannot bind the peer's port, so these are injected exactly where the
 *     mux would hand them over — `mux.routeOf(ip, port).handleDatagram(buf, len, ip, port)` for non-STUN and the
 *     mux's STUN routing (requests by USERNAME ufrag, the rest by address) into `handleStun` — in batches with event
 *     loop turns between them so real media, consent and timers interleave.
 *
 * Inputs: the peers' own captured datagrams (STUN checks, DTLS flights, SRTP, SRTCP: replayed and mutated), the
 * parser corpora (RTP with extensions/padding, VP8, compound RTCP, STUN with USERNAME/MESSAGE-INTEGRITY/FINGERPRINT
 * signed with a WRONG key and the bridge's real ufrags, DTLS records), and random bytes in every RFC 7983 range.
 */
import { createSocket, type Socket } from 'node:dgram';
import { setImmediate as turn } from 'node:timers/promises';
import { pino, type Logger } from 'pino';
import { DatagramKind, classifyDatagram } from '../../src/rtp/classify.js';
import type { BridgeCertificate } from '../../src/transport/certificate.js';
import { EndpointTransport } from '../../src/transport/endpoint-transport.js';
import { SrtpProfile } from '../../src/transport/srtp.js';
import { StunClass, parseStunMessage } from '../../src/transport/stun.js';
import { UdpMux, type UdpMuxCounters } from '../../src/transport/udp-mux.js';
import { buildDtls, buildRtcpCompound, buildRtp, buildStun } from './corpus.js';
import type { FuzzFailure } from './engine.js';
import type { Watchdog } from './watchdog.js';
import { DTLS_MUTATORS, GENERIC_MUTATORS, RTCP_MUTATORS, RTP_MUTATORS, SRTP_MUTATORS, STUN_MUTATORS, VP8_MUTATORS, mutate, stunResign, type Mutator } from './mutators.js';
import { Prng, caseSeed } from './prng.js';

/** SSRCs the peers send from. */
export const PEER_SSRC = [0x0a0a_0001, 0x0b0b_0002] as const;
const PT_VP8 = 96;
const LOOPBACK = '127.0.0.1';

/** What a peer captured of its own sending (before it hit the wire). */
interface Captured {
  stun: Buffer[];
  dtls: Buffer[];
  srtp: Buffer[];
  srtcp: Buffer[];
}

/** Counts of one stream of fuzz datagrams. */
export interface StreamReport {
  /** Datagrams generated. */
  cases: number;
  /** Datagrams by what they were built from. */
  bySource: Record<string, number>;
  /** Exceptions thrown synchronously into the harness (verified-address injection only; the mux catches its own). */
  failures: FuzzFailure[];
  failureCount: number;
  /** (a) only: datagrams the kernel dropped before the mux saw them (pacing fell behind). */
  notReceived: number;
  elapsedMs: number;
}

function emptyCaptured(): Captured {
  return { stun: [], dtls: [], srtp: [], srtcp: [] };
}

function waitFor(cond: () => boolean, what: () => string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const poll = (): void => {
      if (cond()) resolve();
      else if (Date.now() > deadline) reject(new Error(`timed out waiting for ${what()}`));
      else setTimeout(poll, 5);
    };
    poll();
  });
}

/** A plain RTP packet carrying a 4-byte tag (to match what was sent with what arrived). */
function taggedRtp(ssrc: number, seq: number, tag: number, size: number): Buffer {
  const b = Buffer.alloc(12 + Math.max(4, size));
  b[0] = 0x80;
  b[1] = PT_VP8;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE((seq * 3000) >>> 0, 4);
  b.writeUInt32BE(ssrc >>> 0, 8);
  b.writeUInt32BE(tag >>> 0, 12);
  return b;
}

/** A receiver report from `ssrc` carrying a tag in a report block's SSRC field. */
function taggedRtcp(ssrc: number, tag: number): Buffer {
  const b = Buffer.alloc(32);
  b[0] = 0x81;
  b[1] = 201;
  b.writeUInt16BE(7, 2);
  b.writeUInt32BE(ssrc >>> 0, 4);
  b.writeUInt32BE(tag >>> 0, 8);
  return b;
}

/** See the file comment. Create with {@link PortHarness.create}; `close()` frees every socket and timer. */
export class PortHarness {
  readonly mux: UdpMux;
  readonly bridge: readonly [EndpointTransport, EndpointTransport];
  readonly peers: readonly [EndpointTransport, EndpointTransport];
  readonly #peerMuxes: readonly [UdpMux, UdpMux];
  readonly #captured: readonly [Captured, Captured] = [emptyCaptured(), emptyCaptured()];
  /** Tags received by each peer (from the other one, via the bridge). */
  readonly #rtpTags = [new Set<number>(), new Set<number>()] as const;
  readonly #rtcpTags = [new Set<number>(), new Set<number>()] as const;
  readonly #seq: [number, number] = [1000, 50_000];
  #tag = 1;
  #fuzzSocket: Socket | undefined;
  /** Datagrams the bridge sent to the unknown address (must stay 0: never a reflector). */
  repliesToUnknown = 0;
  #background: NodeJS.Timeout | undefined;
  #corpus: PortCorpus | undefined;

  private constructor(mux: UdpMux, bridge: [EndpointTransport, EndpointTransport], peers: [EndpointTransport, EndpointTransport], peerMuxes: [UdpMux, UdpMux]) {
    this.mux = mux;
    this.bridge = bridge;
    this.peers = peers;
    this.#peerMuxes = peerMuxes;
  }

  /** Binds the muxes, connects both pairs (ICE + DTLS-SRTP) and wires the forwarder. */
  static async create(o: { bridgeCert: BridgeCertificate; peerCert: BridgeCertificate; log?: Logger; seed: number }): Promise<PortHarness> {
    const log = o.log ?? pino({ level: 'silent' });
    const muxOpts = { port: 0, bindAddress: LOOPBACK, hostAddresses: [LOOPBACK], log };
    const mux = await UdpMux.create(muxOpts);
    const peerMuxes: [UdpMux, UdpMux] = [await UdpMux.create(muxOpts), await UdpMux.create(muxOpts)];
    const profiles = [[SrtpProfile.AES128_CM_HMAC_SHA1_80], [SrtpProfile.AEAD_AES_128_GCM]] as const;
    // Default consent timing (5 s / 30 s): the flood must not look like a dead peer. Connect within 10 s.
    const iceTiming = { connectTimeoutMs: 10_000 };
    const bridge: [EndpointTransport, EndpointTransport] = [
      new EndpointTransport({ mux, certificate: o.bridgeCert, log, iceTiming, srtpProfiles: profiles[0] }),
      new EndpointTransport({ mux, certificate: o.bridgeCert, log, iceTiming, srtpProfiles: profiles[1] }),
    ];
    const peers: [EndpointTransport, EndpointTransport] = [
      new EndpointTransport({ mux: peerMuxes[0], certificate: o.peerCert, log, iceTiming, srtpProfiles: profiles[0] }),
      new EndpointTransport({ mux: peerMuxes[1], certificate: o.peerCert, log, iceTiming, srtpProfiles: profiles[1] }),
    ];
    const h = new PortHarness(mux, bridge, peers, peerMuxes);
    try {
      for (const i of [0, 1] as const) h.#tap(i);
      for (const i of [0, 1] as const) {
        const b = bridge[i];
        const p = peers[i];
        // As lib-jitsi-meet: the client signals no candidates; the bridge learns its address from its checks.
        b.setRemote({ ufrag: p.localUfrag, pwd: p.localPwd, fingerprints: [{ ...p.localFingerprint, setup: 'active' }] });
        p.setRemote({ ufrag: b.localUfrag, pwd: b.localPwd, fingerprints: [{ ...b.localFingerprint, setup: 'passive' }], candidates: b.localCandidates() });
      }
      await waitFor(
        () => [...bridge, ...peers].every((t) => t.state === 'connected'),
        () => `connected: bridge ${bridge.map((t) => t.state).join('/')}, peers ${peers.map((t) => t.state).join('/')}`,
      );
      // The forwarder: what endpoint i's transport decrypts goes out encrypted to endpoint 1 − i.
      bridge[0].onRtp = (buf, len) => bridge[1].sendRtp(buf, len);
      bridge[1].onRtp = (buf, len) => bridge[0].sendRtp(buf, len);
      bridge[0].onRtcp = (buf, len) => bridge[1].sendRtcp(buf, len);
      bridge[1].onRtcp = (buf, len) => bridge[0].sendRtcp(buf, len);
      for (const i of [0, 1] as const) {
        const other = 1 - i;
        peers[i].onRtp = (buf, len) => {
          if (len >= 16 && buf.readUInt32BE(8) === PEER_SSRC[other]) h.#rtpTags[i].add(buf.readUInt32BE(12));
        };
        peers[i].onRtcp = (buf, len) => {
          if (len >= 12 && buf[1] === 201 && buf.readUInt32BE(4) === PEER_SSRC[other]) h.#rtcpTags[i].add(buf.readUInt32BE(8));
        };
      }
      // Some real media so the captures hold SRTP/SRTCP of both profiles.
      await h.exchange(40);
      h.#corpus = new PortCorpus(o.seed, h);
    } catch (err) {
      await h.close();
      throw err;
    }
    return h;
  }

  /** Records what peer i sends (copies), by kind, to replay and mutate later. */
  #tap(i: 0 | 1): void {
    const pm = this.#peerMuxes[i];
    const cap = this.#captured[i];
    const send = pm.send.bind(pm);
    pm.send = (buf: Buffer, len: number, ip: string, port: number): boolean => {
      const kind = classifyDatagram(buf, len);
      const list = kind === DatagramKind.Stun ? cap.stun : kind === DatagramKind.Dtls ? cap.dtls : kind === DatagramKind.Rtp ? cap.srtp : kind === DatagramKind.Rtcp ? cap.srtcp : undefined;
      if (list !== undefined && list.length < 400) list.push(Buffer.from(buf.subarray(0, len)));
      return send(buf, len, ip, port);
    };
  }

  /** Captured datagrams of peer i. */
  captured(i: 0 | 1): Readonly<Captured> {
    return this.#captured[i];
  }

  /** The verified address the bridge uses for peer i. */
  peerAddress(i: 0 | 1): { ip: string; port: number } {
    const sel = this.bridge[i].stats().selectedPair;
    if (sel === undefined) throw new Error(`bridge transport ${i} has no selected pair`);
    return { ip: sel.ip, port: sel.port };
  }

  /**
   * Sends `n` tagged RTP packets (and n/4 RTCP) from each peer to the other through the bridge and waits until all
   * arrived; returns how many arrived (rtp, rtcp) per direction. Rejects when they don't within the timeout.
   */
  async exchange(n: number, timeoutMs = 15_000): Promise<{ rtp: [number, number]; rtcp: [number, number] }> {
    const want: [Set<number>, Set<number>] = [new Set(), new Set()];
    const wantRtcp: [Set<number>, Set<number>] = [new Set(), new Set()];
    for (let k = 0; k < n; k++) {
      for (const i of [0, 1] as const) {
        const tag = this.#tag++;
        want[1 - i]?.add(tag);
        const pkt = taggedRtp(PEER_SSRC[i], this.#seq[i]++, tag, 20 + (k % 7) * 150);
        this.peers[i].sendRtp(pkt, pkt.length);
        if (k % 4 === 0) {
          const rtag = this.#tag++;
          wantRtcp[1 - i]?.add(rtag);
          const rr = taggedRtcp(PEER_SSRC[i], rtag);
          this.peers[i].sendRtcp(rr, rr.length);
        }
      }
      if (k % 16 === 15) await turn();
    }
    const got = (i: 0 | 1, rtcp: boolean): number => {
      let c = 0;
      for (const t of (rtcp ? wantRtcp : want)[i]) if ((rtcp ? this.#rtcpTags : this.#rtpTags)[i].has(t)) c++;
      return c;
    };
    await waitFor(
      () => got(0, false) === n && got(1, false) === n && got(0, true) === wantRtcp[0].size && got(1, true) === wantRtcp[1].size,
      () => `media: peer0 got ${got(0, false)}/${n} RTP ${got(0, true)}/${wantRtcp[0].size} RTCP, peer1 got ${got(1, false)}/${n} RTP ${got(1, true)}/${wantRtcp[1].size} RTCP`,
      timeoutMs,
    );
    return { rtp: [got(0, false), got(1, false)], rtcp: [got(0, true), got(1, true)] };
  }

  /** Starts background media (one RTP per peer every `intervalMs`, RTCP every 10th) while fuzzing. */
  startBackgroundMedia(intervalMs = 4): void {
    let k = 0;
    this.#background = setInterval(() => {
      for (const i of [0, 1] as const) {
        const pkt = taggedRtp(PEER_SSRC[i], this.#seq[i]++, 0, 200);
        this.peers[i].sendRtp(pkt, pkt.length);
        if (k % 10 === 0) {
          const rr = taggedRtcp(PEER_SSRC[i], 0);
          this.peers[i].sendRtcp(rr, rr.length);
        }
      }
      k++;
    }, intervalMs);
  }

  stopBackgroundMedia(): void {
    if (this.#background !== undefined) clearInterval(this.#background);
    this.#background = undefined;
  }

  /** (a) `cases` datagrams from an unknown address (a separate socket), paced on the mux's receive counter. */
  async fuzzFromUnknownAddress(
    cases: number,
    o: { seed: number; familyIndex: number; window?: number; batch?: number; onDatagram?: (buf: Buffer) => void; watchdog?: Watchdog },
  ): Promise<StreamReport> {
    const corpus = this.#corpus as PortCorpus;
    const socket = await this.#unknownSocket();
    const rng = new Prng(0);
    const bySource: Record<string, number> = {};
    const window = o.window ?? 48;
    const batch = o.batch ?? 16;
    const t0 = performance.now();
    // Fuzz datagrams the mux has read = everything it read − what the peers sent it (their media and checks).
    const received = (): number => this.mux.counters.datagramsIn - this.#peerDatagramsOut();
    const base = received();
    let sent = 0;
    let notReceived = 0;
    let seen = base;
    while (sent < cases) {
      const n = Math.min(batch, cases - sent);
      for (let k = 0; k < n; k++) {
        const seed = caseSeed(o.seed, o.familyIndex, sent);
        rng.reseed(seed);
        // The watchdog stays armed while pacing: if the mux or a transport hangs on a datagram, the event loop stops
        // and the last datagrams sent are the suspects (the report shows the last one).
        o.watchdog?.begin(o.familyIndex, sent, seed);
        const { buf, source } = corpus.unknownAddressDatagram(rng);
        o.watchdog?.input(buf);
        bySource[source] = (bySource[source] ?? 0) + 1;
        o.onDatagram?.(buf);
        socket.send(buf);
        sent++;
      }
      // Pace: let the mux catch up to within `window` datagrams; count the ones the kernel dropped.
      let idle = 0;
      while (received() - base + notReceived < sent - window) {
        await turn();
        const r = received();
        if (r === seen) {
          if (++idle > 100) {
            notReceived = sent - window - (r - base);
            break;
          }
        } else idle = 0;
        seen = r;
      }
    }
    // Drain.
    let idle = 0;
    while (received() - base + notReceived < sent && idle < 100) {
      const before = received();
      await turn();
      idle = received() === before ? idle + 1 : 0;
    }
    notReceived = Math.max(notReceived, sent - (received() - base));
    o.watchdog?.idle();
    return { cases, bySource, failures: [], failureCount: 0, notReceived, elapsedMs: performance.now() - t0 };
  }

  #peerDatagramsOut(): number {
    return (this.peers[0].stats().packetsOut + this.peers[1].stats().packetsOut) | 0;
  }

  async #unknownSocket(): Promise<Socket> {
    if (this.#fuzzSocket !== undefined) return this.#fuzzSocket;
    const s = createSocket('udp4');
    s.on('message', () => this.repliesToUnknown++);
    s.on('error', () => {});
    await new Promise<void>((r) => s.bind(0, LOOPBACK, () => r()));
    await new Promise<void>((r) => s.connect(this.mux.port, LOOPBACK, () => r()));
    this.#fuzzSocket = s;
    return s;
  }

  /**
   * (b) `cases` datagrams "from" peer i's verified address, injected where the mux hands datagrams over, in
   * batches of `batch` with an event-loop turn between batches.
   */
  async fuzzFromVerifiedAddress(
    cases: number,
    o: { seed: number; familyIndex: number; batch?: number; maxFailures?: number; onDatagram?: (buf: Buffer) => void; watchdog?: Watchdog },
  ): Promise<StreamReport> {
    const corpus = this.#corpus as PortCorpus;
    const rng = new Prng(0);
    const bySource: Record<string, number> = {};
    const failures: FuzzFailure[] = [];
    let failureCount = 0;
    const batch = o.batch ?? 64;
    const addrs = [this.peerAddress(0), this.peerAddress(1)] as const;
    const t0 = performance.now();
    for (let k = 0; k < cases; k++) {
      const seed = caseSeed(o.seed, o.familyIndex, k);
      rng.reseed(seed);
      o.watchdog?.begin(o.familyIndex, k, seed);
      const i = (k & 1) as 0 | 1;
      const { buf, source, mutations } = corpus.verifiedAddressDatagram(rng, i);
      o.watchdog?.input(buf);
      bySource[source] = (bySource[source] ?? 0) + 1;
      o.onDatagram?.(buf);
      try {
        this.#inject(i, addrs[i], buf);
      } catch (err) {
        failureCount++;
        if (failures.length < (o.maxFailures ?? 20)) {
          failures.push({
            family: `port-verified-${i}`,
            runSeed: o.seed,
            caseIndex: k,
            caseSeed: seed,
            message: err instanceof Error ? `${err.name}: ${err.message}\n${(err.stack ?? '').split('\n').slice(1, 6).join('\n')}` : String(err),
            inputHex: buf.toString('hex'),
            mutations,
          });
        }
      }
      if (k % batch === batch - 1) await turn();
    }
    o.watchdog?.idle();
    return { cases, bySource, failures, failureCount, notReceived: 0, elapsedMs: performance.now() - t0 };
  }

  /** What UdpMux#onMessage does with a datagram from (ip, port); the buffer is fresh, as dgram's are. */
  #inject(i: 0 | 1, addr: { ip: string; port: number }, buf: Buffer): void {
    const routed = this.mux.routeOf(addr.ip, addr.port);
    if (routed !== this.bridge[i]) throw new Error(`route of peer ${i} lost`);
    if (buf.length === 0) return; // the mux counts and drops empty datagrams
    if ((buf[0] as number) <= 3) {
      const msg = parseStunMessage(buf);
      if (msg === undefined) return; // stunMalformed
      if (msg.cls === StunClass.Request) {
        const u = msg.username;
        if (u === undefined) return;
        const colon = u.indexOf(':');
        const ufrag = colon < 0 ? u : u.slice(0, colon);
        const ep = this.bridge.find((t) => t.localUfrag === ufrag);
        if (ep === undefined) return; // stunUnknownUfrag
        ep.handleStun(msg, buf, addr.ip, addr.port);
        return;
      }
      routed.handleStun(msg, buf, addr.ip, addr.port);
      return;
    }
    routed.handleDatagram(buf, buf.length, addr.ip, addr.port);
  }

  /** Snapshot of what the invariants look at. */
  snapshot(): PortSnapshot {
    return {
      mux: structuredClone(this.mux.counters),
      registrations: this.mux.registrationCount,
      bridge: this.bridge.map((t) => {
        const s = t.stats();
        return { state: s.state, selected: s.selectedPair === undefined ? undefined : `${s.selectedPair.ip}:${s.selectedPair.port}`, pairs: s.ice.pairs, rtpIn: s.rtpIn, rtcpIn: s.rtcpIn, dropped: { ...s.dropped }, ice: { ...s.ice.counters }, hasTimer: t.hasTimer };
      }),
      peers: this.peers.map((t) => {
        const s = t.stats();
        return { state: s.state, rtpOut: s.rtpOut, rtcpOut: s.rtcpOut, rtpIn: s.rtpIn, rtcpIn: s.rtcpIn };
      }),
      repliesToUnknown: this.repliesToUnknown,
    };
  }

  /** Closes every transport, mux and socket. */
  async close(): Promise<void> {
    this.stopBackgroundMedia();
    for (const t of [...this.bridge, ...this.peers]) t?.close();
    this.#fuzzSocket?.close();
    this.#fuzzSocket = undefined;
    await Promise.all([this.mux.close(), ...this.#peerMuxes.map((m) => m.close())]);
  }
}

/** See {@link PortHarness.snapshot}. */
export interface PortSnapshot {
  mux: UdpMuxCounters;
  registrations: number;
  bridge: {
    state: string;
    selected: string | undefined;
    pairs: number;
    rtpIn: number;
    rtcpIn: number;
    dropped: Record<string, number>;
    ice: Record<string, number>;
    hasTimer: boolean;
  }[];
  peers: { state: string; rtpOut: number; rtcpOut: number; rtpIn: number; rtcpIn: number }[];
  repliesToUnknown: number;
}

/** Per-counter difference `after − before` of two flat counter records (only the non-zero ones). */
export function counterDelta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) {
    const d = v - (before[k] ?? 0);
    if (d !== 0) out[k] = d;
  }
  return out;
}

/** The inputs of the port streams. */
class PortCorpus {
  readonly #rtp: Buffer[] = [];
  readonly #vp8: Buffer[] = [];
  readonly #rtcp: Buffer[] = [];
  readonly #stun: Buffer[] = [];
  readonly #dtls: Buffer[] = [];
  readonly #h: PortHarness;

  constructor(seed: number, h: PortHarness) {
    this.#h = h;
    const rng = new Prng(seed ^ 0x5eed);
    for (let i = 0; i < 300; i++) this.#rtp.push(buildRtp(rng));
    for (let i = 0; i < 150; i++) this.#vp8.push(buildRtp(rng, { vp8: true, maxPayload: 400 }));
    for (let i = 0; i < 300; i++) this.#rtcp.push(buildRtcpCompound(rng));
    for (let i = 0; i < 100; i++) this.#dtls.push(buildDtls(rng));
    // STUN with the bridge's REAL ufrags (so requests get routed to the transports and into ICE) but signed with a
    // WRONG password, plus unknown ufrags and responses. A wrong key keeps every one of them unauthenticated.
    const usernames = [
      ...h.bridge.map((b, i) => `${b.localUfrag}:${h.peers[i]?.localUfrag ?? 'x'}`),
      ...h.bridge.map((b) => `${b.localUfrag}:`),
      'nobodyhere:x',
      'x',
    ];
    const wrong = { usernames, requestKey: Buffer.from('not-the-password-not-the-password'), responseKey: Buffer.from('also-not-the-password-at-all') };
    for (let i = 0; i < 300; i++) this.#stun.push(buildStun(rng, wrong));
  }

  #mutated(rng: Prng, base: Buffer, donors: readonly Buffer[], mutators: Readonly<Record<string, Mutator>>, applied: string[]): Buffer {
    // Never byte-identical to the base: a replayed valid check from a new address is legitimate ICE, not garbage.
    for (let tries = 0; tries < 4; tries++) {
      const out = mutate(rng, base, mutators, { donors }, applied);
      if (!out.equals(base)) return out;
    }
    return Buffer.concat([base, Buffer.from([0])]);
  }

  /**
   * A mutated wrong-key STUN message; 40 % get their FINGERPRINT re-computed so they pass the FINGERPRINT check and
   * reach MESSAGE-INTEGRITY (which fails: wrong key). Never applied to the peers' real messages.
   */
  #wrongKeyStun(rng: Prng, applied: string[]): Buffer {
    const out = this.#mutated(rng, rng.pick(this.#stun), this.#stun, STUN_MUTATORS, applied);
    if (!rng.chance(0.4)) return out;
    applied.push('refingerprint');
    return stunResign(out, undefined);
  }

  #random(rng: Prng): Buffer {
    const k = rng.int(10);
    if (k === 0) return Buffer.alloc(0);
    if (k === 1) return rng.bytes(rng.range(1, 3));
    if (k === 2) return rng.bytes(rng.range(1500, 9000)); // larger than any MTU
    const b = rng.bytes(rng.length(1400));
    if (b.length > 0) b[0] = rng.pick([rng.int(4), rng.range(16, 19), rng.range(20, 63), rng.range(64, 79), rng.range(128, 191), rng.byte()]);
    if (b.length >= 8 && (b[0] as number) <= 3 && rng.chance(0.5)) b.writeUInt32BE(0x2112a442, 4);
    return b;
  }

  /** (a): anything, as a stranger would send it. */
  unknownAddressDatagram(rng: Prng): { buf: Buffer; source: string } {
    const cap = this.#h.captured(rng.int(2) as 0 | 1);
    const applied: string[] = [];
    const which = rng.weighted([30, 14, 6, 14, 8, 6, 8, 4, 10]);
    switch (which) {
      case 0: {
        if (rng.chance(0.2) && cap.stun.length > 0) {
          // The peer's real (correctly signed) messages: only ever mutated, never re-signed.
          return { buf: this.#mutated(rng, rng.pick(cap.stun), this.#stun, STUN_MUTATORS, applied), source: 'stun-captured-mutated' };
        }
        if (rng.chance(0.1)) return { buf: rng.pick(this.#stun), source: 'stun-wrong-key' };
        return { buf: this.#wrongKeyStun(rng, applied), source: 'stun-mutated' };
      }
      case 1:
        return { buf: rng.chance(0.1) ? rng.pick(this.#rtp) : mutate(rng, rng.pick(this.#rtp), RTP_MUTATORS, { donors: this.#rtp }, applied), source: 'rtp' };
      case 2:
        return { buf: mutate(rng, rng.pick(this.#vp8), VP8_MUTATORS, { donors: this.#vp8 }, applied), source: 'vp8' };
      case 3:
        return { buf: rng.chance(0.1) ? rng.pick(this.#rtcp) : mutate(rng, rng.pick(this.#rtcp), RTCP_MUTATORS, { donors: this.#rtcp }, applied), source: 'rtcp' };
      case 4:
        if (cap.srtp.length > 0) return { buf: rng.chance(0.2) ? rng.pick(cap.srtp) : mutate(rng, rng.pick(cap.srtp), SRTP_MUTATORS, { donors: cap.srtp }, applied), source: 'srtp-captured' };
        return { buf: this.#random(rng), source: 'random' };
      case 5:
        if (cap.srtcp.length > 0) return { buf: rng.chance(0.2) ? rng.pick(cap.srtcp) : mutate(rng, rng.pick(cap.srtcp), SRTP_MUTATORS, { donors: cap.srtcp }, applied), source: 'srtcp-captured' };
        return { buf: this.#random(rng), source: 'random' };
      case 6: {
        const pool = cap.dtls.length > 0 && rng.chance(0.4) ? cap.dtls : this.#dtls;
        return { buf: rng.chance(0.1) ? rng.pick(pool) : mutate(rng, rng.pick(pool), DTLS_MUTATORS, { donors: pool }, applied), source: 'dtls' };
      }
      case 7:
        return { buf: mutate(rng, rng.bytes(rng.range(1, 200)), GENERIC_MUTATORS, { donors: this.#rtp }, applied), source: 'random-mutated' };
      default:
        return { buf: this.#random(rng), source: 'random' };
    }
  }

  /** (b): what peer i's verified address might carry: its own traffic replayed/mutated, and everything else. */
  verifiedAddressDatagram(rng: Prng, i: 0 | 1): { buf: Buffer; source: string; mutations: string[] } {
    const cap = this.#h.captured(i);
    const m: string[] = [];
    const which = rng.weighted([28, 14, 6, 14, 8, 8, 6, 6, 10]);
    const pick = (pool: readonly Buffer[], fallback: readonly Buffer[]): readonly Buffer[] => (pool.length > 0 ? pool : fallback);
    switch (which) {
      case 0: {
        const pool = pick(cap.srtp, this.#rtp);
        return { buf: mutate(rng, rng.pick(pool), SRTP_MUTATORS, { donors: pool }, m), source: 'srtp-mutated', mutations: m };
      }
      case 1: {
        const pool = pick(cap.srtcp, this.#rtcp);
        return { buf: mutate(rng, rng.pick(pool), SRTP_MUTATORS, { donors: pool }, m), source: 'srtcp-mutated', mutations: m };
      }
      case 2: {
        // Exact replays of the peer's own packets: replay protection must drop them.
        const pool = rng.chance(0.7) ? pick(cap.srtp, this.#rtp) : pick(cap.srtcp, this.#rtcp);
        m.push('replay');
        return { buf: Buffer.from(rng.pick(pool)), source: 'srtp-replayed', mutations: m };
      }
      case 3: {
        const pool = rng.chance(0.5) ? pick(cap.dtls, this.#dtls) : this.#dtls;
        if (rng.chance(0.15)) {
          m.push('replay');
          return { buf: Buffer.from(rng.pick(pool)), source: 'dtls-replayed', mutations: m };
        }
        return { buf: mutate(rng, rng.pick(pool), DTLS_MUTATORS, { donors: pool }, m), source: 'dtls-mutated', mutations: m };
      }
      case 4: {
        if (rng.chance(0.3) && cap.stun.length > 0) return { buf: this.#mutated(rng, rng.pick(cap.stun), this.#stun, STUN_MUTATORS, m), source: 'stun-captured-mutated', mutations: m };
        return { buf: this.#wrongKeyStun(rng, m), source: 'stun-mutated', mutations: m };
      }
      case 5:
        return { buf: mutate(rng, rng.pick(this.#rtp), RTP_MUTATORS, { donors: this.#rtp }, m), source: 'rtp-plain', mutations: m };
      case 6:
        return { buf: mutate(rng, rng.pick(this.#rtcp), RTCP_MUTATORS, { donors: this.#rtcp }, m), source: 'rtcp-plain', mutations: m };
      case 7:
        return { buf: mutate(rng, rng.pick(this.#vp8), VP8_MUTATORS, { donors: this.#vp8 }, m), source: 'vp8-plain', mutations: m };
      default:
        return { buf: this.#random(rng), source: 'random', mutations: ['random'] };
    }
  }
}
