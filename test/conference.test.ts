/**
 * Issue 5: three participants speaking the real Jitsi protocol meet through the one-process server and receive each
 * other's audio and video. Everything is real and on loopback: `startServer` (XMPP over WebSocket, MUC, focus,
 * bridge on a UDP port), and three headless participants (test/participant.ts: XMPP + Jingle as LJM does it, werift
 * ICE/DTLS/SRTP, synthetic Opus-like audio and VP8). No fixed sleeps: every step waits on a condition.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../packages/server/src/index.js';
import { Participant, type ParticipantSsrcs, waitFor } from './participant.js';
import { startLoopbackServer } from './loopback-server.js';

const ROOM_NAME = 'issue5';
const NICKS = ['aaaa1111', 'bbbb2222', 'cccc3333'] as const;
type Nick = (typeof NICKS)[number];
/** Camera as three simulcast layers (SIM + FID groups in session-accept); receivers are told only the first SSRC. */
const SSRCS: Record<Nick, ParticipantSsrcs> = {
  aaaa1111: { audio: 0x1000_0001, video: 0x1000_0010, rtx: 0x1000_0020, layers: { video: [0x1000_0011, 0x1000_0012], rtx: [0x1000_0021, 0x1000_0022] } },
  bbbb2222: { audio: 0x2000_0001, video: 0x2000_0010, rtx: 0x2000_0020, layers: { video: [0x2000_0011, 0x2000_0012], rtx: [0x2000_0021, 0x2000_0022] } },
  cccc3333: { audio: 0x3000_0001, video: 0x3000_0010, rtx: 0x3000_0020, layers: { video: [0x3000_0011, 0x3000_0012], rtx: [0x3000_0021, 0x3000_0022] } },
};

let server: RunningServer;
let room: string;
const people = new Map<Nick, Participant>();

function p(nick: Nick): Participant {
  const x = people.get(nick);
  if (x === undefined) throw new Error(`no participant ${nick}`);
  return x;
}

function bridgeConference() {
  const meetingId = server.focus?.getConference(room)?.meetingId;
  return meetingId === undefined ? undefined : server.bridge?.bridge.getConferenceByMeetingId(meetingId);
}

function problems(): string {
  return [...people.values()].flatMap((x) => x.problems.map((m) => `${x.endpointId}: ${m}`)).join('\n');
}

/** Waits until every receiver got at least `min` more packets on each announced SSRC of each sender than in `base`. */
async function expectMediaBetween(nicks: readonly Nick[], min: number, timeoutMs = 15_000): Promise<void> {
  const base = new Map<string, number>();
  for (const r of nicks) for (const s of nicks) if (r !== s) for (const ssrc of [SSRCS[s].audio, SSRCS[s].video]) base.set(`${r}:${ssrc}`, p(r).count(ssrc));
  await waitFor(() => {
    for (const r of nicks) {
      for (const s of nicks) {
        if (r === s) continue;
        for (const [kind, ssrc] of [['audio', SSRCS[s].audio], ['video', SSRCS[s].video]] as const) {
          const got = p(r).count(ssrc) - (base.get(`${r}:${ssrc}`) ?? 0);
          if (got < min) return `${r} got ${got} new ${kind} packets from ${s} (ssrc ${ssrc}); received ssrcs ${JSON.stringify([...p(r).received])}; sent ${p(s).sentPackets}\n${problems()}`;
        }
      }
    }
    return undefined;
  }, timeoutMs);
}

beforeAll(async () => {
  server = await startLoopbackServer();
  room = `${ROOM_NAME}@${server.mucDomain}`;
});

afterAll(async () => {
  await Promise.all([...people.values()].map((x) => x.leave()));
  await server?.stop();
});

