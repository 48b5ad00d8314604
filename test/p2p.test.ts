/**
 * Issue 5, P2P (PROTOCOL §8): two participants negotiate a direct session through MUC IQ routing while the focus keeps
 * their bridge sessions; a third (over BOSH) joins and everyone gets media through the bridge; when it leaves, the
 * two go back to P2P. All real and on loopback: the one-process server and three headless participants
 * (test/participant.ts: @xmpp/client over WebSocket or strophe.js over BOSH, werift ICE/DTLS/SRTP).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../packages/server/src/index.js';
import { Participant, type ParticipantSsrcs, waitFor } from './participant.js';
import { startLoopbackServer } from './loopback-server.js';

const A = 'a0a0a0a0';
const B = 'b0b0b0b0';
const C = 'c0c0c0c0';
type Nick = typeof A | typeof B | typeof C;
const SSRCS: Record<Nick, ParticipantSsrcs> = {
  [A]: { audio: 0x0a00_0001, video: 0x0a00_0010, rtx: 0x0a00_0020, layers: { video: [0x0a00_0011, 0x0a00_0012], rtx: [0x0a00_0021, 0x0a00_0022] } },
  [B]: { audio: 0x0b00_0001, video: 0x0b00_0010, rtx: 0x0b00_0020, layers: { video: [0x0b00_0011, 0x0b00_0012], rtx: [0x0b00_0021, 0x0b00_0022] } },
  [C]: { audio: 0x0c00_0001, video: 0x0c00_0010, rtx: 0x0c00_0020, layers: { video: [0x0c00_0011, 0x0c00_0012], rtx: [0x0c00_0021, 0x0c00_0022] } },
};

let server: RunningServer;
let room: string;
const people = new Map<Nick, Participant>();

function p(nick: Nick): Participant {
  const x = people.get(nick);
  if (x === undefined) throw new Error(`no participant ${nick}`);
  return x;
}

function problems(): string {
  return [...people.values()].flatMap((x) => x.problems.map((m) => `${x.endpointId}: ${m}`)).join('\n');
}

function bridgePort(): number {
  const port = server.bridge?.mux.port;
  if (port === undefined) throw new Error('no bridge');
  return port;
}

async function join(nick: Nick, transport: 'websocket' | 'bosh' = 'websocket'): Promise<Participant> {
  const x = await Participant.join({
    wsUrl: server.wsUrl,
    boshUrl: server.boshUrl,
    transport,
    domain: server.domain,
    focusDomain: server.focusDomain,
    room,
    nick,
    ssrcs: SSRCS[nick],
    p2p: true,
  });
  people.set(nick, x);
  return x;
}

/** Waits until each receiver got `min` more packets of each other's audio and video over `path` than now. */
async function expectMedia(nicks: readonly Nick[], path: 'bridge' | 'p2p', min: number): Promise<void> {
  const count = (r: Nick, ssrc: number): number => (path === 'bridge' ? p(r).count(ssrc) : p(r).countP2p(ssrc));
  const base = new Map<string, number>();
  for (const r of nicks) for (const s of nicks) for (const ssrc of [SSRCS[s].audio, SSRCS[s].video]) base.set(`${r}:${ssrc}`, count(r, ssrc));
  await waitFor(() => {
    for (const r of nicks) {
      for (const s of nicks) {
        if (r === s) continue;
        for (const [kind, ssrc] of [['audio', SSRCS[s].audio], ['video', SSRCS[s].video]] as const) {
          const got = count(r, ssrc) - (base.get(`${r}:${ssrc}`) ?? 0);
          if (got < min) return `${r} got ${got} new ${kind} packets from ${s} over ${path}; p2p log ${p(r).p2pLog.join(', ')}\n${problems()}`;
        }
      }
    }
    return undefined;
  }, 20_000);
}

beforeAll(async () => {
  server = await startLoopbackServer();
  room = `p2p@${server.mucDomain}`;
});

afterAll(async () => {
  await Promise.all([...people.values()].map((x) => x.leave()));
  await server?.stop();
});

describe('issue 5: P2P for two, the bridge from the third', () => {
  it('two participants go P2P through MUC IQ routing; the focus keeps their bridge sessions', async () => {
    await join(A);
    await join(B);
    // The focus invites both to the bridge as usual, and both sessions connect (§8: the JVB session continues).
    await waitFor(() => ([A, B] as const).filter((n) => !p(n).connected()).map((n) => `${n}: bridge session not connected\n${problems()}`)[0]);
    // A (smaller nick) offered P2P to B's occupant JID; B accepted; both are connected directly.
    await waitFor(() => ([A, B] as const).filter((n) => !p(n).p2pActive()).map((n) => `${n}: P2P not active; log ${p(n).p2pLog.join(', ')}\n${problems()}`)[0]);
    expect(p(A).p2pLog.slice(0, 2)).toEqual(['> session-initiate', '< session-accept']);
    expect(p(B).p2pLog.slice(0, 2)).toEqual(['< session-initiate', '> session-accept']);
    for (const n of [A, B] as const) {
      const pair = p(n).p2pCandidatePair();
      expect(pair, `${n} selected P2P candidate pair`).toBeDefined();
      expect(pair?.remotePort, `${n}'s P2P pair must not end on the bridge port`).not.toBe(bridgePort());
      expect(pair?.localPort).not.toBe(bridgePort());
    }
    await expectMedia([A, B], 'p2p', 20);
    // Media is suspended towards the bridge while P2P is active; the bridge still has both endpoints.
    expect(p(A).sendingToBridge()).toBe(false);
    expect(p(B).sendingToBridge()).toBe(false);
    const meetingId = server.focus?.getConference(room)?.meetingId;
    const conf = meetingId === undefined ? undefined : server.bridge?.bridge.getConferenceByMeetingId(meetingId);
    expect(conf && [...conf.endpoints.keys()].sort()).toEqual([A, B]);
    expect(problems()).toBe('');
  });

  it('a third participant (over BOSH) joins: P2P ends and all three get media through the bridge', async () => {
    const c = await join(C, 'bosh');
    expect(c.link.kind).toBe('bosh');
    await waitFor(() => ([A, B] as const).filter((n) => p(n).p2pActive()).map((n) => `${n}: P2P still active`)[0]);
    // The P2P session is terminated with success / "Turning off P2P session" (the initiator sends it, §8).
    expect(p(A).p2pLog).toContain('> session-terminate');
    await waitFor(() => (c.connected() ? undefined : `C's bridge session not connected\n${problems()}`));
    await expectMedia([A, B, C], 'bridge', 10);
    expect(p(A).sendingToBridge() && p(B).sendingToBridge()).toBe(true);
    expect(problems()).toBe('');
  });

  it('the third leaves: the two return to P2P', async () => {
    await p(C).leave();
    people.delete(C);
    await waitFor(() => ([A, B] as const).filter((n) => !p(n).p2pActive()).map((n) => `${n}: P2P not active again; log ${p(n).p2pLog.join(', ')}\n${problems()}`)[0]);
    await expectMedia([A, B], 'p2p', 20);
    expect(p(A).sendingToBridge()).toBe(false);
    expect(problems()).toBe('');
  });
});
