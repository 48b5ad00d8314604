/**
 * Fuzzing the media port on real loopback UDP (issue 4 "Bad input": "at least 100,000 random and mutated
 * RTP/RTCP/STUN datagrams at the port, after which forwarding still works"; issue 7: never crashes or leaks).
 *
 * One UdpMux with two EndpointTransports, each connected (ICE + DTLS-SRTP, one AES-CM and one GCM) to a peer
 * EndpointTransport on its own mux, with media forwarded peer 0 ⇄ bridge ⇄ peer 1 (see fuzz/port.ts). While
 * background media flows, 100,000 datagrams come from an unknown address (a real socket, paced on the mux's
 * receive counter) and 100,000 more from the peers' verified addresses (injected where the mux hands datagrams to a
 * transport). Afterwards: both transports still connected on the same pair, no new ICE pairs or routes, nothing
 * was ever sent to the unknown address, every fuzzed datagram was dropped and counted by reason (no fuzzed packet
 * reached onRtp/onRtcp), 200 RTP + 50 RTCP packets go each way and all arrive, the heap did not grow (when a GC
 * handle is available) and no timer was left behind. Uncaught exceptions and unhandled rejections fail the run.
 *
 * FUZZ_SEED=<n> picks another seed (the run is still timing-dependent, so a failure prints the seed and the
 * counters rather than promising a bit-exact replay).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBridgeCertificate } from '../src/transport/certificate.js';
import { formatFailures } from './fuzz/engine.js';
import { exposeGc, heapUsedAfterGc } from './fuzz/gc.js';
import { PortHarness, counterDelta, type PortSnapshot } from './fuzz/port.js';
import { seedFromEnv } from './fuzz/prng.js';
import { Watchdog } from './fuzz/watchdog.js';

const SEED = seedFromEnv('FUZZ_SEED', 0x00c0ffee);
const SCALE = Number(process.env.FUZZ_SCALE ?? 1) || 1;
const UNKNOWN_CASES = Math.round(100_000 * SCALE);
const VERIFIED_CASES = Math.round(100_000 * SCALE);
/** Scaled-down runs (FUZZ_SCALE < 1) may not reach every drop reason; only full runs insist on each one. */
const FULL = SCALE >= 1;

