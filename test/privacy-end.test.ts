/**
 * Issue 7, privacy: conference end drops everything. A meeting runs (three participants with display names, group
 * and private chat kept as room history, P2P then the bridge, a moderator mute, a raw client from a second address
 * that joins with a display name and chats, a STUN request); after the last participant left, the packages'
 * introspection APIs must show nothing of that conference and of its users:
 *
 * - xmpp: no room (so no occupants, nicknames, affiliations, subject or history), no forwarded-IQ routing entry, no
 *   session, BOSH session or BOSH tombstone, no resumable session, no pending server IQ, no per-address connection
 *   count once the connections are closed;
 * - focus: no conference (participants, sources, sessions), no pending IQ, no conference being started, no login
 *   session;
 * - bridge: no conference, endpoint, bridge channel, colibri WebSocket or UDP route (ufrag or address);
 * - STUN: no remembered client address (about a second after the last request).
 *
 * Beyond the counters, the objects themselves must be garbage: WeakRefs to the room, the participants' XMPP sessions,
 * the focus conference and participants, and the bridge conference and endpoints are all cleared after a forced GC,
 * so nothing (a timer, a listener, a map not covered above) still holds them.
 */
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StunMessageBuilder, StunType } from '../packages/bridge/src/transport/stun.js';
import { type RunningServer, startServer } from '../packages/server/src/index.js';
import { waitFor } from './participant.js';
import { RAW_CLIENT_ADDRESS, RawXmpp, SERVER_ADDRESS, rawJoin, runMeeting } from './privacy-meeting.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let server: RunningServer;
let room: string;

beforeAll(async () => {
  server = await startServer({
    config: {
      http: { port: 0, host: SERVER_ADDRESS, insecureHttp: true },
      // Room history on (it is off by default), so that there is chat history to drop.
      xmpp: { c2s: { port: null }, muc: { historyLength: 20 } },
      log: { level: 'silent' },
      bridge: { transport: { port: 0, bindAddress: SERVER_ADDRESS, hostAddresses: [SERVER_ADDRESS] } },
      stun: { port: 0, host: SERVER_ADDRESS },
    },
  });
  room = `endcheck@${server.mucDomain}`;
});

afterAll(async () => {
  await server?.stop();
});

/** One STUN Binding request from the raw client address; resolves on the answer. */
async function stunRequest(port: number): Promise<void> {
  const socket = createSocket('udp4');
  try {
    await new Promise<void>((resolve) => socket.bind(0, RAW_CLIENT_ADDRESS, () => resolve()));
    const answered = new Promise<void>((resolve) => socket.once('message', () => resolve()));
    socket.send(new StunMessageBuilder(StunType.BindingRequest, randomBytes(12)).build(), port, SERVER_ADDRESS);
    await answered;
  } finally {
    socket.close();
  }
}

/** Everything per-conference or per-user the packages let us see, as numbers and names. */
function snapshot() {
  const { xmpp, focus, bridge, stun } = server;
  if (focus === undefined || bridge === undefined || stun === undefined) throw new Error('focus, bridge and STUN must run');
  const b = bridge.stats();
  return {
    xmpp: {
      rooms: [...xmpp.muc.rooms.keys()],
      occupants: xmpp.muc.occupantCount(),
      forwardedIqs: xmpp.muc.iqProxy.pendingCount,
      sessions: [...xmpp.sessions.keys()],
      bareJids: [...xmpp.sessionsByBare.keys()],
      allSessions: xmpp.allSessions.size,
      boshSessions: xmpp.bosh.size,
      boshTombstones: xmpp.bosh.tombstoneCount,
      resumable: xmpp.resumableCount,
      pendingServerIqs: xmpp.pendingIqCount,
      addresses: xmpp.trackedAddressCount,
    },
    focus: {
      conferences: [...focus.conferences.keys()],
      pendingIqs: focus.pendingRequestCount,
      starting: focus.startingCount,
      loginSessions: focus.authority.sessionCount,
    },
    bridge: {
      conferences: b.bridge.conferences,
      endpoints: b.bridge.endpoints,
      channels: b.channels.count,
      webSockets: b.channels.webSockets,
      udpRoutes: b.mux.registrations,
    },
    stun: { addresses: stun.trackedAddresses },
  };
}

