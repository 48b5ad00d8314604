/**
 * Issue 7, reliability: 5 % loss (plus reordering and jitter) between a participant and the bridge is repaired by
 * NACK/RTX so that the received video's loss after repair stays under 0.5 %.
 *
 * Two participants on loopback, each behind its own UDP impairment proxy (test/udp-impairment.ts, deterministically
 * seeded), both with `repair` (test/media-repair.ts: NACK gaps and unwrap RTX as a receiver, answer NACKs with RTX
 * as a sender, as a browser does) and VP8 simulcast with three packets per frame. Two legs are impaired in turn:
 *
 * 1. bridge → receiver: the receiver NACKs the bridge, which answers from its NACK cache with RTX;
 * 2. sender → bridge: the bridge NACKs the sender (pipeline/nack-requester.ts), unwraps the sender's RTX and forwards
 *    it with the sequence number the munger reserved for it.
 *
 * A window of received sequence numbers of the sender's video at the receiver is the measure: loss before repair is
 * what the proxy dropped of that stream (and what the receiver did not get as an original), loss after repair is
 * what never arrived by the end of the window (once nothing is outstanding). Figures are printed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../packages/server/src/index.js';
import { Participant, type ParticipantSsrcs, waitFor } from './participant.js';
import { type Impairment, UdpImpairmentProxy } from './udp-impairment.js';
import { startLoopbackServer } from './loopback-server.js';

const SENDER = 'a7a7a7a7';
const RECEIVER = 'b7b7b7b7';
const SSRCS: Record<string, ParticipantSsrcs> = {
  [SENDER]: { audio: 0x7a00_0001, video: 0x7a00_0010, rtx: 0x7a00_0020, layers: { video: [0x7a00_0011, 0x7a00_0012], rtx: [0x7a00_0021, 0x7a00_0022] } },
  [RECEIVER]: { audio: 0x7b00_0001, video: 0x7b00_0010, rtx: 0x7b00_0020, layers: { video: [0x7b00_0011, 0x7b00_0012], rtx: [0x7b00_0021, 0x7b00_0022] } },
};
/** 5 % loss, 2 % of packets held back 15 ms (reordered), 0–4 ms jitter. */
const IMPAIRMENT: Impairment = { loss: 0.05, reorder: 0.02, reorderDelayMs: 15, jitterMs: 4 };
/** Sequence numbers per window: 3 packets per frame at 30 fps = 90 packets/s, so about 9 s. */
const WINDOW = 800;

let server: RunningServer;
let room: string;
const proxies = new Map<string, UdpImpairmentProxy>();
const people = new Map<string, Participant>();

function p(nick: string): Participant {
  const x = people.get(nick);
  if (x === undefined) throw new Error(`no participant ${nick}`);
  return x;
}

function proxy(nick: string): UdpImpairmentProxy {
  const x = proxies.get(nick);
  if (x === undefined) throw new Error(`no proxy for ${nick}`);
  return x;
}

function bridgeEndpoint(nick: string) {
  const meetingId = server.focus?.getConference(room)?.meetingId;
  const conf = meetingId === undefined ? undefined : server.bridge?.bridge.getConferenceByMeetingId(meetingId);
  return conf?.endpoints.get(nick);
}

function problems(): string {
  return [...people.values()].flatMap((x) => x.problems.map((m) => `${x.endpointId}: ${m}`)).join('\n');
}

const pct = (n: number, of: number): string => `${of === 0 ? 'n/a' : ((100 * n) / of).toFixed(2)} %`;

interface WindowResult {
  expected: number;
  missing: number;
  viaRtx: number;
  originals: number;
  lossAfter: number;
}

/**
 * Impairs `leg` of `nick`'s proxy, measures a window of WINDOW sequence numbers of the sender's main video at the
 * receiver, waits until nothing in it is outstanding, and lifts the impairment.
 */
async function measure(nick: string, leg: 'up' | 'down'): Promise<WindowResult> {
  const rx = p(RECEIVER).repair;
  if (rx === undefined) throw new Error('receiver has no repair');
  const ssrc = SSRCS[SENDER]?.video as number;
  const px = proxy(nick);
  px.set(leg, IMPAIRMENT);
  px.resetCounters();
  const from = rx.mark(ssrc);
  await waitFor(() => {
    const at = rx.mark(ssrc);
    return at >= from + WINDOW ? undefined : `receiver at ${at - from}/${WINDOW} packets of the window\n${problems()}`;
  }, 30_000);
  const to = from + WINDOW;
  // Repairs for the window's last packets may still be under way: wait until none is outstanding (answered, or
  // given up after 10 NACKs / 1.5 s).
  await waitFor(() => (rx.outstanding(ssrc, to) === 0 ? undefined : `${rx.outstanding(ssrc, to)} NACKed packets outstanding`), 10_000);
  px.set(leg, {});
  const w = rx.window(ssrc, from, to);
  return { ...w, lossAfter: w.missing / w.expected };
}