describe('issue 5: three Jitsi participants through the one-process server', () => {
  it('all three join, accept the focus offer, and connect ICE/DTLS to the bridge', async () => {
    for (const nick of NICKS) {
      people.set(
        nick,
        await Participant.join({ wsUrl: server.wsUrl, domain: server.domain, focusDomain: server.focusDomain, room, nick, ssrcs: SSRCS[nick] }),
      );
    }
    // Each gets a session-initiate from room/focus and its session-accept is answered `result`.
    await waitFor(() => {
      const missing = NICKS.filter((n) => p(n).offer === undefined);
      return missing.length > 0 ? `no session-initiate for ${missing.join(', ')}\n${problems()}` : undefined;
    });
    await Promise.all(NICKS.map((n) => p(n).accepted()));
    for (const n of NICKS) expect(p(n).acceptResult?.attrs.type).toBe('result');
    await waitFor(() => {
      const down = NICKS.filter((n) => !p(n).connected());
      return down.length > 0 ? `ICE/DTLS not connected for ${down.join(', ')}\n${problems()}` : undefined;
    });
    const conf = bridgeConference();
    expect(conf && [...conf.endpoints.keys()].sort()).toEqual([...NICKS]);
    // The colibri-ws bridge channel from the offer's <web-socket> URL is open on the server's HTTP port (§6).
    await waitFor(() => {
      const silent = NICKS.filter((n) => !p(n).channelMessages.some((m) => m.colibriClass === 'ServerHello'));
      return silent.length > 0 ? `no ServerHello on the bridge channel of ${silent.join(', ')}\n${problems()}` : undefined;
    });
  });

  it('every participant is told the others\' sources (offer or source-add) with owner and plain SSRCs', async () => {
    await waitFor(() => {
      for (const r of NICKS) {
        for (const s of NICKS) {
          if (r === s) continue;
          const e = p(r).remote.get(s);
          if (!e?.audio.has(SSRCS[s].audio) || !e.video.has(SSRCS[s].video)) {
            return `${r} does not know ${s}'s sources: ${JSON.stringify([...(p(r).remote.entries())].map(([o, v]) => [o, [...v.audio], [...v.video]]))}\n${p(r).jingleLog.map((l) => `${l.action}:${l.owners.join(',')}`).join(' ')}`;
          }
        }
        if (p(r).remote.has(r)) return `${r} was told its own sources`;
      }
      return undefined;
    });
  });

  it('every participant receives audio and video from both others', async () => {
    await expectMediaBetween(NICKS, 10);
    expect(problems()).toBe('');
    // What arrived is the media as sent: Opus with the audio level, VP8 with key frames, the offered payload types.
    for (const r of NICKS) {
      for (const s of NICKS) {
        if (r === s) continue;
        const a = p(r).details.get(SSRCS[s].audio);
        const v = p(r).details.get(SSRCS[s].video);
        expect([...(a?.pts ?? [])], `${r} <- ${s} audio payload types`).toEqual([111]);
        expect(a?.withAudioLevel, `${r} <- ${s} audio level extension`).toBe(p(r).count(SSRCS[s].audio));
        expect([...(v?.pts ?? [])], `${r} <- ${s} video payload types`).toEqual([100]);
        expect(v?.vp8KeyFrames, `${r} <- ${s} VP8 key frames`).toBeGreaterThan(0);
        // Receivers ask for up to 720p (ReceiverVideoConstraints): the bridge forwards the top simulcast layer.
        expect(v?.lastKeyFrameHeight, `${r} <- ${s} forwarded layer height`).toBe(720);
      }
    }
  });

  it('one leaves: its endpoint expires on the bridge and the remaining two keep exchanging media', async () => {
    const leaver: Nick = 'bbbb2222';
    const conf = bridgeConference();
    expect(conf).toBeDefined();
    await p(leaver).leave();
    await waitFor(() => (conf?.endpoints.has(leaver) ? `endpoint ${leaver} still on the bridge` : undefined));
    expect(conf && [...conf.endpoints.keys()].sort()).toEqual(['aaaa1111', 'cccc3333']);
    await waitFor(() => (server.xmpp.muc.rooms.get(room)?.getOccupant(leaver) !== undefined ? `${leaver} still in the room` : undefined));
    people.delete(leaver);
    // The others are told with source-remove (focus.sourceRemoveOnLeave, on by default) for exactly the leaver's
    // sources, and drop them (LJM also drops them on the unavailable presence, §3.3.3).
    await waitFor(() => {
      const stale = (['aaaa1111', 'cccc3333'] as const).filter((n) => p(n).remote.has(leaver) || !p(n).jingleLog.some((l) => l.action === 'source-remove'));
      return stale.length > 0 ? `${stale.join(', ')} still list ${leaver}'s sources or got no source-remove: ${p('aaaa1111').jingleLog.map((l) => `${l.action}:${l.owners.join(',')}`).join(' ')}` : undefined;
    }, 5000);
    for (const n of ['aaaa1111', 'cccc3333'] as const) expect(p(n).jingleLog.filter((l) => l.action === 'source-remove')).toEqual([{ action: 'source-remove', owners: [leaver] }]);
    await expectMediaBetween(['aaaa1111', 'cccc3333'], 10);
    // Nothing more arrives on the leaver's SSRCs (weak: the leaver has stopped sending; the bridge-side proof is the expiry above).
    const before = p('aaaa1111').count(SSRCS[leaver].audio);
    await expectMediaBetween(['aaaa1111', 'cccc3333'], 10);
    expect(p('aaaa1111').count(SSRCS[leaver].audio)).toBe(before);
  });

  it('all leave: no conference remains on the bridge, in the focus or in the MUC', async () => {
    await Promise.all([...people.values()].map((x) => x.leave()));
    people.clear();
    await waitFor(() => (server.xmpp.muc.rooms.has(room) ? 'room still exists' : undefined));
    await waitFor(() => (server.bridge?.bridge.conferences.size !== 0 ? `${server.bridge?.bridge.conferences.size ?? '?'} bridge conferences` : undefined));
    await waitFor(() => (server.focus?.conferences.size !== 0 ? 'focus conference remains' : undefined));
  });
});