function timeouts(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

const MUX_DROPS = ['empty', 'stunMalformed', 'stunNoUsername', 'stunUnknownUfrag', 'stunUnknownAddress', 'unknownAddress'] as const;

function sum(o: Record<string, number>, keys: readonly string[]): number {
  let s = 0;
  for (const k of keys) s += o[k] ?? 0;
  return s;
}

describe(`fuzzing the media port (seed ${SEED})`, () => {
  let h: PortHarness;
  let watchdog: Watchdog;
  beforeAll(async () => {
    watchdog = new Watchdog({ 100: 'port-unknown', 101: 'port-verified', 200: 'port-warm-up-unknown', 201: 'port-warm-up-verified' });
    h = await PortHarness.create({ bridgeCert: await createBridgeCertificate(), peerCert: await createBridgeCertificate(), seed: SEED });
  });
  afterAll(async () => {
    await h?.close();
    await watchdog?.stop();
  });

  it(`survives ${UNKNOWN_CASES.toLocaleString('en')} datagrams from an unknown address and ${VERIFIED_CASES.toLocaleString('en')} from the verified addresses; forwarding still works`, async () => {
    const gc = exposeGc();
    // Warm-up (JIT, pools, per-session scratch buffers grown to the largest datagram) before the baselines.
    await h.fuzzFromUnknownAddress(3000, { seed: SEED ^ 1, familyIndex: 200, watchdog });
    await h.fuzzFromVerifiedAddress(3000, { seed: SEED ^ 1, familyIndex: 201, watchdog });
    await h.exchange(20);
    const heapBefore = gc !== undefined ? heapUsedAfterGc(gc) : 0;
    const timersBefore = timeouts();
    const before = h.snapshot();

    h.startBackgroundMedia();
    const a = await h.fuzzFromUnknownAddress(UNKNOWN_CASES, { seed: SEED, familyIndex: 100, watchdog });
    const mid = h.snapshot();
    const b = await h.fuzzFromVerifiedAddress(VERIFIED_CASES, { seed: SEED, familyIndex: 101, watchdog });
    h.stopBackgroundMedia();

    // Forwarding still works, both ways, both profiles: every packet arrives.
    const ex = await h.exchange(200);
    expect(ex).toEqual({ rtp: [200, 200], rtcp: [50, 50] });

    const after: PortSnapshot = h.snapshot();
    const report = JSON.stringify(
      {
        seed: SEED,
        unknown: { ...a, failures: undefined },
        verified: { ...b, failures: undefined },
        mux: counterDelta(before.mux.dropped as unknown as Record<string, number>, after.mux.dropped as unknown as Record<string, number>),
        bridge: after.bridge.map((x, i) => ({ drops: counterDelta(before.bridge[i]?.dropped ?? {}, x.dropped), ice: counterDelta(before.bridge[i]?.ice ?? {}, x.ice) })),
      },
      null,
      1,
    );

    expect(b.failureCount, `exceptions from the verified-address injection:\n${formatFailures([{ family: 'port', cases: b.cases, outcomes: {}, failures: b.failures, failureCount: b.failureCount, elapsedMs: 0 }])}`).toBe(0);
    expect(after.mux.dropped.handlerError, report).toBe(0);
    // Nothing went back to the stranger: the bridge is never a reflector for unverified addresses.
    expect(after.repliesToUnknown, report).toBe(0);
    // Same connection, same pair, no addresses learned from the fuzz, same registrations.
    for (const i of [0, 1] as const) {
      const x = after.bridge[i];
      const y = before.bridge[i];
      expect(x?.state, report).toBe('connected');
      expect(after.peers[i]?.state, report).toBe('connected');
      expect(x?.selected, report).toBe(y?.selected);
      expect(x?.pairs, report).toBe(y?.pairs);
      expect(x?.hasTimer).toBe(true); // consent
      // No fuzzed packet was decrypted and handed on: at most what the peer really sent arrived.
      expect(x?.rtpIn, report).toBeLessThanOrEqual(after.peers[i]?.rtpOut ?? 0);
      expect(x?.rtcpIn, report).toBeLessThanOrEqual(after.peers[i]?.rtcpOut ?? 0);
    }
    expect(after.registrations).toBe(before.registrations);

    // The drops are there, by reason. (a): dropped at the mux, or by ICE (STUN for the bridge's ufrags).
    const muxDropsA = counterDelta(before.mux.dropped as unknown as Record<string, number>, mid.mux.dropped as unknown as Record<string, number>);
    if (FULL) for (const reason of MUX_DROPS) expect(muxDropsA[reason] ?? 0, `mux drop reason ${reason} never counted: ${report}`).toBeGreaterThan(0);
    const iceDropsA = [0, 1].map((i) => sum(counterDelta(before.bridge[i]?.ice ?? {}, mid.bridge[i]?.ice ?? {}), ['badFingerprint', 'badIntegrity', 'ignored']));
    expect((iceDropsA[0] ?? 0) + (iceDropsA[1] ?? 0), report).toBeGreaterThan(0);
    // Every datagram of (a) that reached the mux is accounted for by exactly one drop counter, at the mux or in ICE
    // (slack: peer packets in flight at the snapshots, and late consent responses ICE ignores).
    const receivedA = UNKNOWN_CASES - a.notReceived;
    const droppedA = sum(muxDropsA, MUX_DROPS) + (iceDropsA[0] ?? 0) + (iceDropsA[1] ?? 0);
    expect(droppedA, report).toBeGreaterThanOrEqual(receivedA);
    expect(droppedA, report).toBeLessThanOrEqual(receivedA + 50);
    // (a) never reached a transport's DTLS/SRTP path: unverified datagrams stop at the mux.
    for (const i of [0, 1] as const) expect(counterDelta(before.bridge[i]?.dropped ?? {}, mid.bridge[i]?.dropped ?? {}), report).toEqual({});
    // (b): dropped by the transports, by reason.
    for (const i of [0, 1] as const) {
      if (!FULL) break;
      const d = counterDelta(before.bridge[i]?.dropped ?? {}, after.bridge[i]?.dropped ?? {});
      for (const reason of ['rtpAuthFailed', 'rtpReplayed', 'rtpMalformed', 'rtcpAuthFailed', 'rtcpReplayed', 'dtlsRejected', 'unknownKind']) {
        expect(d[reason] ?? 0, `transport ${i} drop reason ${reason} never counted: ${report}`).toBeGreaterThan(0);
      }
    }

    // No leak: timers back to the baseline (werift's flight sleeps end at their next wake-up, so allow them to);
    // heap within a loose bound of the baseline after a full GC.
    const settleUntil = Date.now() + 5000;
    while (timeouts() > timersBefore && Date.now() < settleUntil) await new Promise((r) => setTimeout(r, 50));
    expect(timeouts()).toBeLessThanOrEqual(timersBefore);
    if (gc !== undefined) {
      const grownMb = (heapUsedAfterGc(gc) - heapBefore) / 1e6;
      expect(grownMb, `heap grew by ${grownMb.toFixed(1)} MB over ${UNKNOWN_CASES + VERIFIED_CASES} datagrams`).toBeLessThan(16);
    }
  }, 120_000);
});