beforeAll(async () => {
  server = await startLoopbackServer();
  room = `loss@${server.mucDomain}`;
  const port = server.bridge?.mux.port;
  if (port === undefined) throw new Error('no bridge');
  for (const [i, nick] of [SENDER, RECEIVER].entries()) {
    const px = await UdpImpairmentProxy.start({ ip: '127.0.0.1', port }, 0x5eed + i);
    proxies.set(nick, px);
    people.set(
      nick,
      await Participant.join({
        wsUrl: server.wsUrl,
        domain: server.domain,
        focusDomain: server.focusDomain,
        room,
        nick,
        ssrcs: SSRCS[nick] as ParticipantSsrcs,
        bridgeAddress: px.address,
        repair: true,
        videoPacketsPerFrame: 3,
      }),
    );
  }
  await waitFor(() => ([...people.values()].every((x) => x.offer !== undefined) ? undefined : `no offer yet\n${problems()}`));
  await Promise.all([...people.values()].map((x) => x.accepted()));
  await waitFor(() => ([...people.values()].every((x) => x.connected()) ? undefined : `ICE/DTLS not up through the proxies\n${problems()}`));
  // Media flows both ways through the proxies before anything is impaired.
  const video = SSRCS[SENDER]?.video as number;
  await waitFor(() => ((p(RECEIVER).repair?.stats(video)?.received ?? 0) > 60 ? undefined : `receiver has ${p(RECEIVER).count(video)} video packets\n${problems()}`));
});

afterAll(async () => {
  await Promise.all([...people.values()].map((x) => x.leave()));
  for (const x of proxies.values()) x.close();
  await server?.stop();
});

describe('issue 7: NACK/RTX repairs 5 % loss between a participant and the bridge', () => {
  it('loss on the bridge → receiver leg: the bridge answers the receiver\'s NACKs from its cache', async () => {
    const video = SSRCS[SENDER]?.video as number;
    const rx = p(RECEIVER).repair;
    const nacksBefore = rx?.stats(video)?.nacked ?? 0;
    const retransBefore = bridgeEndpoint(RECEIVER)?.stats().nackRetransmissions ?? 0;
    const w = await measure(RECEIVER, 'down');
    const leg = proxy(RECEIVER).ssrc('down', video);
    const nacked = (rx?.stats(video)?.nacked ?? 0) - nacksBefore;
    const retrans = (bridgeEndpoint(RECEIVER)?.stats().nackRetransmissions ?? 0) - retransBefore;
    console.log(
      `[loss] bridge→receiver, 5 % loss + 2 % reordered + 0–4 ms jitter, window of ${w.expected} video packets: ` +
        `dropped by the proxy ${leg.dropped}/${leg.packets} (${pct(leg.dropped, leg.packets)}), ` +
        `not received as original ${w.expected - w.originals} (${pct(w.expected - w.originals, w.expected)}) → ` +
        `repaired by RTX ${w.viaRtx}, missing after repair ${w.missing} (${pct(w.missing, w.expected)}); ` +
        `receiver NACKed ${nacked} sequence numbers, bridge sent ${retrans} RTX (more RTX than drops: an RTX can overtake an original held back by reordering)`,
    );
    expect(problems()).toBe('');
    expect(leg.dropped / leg.packets).toBeGreaterThan(0.02);
    expect(w.viaRtx).toBeGreaterThan(0);
    expect(retrans).toBeGreaterThan(0);
    expect(w.lossAfter).toBeLessThan(0.005);
  });

  it('loss on the sender → bridge leg: the bridge NACKs the sender and forwards its RTX', async () => {
    const sender = SSRCS[SENDER] as ParticipantSsrcs;
    const before = { ...p(SENDER).rtxSender };
    const reqBefore = bridgeEndpoint(SENDER)?.stats().retransmissionRequests ?? { missing: 0, recovered: 0, requests: 0 };
    const w = await measure(SENDER, 'up');
    const layers = [sender.video, ...(sender.layers?.video ?? [])];
    const legs = layers.map((s) => proxy(SENDER).ssrc('up', s));
    const dropped = legs.reduce((n, l) => n + l.dropped, 0);
    const packets = legs.reduce((n, l) => n + l.packets, 0);
    const tx = p(SENDER).rtxSender;
    const req = bridgeEndpoint(SENDER)?.stats().retransmissionRequests ?? { missing: 0, recovered: 0, requests: 0 };
    console.log(
      `[loss] sender→bridge, 5 % loss + 2 % reordered + 0–4 ms jitter, window of ${w.expected} video packets at the receiver: ` +
        `dropped by the proxy ${dropped}/${packets} of the sender's video (${pct(dropped, packets)}); ` +
        `bridge found ${req.missing - reqBefore.missing} missing, recovered ${req.recovered - reqBefore.recovered}, ` +
        `NACKed ${req.requests - reqBefore.requests}; sender got ${tx.nacked - before.nacked} NACKed numbers, sent ${tx.rtxSent - before.rtxSent} RTX; ` +
        `receiver: missing after repair ${w.missing} (${pct(w.missing, w.expected)})`,
    );
    expect(problems()).toBe('');
    expect(dropped / packets).toBeGreaterThan(0.02);
    expect(tx.rtxSent - before.rtxSent).toBeGreaterThan(0);
    expect(req.recovered - reqBefore.recovered).toBeGreaterThan(0);
    expect(w.lossAfter).toBeLessThan(0.005);
  });
});