describe('issue 7: conference end drops everything', () => {
  it('after the last participant left, no room, chat, nickname, endpoint, source or address of it remains', async () => {
    const focusJid = server.focus?.jid;
    if (focusJid === undefined) throw new Error('no focus');
    const refs: Array<[string, WeakRef<object>]> = [];
    const keep = (what: string, o: object | undefined): void => {
      expect(o, what).toBeDefined();
      if (o !== undefined) refs.push([what, new WeakRef(o)]);
    };
    let during: ReturnType<typeof snapshot> | undefined;
    let history = 0;

    await runMeeting(
      { wsUrl: server.wsUrl, boshUrl: server.boshUrl, domain: server.domain, focusDomain: server.focusDomain, room },
      {
        whileThree: async (people) => {
          // A fourth occupant from another address: joins with a display name, chats, and goes.
          const raw = await RawXmpp.open(server.wsUrl, RAW_CLIENT_ADDRESS);
          const rawJid = await raw.anonymous(server.domain);
          await rawJoin(raw, room, 'rawnick', 'Rawlinson Teacup');
          raw.send(`<message xmlns="jabber:client" to="${room}" type="groupchat"><body>from the raw client</body></message>`);
          await raw.expect(/from the raw client/);
          keep('raw client session', server.xmpp.sessions.get(rawJid));
          await stunRequest(server.stun?.port ?? 0);

          during = snapshot();
          const r = server.xmpp.muc.getRoom(room);
          history = r?.history.length ?? 0;
          keep('MUC room', r);
          const conf = server.focus?.getConference(room);
          keep('focus conference', conf);
          for (const p of people) {
            keep(`XMPP session of ${p.endpointId}`, server.xmpp.sessions.get(p.link.jid));
            keep(`focus participant ${p.endpointId}`, conf?.participants.get(p.endpointId));
          }
          const meetingId = conf?.meetingId;
          const bc = meetingId === undefined ? undefined : server.bridge?.bridge.getConferenceByMeetingId(meetingId);
          keep('bridge conference', bc);
          for (const p of people) keep(`bridge endpoint ${p.endpointId}`, bc?.endpoints.get(p.endpointId));

          raw.close();
          await raw.waitClosed();
        },
      },
    );

    // What there was while the meeting ran (so that the checks below are not vacuous).
    expect(during).toBeDefined();
    if (during === undefined) return;
    expect(history, 'room history entries').toBeGreaterThanOrEqual(3);
    expect(during.xmpp.rooms).toEqual([room]);
    expect(during.xmpp.occupants).toBeGreaterThanOrEqual(4);
    expect(during.xmpp.sessions.length).toBeGreaterThanOrEqual(5); // focus, three participants, the raw client
    expect(during.xmpp.boshSessions).toBe(1);
    expect(during.xmpp.addresses).toBe(2); // 127.0.0.1 and 127.0.0.3
    expect(during.focus.conferences).toEqual([room]);
    expect(during.bridge).toMatchObject({ conferences: 1, endpoints: 3, channels: 3, webSockets: 3 });
    expect(during.bridge.udpRoutes).toBeGreaterThanOrEqual(3);
    expect(during.stun.addresses).toBe(1);

    // Everything of the conference is gone; only the focus's own session remains.
    const expected = {
      xmpp: {
        rooms: [],
        occupants: 0,
        forwardedIqs: 0,
        sessions: [focusJid.full],
        bareJids: [focusJid.bare],
        allSessions: 1,
        boshSessions: 0,
        boshTombstones: 0,
        resumable: 0,
        pendingServerIqs: 0,
        addresses: 0,
      },
      focus: { conferences: [], pendingIqs: 0, starting: 0, loginSessions: 0 },
      bridge: { conferences: 0, endpoints: 0, channels: 0, webSockets: 0, udpRoutes: 0 },
      stun: { addresses: 0 },
    };
    await waitFor(() => {
      const now = snapshot();
      return JSON.stringify(now) === JSON.stringify(expected) ? undefined : `still there: ${JSON.stringify(now)}`;
    }, 15_000);

    // And nothing still holds the objects.
    await waitFor(() => {
      gc();
      const alive = refs.filter(([, r]) => r.deref() !== undefined).map(([what]) => what);
      return alive.length === 0 ? undefined : `still referenced after GC: ${alive.join(', ')}`;
    }, 10_000);
  }, 90_000);
});
