/**
 * The assembled bridge end to end, on real loopback sockets: createBridgeService on a free UDP port, its
 * colibri-ws handler on a real HTTP server, and browser stand-ins on two independent WebRTC stacks — three werift
 * peers (A, B, C) that send Opus-like audio with RFC 6464 levels (A loud) and VP8 simulcast on three SSRCs with RTX,
 * and one libdatachannel peer (D) that only receives. Each is created through `conferenceModify` as the focus will
 * do it, gets the SDP offer a Jitsi client derives from the bridge's reply, answers, and its ICE/DTLS parameters go
 * back through `conferenceModify`. Every bridge-channel message goes over a real WebSocket with the endpoint's pwd.
 *
 * The tests share one conference and run in order; the last ones expire endpoints and close the service.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Conference } from '../src/conference.js';
import type { Endpoint } from '../src/endpoint.js';
import { findHeaderExtension } from '../src/rtp/header-ext.js';
import { RtpHeader } from '../src/rtp/rtp-packet.js';
import type { EndpointTransport } from '../src/transport/endpoint-transport.js';
import type { ConferenceModified, EndpointModify, TransportDesc } from '../src/colibri/types.js';
import {
  buildJitsiOffer,
  createDatachannelPeer,
  createWeriftPeer,
  MediaPump,
  openChannel,
  rejectedStatus,
  remoteSourcesOf,
  ssrcOf,
  startHarness,
  waitFor,
  type ChannelClient,
  type Harness,
  type Peer,
} from './e2e-helpers.js';
import { PsfbFormat, RtcpPacketType } from '../src/rtp/rtcp.js';
import {
  createEndpoint,
  EXT_AUDIO_LEVEL,
  nack,
  RTX_PT,
  receivedVideo,
  type ReceivedVideo,
  receiverReport,
  rtcpOfType,
  sourcesOf,
  ssrcPlan,
  type SsrcPlan,
} from './model-fakes.js';

const MEETING = '0e2e0e2e-0000-4000-8000-00000000c0de';
const SENDERS = ['A', 'B', 'C'] as const;
const plans: Record<string, SsrcPlan> = { A: ssrcPlan(0), B: ssrcPlan(1), C: ssrcPlan(2), E: ssrcPlan(4) };

let h: Harness;
let conf: Conference;
const peers = new Map<string, Peer>();
const pumps = new Map<string, MediaPump>();
const channels = new Map<string, ChannelClient>();
const wsUrls = new Map<string, string>();

function plan(id: string): SsrcPlan {
  const p = plans[id];
  if (p === undefined) throw new Error(`no plan for ${id}`);
  return p;
}

function endpoint(id: string): Endpoint {
  const ep = conf.endpoints.get(id);
  if (ep === undefined) throw new Error(`no endpoint ${id}`);
  return ep;
}

function transportOf(id: string): EndpointTransport {
  return endpoint(id).transport as EndpointTransport;
}

function peer(id: string): Peer {
  const p = peers.get(id);
  if (p === undefined) throw new Error(`no peer ${id}`);
  return p;
}

function channel(id: string): ChannelClient {
  const c = channels.get(id);
  if (c === undefined) throw new Error(`no channel ${id}`);
  return c;
}

function modify(endpoints: EndpointModify[], create = false): ConferenceModified {
  return h.svc.bridge.conferenceModify({ meetingId: MEETING, name: 'e2e@conference.meet.jitsi', ...(create ? { create: true } : {}), endpoints });
}

/** Creates the endpoints, answers their offers with the given stacks, feeds the answers back, waits for media. */
async function join(specs: Array<{ id: string; stack: 'werift' | 'libdatachannel'; send: boolean; capabilities?: string[]; corruptFingerprint?: boolean }>, create = false): Promise<void> {
  const reply = modify(
    specs.map((s) =>
      createEndpoint(s.id, {
        sources: s.send ? sourcesOf(s.id, plan(s.id)) : [],
        capabilities: ['source-names', ...(s.capabilities ?? [])],
      }),
    ),
    create,
  );
  conf ??= h.svc.bridge.getConferenceByMeetingId(MEETING) as Conference;
  const created = await Promise.all(
    specs.map(async (s) => {
      const t = reply.endpoints.find((e) => e.id === s.id)?.transport as TransportDesc;
      expect(t.webSocketUrl).toMatch(new RegExp(`^ws://127\\.0\\.0\\.1:${h.httpPort}/colibri-ws/jvb1/${conf.id}/${s.id}\\?pwd=`));
      wsUrls.set(s.id, t.webSocketUrl as string);
      // Non-rewriting receivers are told every other sender's s0/r0; rewriting ones only the jvb placeholders.
      const rewriting = s.capabilities?.includes('ssrc-rewriting') === true;
      const remotes = rewriting ? [] : [...conf.endpoints.values()].filter((e) => e.id !== s.id && plans[e.id] !== undefined && e.sources.length > 0).map((e) => remoteSourcesOf(e.id, plan(e.id)));
      const offer = buildJitsiOffer(t, reply.sources, remotes);
      const p = s.stack === 'werift' ? await createWeriftPeer(s.id, offer) : await createDatachannelPeer(s.id, offer);
      peers.set(s.id, p);
      return { s, p };
    }),
  );
  modify(
    created.map(({ s, p }) => {
      const fingerprints = p.answer.fingerprints.map((f) => ({ ...f, value: s.corruptFingerprint === true ? corrupt(f.value) : f.value }));
      return { id: s.id, transport: { iceUdp: { ufrag: p.answer.ufrag, pwd: p.answer.pwd, fingerprints } } };
    }),
  );
}

function corrupt(fp: string): string {
  return fp.startsWith('00') ? `11${fp.slice(2)}` : `00${fp.slice(2)}`;
}

async function waitConnected(ids: readonly string[]): Promise<void> {
  await waitFor(() => {
    for (const id of ids) {
      if (transportOf(id).state !== 'connected') return `${id} bridge side ${transportOf(id).state}`;
      if (!peer(id).connected()) return `${id} peer side not connected`;
    }
    return undefined;
  });
}

/** A's (or `owner`'s) video as a receiver saw it: packets on the source's s0, parsed. */
function videoAt(receiver: string, owner: string, from = 0): ReceivedVideo[] {
  const s0 = plan(owner).video[0];
  return receivedVideo(peer(receiver).rtp.slice(from).filter((b) => ssrcOf(b) === s0));
}

function expectContinuous(v: readonly ReceivedVideo[]): void {
  for (let i = 1; i < v.length; i++) {
    const a = v[i - 1] as ReceivedVideo;
    const b = v[i] as ReceivedVideo;
    expect((b.seq - a.seq + 0x10000) & 0xffff, `sequence number step at packet ${i}`).toBe(1);
    if (b.startOfFrame) expect((b.pictureId - a.pictureId + 0x8000) & 0x7fff, `picture id step at packet ${i}`).toBe(1);
    else expect(b.pictureId, `picture id inside a frame at packet ${i}`).toBe(a.pictureId);
  }
}

/** Waits until the last `n` packets of `owner`'s video at `receiver` are all of `encoding`. */
async function waitForLayer(receiver: string, owner: string, encoding: number, n = 15): Promise<void> {
  await waitFor(() => {
    const v = videoAt(receiver, owner).slice(-n);
    return v.length === n && v.every((p) => p.encoding === encoding) ? undefined : `${receiver} gets ${owner} at [${v.map((p) => p.encoding).join('')}], want ${encoding}`;
  });
}

function constraints(id: string, maxHeight: number): void {
  channel(id).send({ colibriClass: 'ReceiverVideoConstraints', lastN: -1, defaultConstraints: { maxHeight }, assumedBandwidthBps: -1 });
}

beforeAll(async () => {
  h = await startHarness();
  await join(
    [
      { id: 'A', stack: 'werift', send: true },
      { id: 'B', stack: 'werift', send: true },
      { id: 'C', stack: 'werift', send: true },
      { id: 'D', stack: 'libdatachannel', send: false },
    ],
    true,
  );
  await waitConnected(['A', 'B', 'C', 'D']);
  for (const id of ['A', 'B', 'C', 'D']) channels.set(id, await openChannel(wsUrls.get(id) as string));
  constraints('A', 180);
  constraints('B', 720);
  constraints('C', 360);
  constraints('D', 180);
  for (const id of SENDERS) {
    const pump = new MediaPump(peer(id), plan(id), { level: id === 'A' ? 5 : 100 });
    pumps.set(id, pump);
    pump.start();
  }
});

afterAll(async () => {
  for (const p of pumps.values()) p.stop();
  for (const c of channels.values()) c.ws.terminate();
  await Promise.all([...peers.values()].map((p) => p.close()));
  await h?.close();
});

describe('bridge service end to end (3 werift peers + 1 libdatachannel peer)', () => {
  it('connects every peer on the one UDP port: peer-reflexive ICE, bridge as DTLS server, AES-CM SRTP', () => {
    for (const id of ['A', 'B', 'C', 'D']) {
      const st = transportOf(id).stats();
      expect(st.selectedPair?.origin, id).toBe('prflx');
      expect(st.iceRole, id).toBe('controlling');
      expect(st.dtlsRole, id).toBe('server');
      // The faster profile with node:crypto (transport/dtls.ts), also against werift, which prefers GCM.
      expect(st.srtpProfile, id).toBe('SRTP_AES128_CM_HMAC_SHA1_80');
    }
    const s = h.svc.stats();
    expect(s.transports.connected).toBe(4);
    expect(s.channels).toEqual({ count: 4, open: 4, webSockets: 4 });
    expect(h.svc.mux.port).toBe(s.port);
    expect(channel('B').messages[0]).toEqual({ colibriClass: 'ServerHello' });
  });

  it('forwards audio to every other peer with its audio level, and the loud peer becomes dominant speaker', async () => {
    await waitFor(() => {
      for (const receiver of ['A', 'B', 'C', 'D']) {
        const got = new Set(peer(receiver).rtp.map(ssrcOf));
        for (const sender of SENDERS) {
          const want = sender !== receiver;
          if (got.has(plan(sender).audio) !== want) return `${receiver} ${want ? 'lacks' : 'got its own'} audio of ${sender}`;
        }
      }
      return undefined;
    });
    const fromA = peer('D').rtp.filter((b) => ssrcOf(b) === plan('A').audio);
    const hd = new RtpHeader();
    expect(hd.parse(fromA.at(-1) as Buffer)).toBe(0);
    const at = findHeaderExtension(hd, EXT_AUDIO_LEVEL);
    expect(at).toBeGreaterThan(0);
    expect((fromA.at(-1) as Buffer)[at]).toBe(0x80 | 5);

    await waitFor(() => {
      for (const id of ['A', 'B', 'C', 'D']) {
        const last = channel(id).of('DominantSpeakerEndpointChangeEvent').at(-1);
        if (last?.dominantSpeakerEndpoint !== 'A') return `${id}: dominant speaker ${String(last?.dominantSpeakerEndpoint)}`;
      }
      return undefined;
    });
    expect(conf.dominantSpeaker).toBe('A');
    expect(channel('D').of('DominantSpeakerEndpointChangeEvent').at(-1)).toMatchObject({ silence: false });
  });

  it('gives each receiver the simulcast layer its ReceiverVideoConstraints ask for, on the source\'s s0', async () => {
    await waitForLayer('B', 'A', 2); // werift, 720p
    await waitForLayer('C', 'A', 1); // werift, 360p
    await waitForLayer('D', 'A', 0); // libdatachannel, 180p
    await waitForLayer('B', 'C', 2);
    await waitForLayer('D', 'B', 0);
    // Plain forwarding: no other video SSRC of A reaches anyone (PROTOCOL.md §7.2).
    const others = new Set([...plan('A').video.slice(1), ...plan('A').rtx.slice(1)]);
    for (const r of ['B', 'C', 'D']) expect(peer(r).rtp.some((b) => others.has(ssrcOf(b))), r).toBe(false);
    await waitFor(() => {
      const fwd = channel('B').of('ForwardedSources').at(-1)?.forwardedSources as string[] | undefined;
      return fwd !== undefined && fwd.includes('A-v0') && fwd.includes('C-v0') ? undefined : `B forwarded ${JSON.stringify(fwd)}`;
    });
    // A is told the most anyone wants of its camera: B's 720.
    await waitFor(() => {
      const c = channel('A').of('SenderSourceConstraints').filter((m) => m.sourceName === 'A-v0').at(-1);
      return c?.maxHeight === 720 ? undefined : `A told ${JSON.stringify(c)}`;
    });
    expect(endpoint('B').stats().layers.find((l) => l.source === 'A-v0')).toMatchObject({ encoding: 2, height: 720 });
  });

  it('switches layers only at a key frame of the new layer (the old one flows until then), with continuous sequence numbers and picture ids', async () => {
    const pumpA = pumps.get('A') as MediaPump;
    for (const [to, enc, from] of [
      [180, 0, 2],
      [720, 2, 0],
    ] as const) {
      // Hold A's key frames: the bridge must keep forwarding the old layer and ask A for one.
      pumpA.answerKeyframeRequests = false;
      const requests = pumpA.keyframeRequests;
      const mark = peer('B').rtp.length;
      constraints('B', to);
      const frames = pumpA.frames;
      await waitFor(() => (pumpA.frames - frames >= 10 && pumpA.keyframeRequests > requests ? undefined : 'waiting for frames and a PLI'));
      const held = videoAt('B', 'A', mark);
      pumpA.answerKeyframeRequests = true;
      expect(held.length).toBeGreaterThanOrEqual(5);
      expect(held.every((p) => p.encoding === from), `still ${from} while no key frame`).toBe(true);
      await waitForLayer('B', 'A', enc);
      const after = videoAt('B', 'A', mark);
      const first = after.findIndex((p) => p.encoding === enc);
      expect(first, `switch to ${to}p`).toBeGreaterThanOrEqual(held.length);
      expect(after[first]?.keyframe).toBe(true);
      expect(after[first]?.startOfFrame).toBe(true);
      expect(after.slice(first).every((p) => p.encoding === enc)).toBe(true);
    }
    // Everything B ever got of A — 180p before its first constraints, up to 720p (possibly through a 360p key
    // frame requested for C), down to 180p and up again — is one continuous stream.
    const all = videoAt('B', 'A');
    expect([...new Set(all.map((p) => p.encoding))]).toEqual(expect.arrayContaining([0, 2]));
    expectContinuous(all);
    expect(endpoint('B').stats().layers.find((l) => l.source === 'A-v0')?.switches).toBeGreaterThanOrEqual(3);
  });

  it('answers a NACK with an RTX retransmission of the rewritten packet (libdatachannel and werift receivers)', async () => {
    const s0 = plan('A').video[0] as number;
    const r0 = plan('A').rtx[0] as number;
    for (const receiver of ['D', 'B']) {
      const p = peer(receiver);
      const lost = videoAt(receiver, 'A').at(-3) as ReceivedVideo;
      const orig = new RtpHeader();
      expect(orig.parse(lost.raw)).toBe(0);
      const originalPayload = lost.raw.subarray(orig.payloadOffset, orig.payloadOffset + orig.payloadLength);
      const mark = p.rtp.length;
      p.sendRtcp(nack(0x0d0d0d0d, s0, [lost.seq]));
      await waitFor(() => (p.rtp.slice(mark).some((b) => ssrcOf(b) === r0) ? undefined : `${receiver}: no RTX yet`));
      const rtx = p.rtp.slice(mark).find((b) => ssrcOf(b) === r0) as Buffer;
      const hd = new RtpHeader();
      expect(hd.parse(rtx)).toBe(0);
      expect(hd.payloadType).toBe(RTX_PT);
      expect(rtx.readUInt16BE(hd.payloadOffset), 'OSN').toBe(lost.seq);
      expect(rtx.subarray(hd.payloadOffset + 2, hd.payloadOffset + hd.payloadLength).equals(originalPayload)).toBe(true);
    }
    expect(endpoint('D').stats().nackRetransmissions).toBeGreaterThanOrEqual(1);
  });

  it('terminates RTCP per hop: RR and REMB to senders, SR to receivers, RTT and loss from receiver reports', async () => {
    const blocksOf = (packets: Buffer[]): number[] =>
      rtcpOfType(packets, RtcpPacketType.RR).flatMap((p) => Array.from({ length: p.count }, (_, i) => p.buf.readUInt32BE(p.offset + 8 + 24 * i)));
    await waitFor(() => {
      const about = new Set(blocksOf(peer('A').rtcp));
      if (!about.has(plan('A').audio) || !about.has(plan('A').video[0] as number)) return `A got RR blocks for ${[...about].join(',')}`;
      return rtcpOfType(peer('A').rtcp, RtcpPacketType.PSFB, PsfbFormat.Afb).length > 0 ? undefined : 'A got no REMB';
    });
    // The SR D gets for A's camera names the SSRC D knows (s0), whatever layer is forwarded.
    const s0 = plan('A').video[0] as number;
    await waitFor(() => (rtcpOfType(peer('D').rtcp, RtcpPacketType.SR).some((p) => p.buf.readUInt32BE(p.offset + 4) === s0) ? undefined : 'D got no SR for s0'));
    const sr = rtcpOfType(peer('D').rtcp, RtcpPacketType.SR).filter((p) => p.buf.readUInt32BE(p.offset + 4) === s0).at(-1);
    if (sr === undefined) throw new Error('no SR');
    const lsr = (((sr.buf.readUInt32BE(sr.offset + 8) & 0xffff) << 16) | (sr.buf.readUInt32BE(sr.offset + 12) >>> 16)) >>> 0;
    peer('D').sendRtcp(receiverReport(0x0d0d0d0d, s0, 64, lsr, 0));
    await waitFor(() => (Number.isFinite(endpoint('D').stats().rttMs) ? undefined : 'no RTT for D'));
    expect(endpoint('D').stats().rttMs).toBeGreaterThanOrEqual(0);
    expect(endpoint('D').stats().rttMs).toBeLessThan(2000);
    expect(endpoint('D').stats().outgoingLossFraction).toBe(0.25);
  });

  it('relays EndpointMessage to its target or to everyone else, with from = the sender', async () => {
    channel('B').send({ colibriClass: 'EndpointMessage', to: 'D', from: 'mallory', msgPayload: { type: 'e2e-ping', id: 1 } });
    await waitFor(() => (channel('D').of('EndpointMessage').length > 0 ? undefined : 'D got nothing'));
    expect(channel('D').of('EndpointMessage')[0]).toEqual({ colibriClass: 'EndpointMessage', to: 'D', from: 'B', msgPayload: { type: 'e2e-ping', id: 1 } });

    channel('C').send({ colibriClass: 'EndpointMessage', to: '', msgPayload: { name: 'reaction', reaction: 'clap' } });
    await waitFor(() => (['A', 'B', 'D'].every((id) => channel(id).of('EndpointMessage').some((m) => m.from === 'C')) ? undefined : 'broadcast not everywhere'));
    for (const id of ['A', 'B', 'D']) {
      expect(channel(id).of('EndpointMessage').find((m) => m.from === 'C')).toEqual({ colibriClass: 'EndpointMessage', to: '', from: 'C', msgPayload: { name: 'reaction', reaction: 'clap' } });
    }
    channel('A').send({ colibriClass: 'EndpointStats', from: 'x', connectionQuality: 97, jvbRTT: 3 });
    await waitFor(() => (['B', 'C', 'D'].every((id) => channel(id).of('EndpointStats').length > 0) ? undefined : 'stats not relayed'));
    expect(channel('B').of('EndpointStats')[0]).toEqual({ colibriClass: 'EndpointStats', from: 'A', connectionQuality: 97, jvbRTT: 3 });
    // Nobody gets their own messages back; A's targeted message went nowhere else.
    expect(channel('C').of('EndpointMessage').some((m) => m.from === 'C')).toBe(false);
    expect(channel('A').of('EndpointStats')).toEqual([]);
    expect(channel('A').of('EndpointMessage').some((m) => m.from === 'B')).toBe(false);
  });

  it('rejects colibri-ws with a wrong (403) or missing (401) password, and unknown endpoints (404)', async () => {
    const url = wsUrls.get('B') as string;
    const base = url.slice(0, url.indexOf('?'));
    expect(await rejectedStatus(`${base}?pwd=${encodeURIComponent(`${endpoint('B').wsPassword}x`)}`)).toBe(403);
    expect(await rejectedStatus(`${base}?pwd=${encodeURIComponent(endpoint('A').wsPassword)}`)).toBe(403);
    expect(await rejectedStatus(base)).toBe(401);
    expect(await rejectedStatus(url.replace('/B?', '/nobody?'))).toBe(404);
    expect(await rejectedStatus(url.replace(`/${conf.id}/`, '/0000000000000000/'))).toBe(404);
    // The real client's socket is untouched.
    expect(channel('B').close).toBeUndefined();
    expect(h.svc.stats().channels.webSockets).toBe(4);
  });

  it('an SSRC-rewriting receiver learns slots from VideoSourcesMap/AudioSourcesMap and gets media on them; a reconnect gets the full maps', async () => {
    await join([{ id: 'R', stack: 'werift', send: false, capabilities: ['ssrc-rewriting'] }]);
    await waitConnected(['R']);
    const ch = await openChannel(wsUrls.get('R') as string);
    channels.set('R', ch);
    constraints('R', 360);
    await waitFor(() => {
      const video = ch.of('VideoSourcesMap').flatMap((m) => m.mappedSources as Array<Record<string, unknown>>);
      const audio = ch.of('AudioSourcesMap').flatMap((m) => m.mappedSources as Array<Record<string, unknown>>);
      const names = new Set([...video, ...audio].map((e) => e.source));
      return ['A-v0', 'B-v0', 'C-v0', 'A-a0', 'B-a0', 'C-a0'].every((n) => names.has(n)) ? undefined : `mapped: ${[...names].join(',')}`;
    });
    const slotA = ch.of('VideoSourcesMap').flatMap((m) => m.mappedSources as Array<Record<string, unknown>>).find((e) => e.source === 'A-v0') as Record<string, unknown>;
    expect(slotA).toMatchObject({ owner: 'A', videoType: 'CAMERA' });
    expect(typeof slotA.rtx).toBe('number');
    const slotSsrc = slotA.ssrc as number;
    expect(Object.values(plan('A')).flat()).not.toContain(slotSsrc);
    await waitFor(() => {
      const v = receivedVideo(peer('R').rtp.filter((b) => ssrcOf(b) === slotSsrc)).slice(-10);
      return v.length === 10 && v.every((p) => p.encoding === 1) ? undefined : `R gets A on its slot at [${v.map((p) => p.encoding).join('')}]`;
    });
    // No sender SSRC reaches a rewriting receiver.
    const senderSsrcs = new Set(SENDERS.flatMap((id) => Object.values(plan(id)).flat()));
    expect(peer('R').rtp.some((b) => senderSsrcs.has(ssrcOf(b)))).toBe(false);

    // A second socket replaces the first ("replaced") and is sent the full state again.
    const again = await openChannel(wsUrls.get('R') as string);
    channels.set('R', again);
    await waitFor(() => (ch.close !== undefined ? undefined : 'first socket still open'));
    expect(ch.close).toEqual({ code: 1000, reason: 'replaced' });
    await waitFor(() => (again.of('VideoSourcesMap').length > 0 && again.of('AudioSourcesMap').length > 0 && again.of('ForwardedSources').length > 0 ? undefined : `after reconnect: ${again.messages.map((m) => m.colibriClass).join(',')}`));
    const full = again.of('VideoSourcesMap')[0]?.mappedSources as Array<Record<string, unknown>>;
    expect(full.map((e) => e.source).sort()).toEqual(['A-v0', 'B-v0', 'C-v0']);
    expect(again.of('DominantSpeakerEndpointChangeEvent').at(-1)).toMatchObject({ dominantSpeakerEndpoint: 'A' });

    modify([{ id: 'R', expire: true }]);
    await waitFor(() => (again.close !== undefined ? undefined : 'R socket still open'));
    channels.delete('R');
  });

  it('a wrong DTLS fingerprint fails the endpoint: no media to it, none of its media forwarded', async () => {
    const failed: string[] = [];
    await join([{ id: 'E', stack: 'werift', send: true, corruptFingerprint: true }]);
    endpoint('E').on('transportStateChanged', (s) => failed.push(s));
    const pumpE = new MediaPump(peer('E'), plan('E'), { level: 0 });
    pumps.set('E', pumpE);
    pumpE.start();
    await waitFor(() => (transportOf('E').state === 'failed' ? undefined : `E ${transportOf('E').state}`));
    expect(transportOf('E').failureReason).toBe('fingerprint-mismatch');
    expect(failed).toContain('failed');
    expect(h.svc.stats().transports.failed).toBe(1);
    // Let plenty of A's media flow past E's failed endpoint.
    const markB = peer('B').rtp.length;
    await waitFor(() => (peer('B').rtp.length - markB > 200 ? undefined : 'B not receiving'));
    expect(peer('E').rtp).toEqual([]);
    expect(endpoint('E').stats().sent.packets).toBe(0);
    expect(endpoint('E').stats().received.packets).toBe(0);
    const ofE = new Set(Object.values(plan('E')).flat());
    for (const id of ['A', 'B', 'C', 'D']) expect(peer(id).rtp.some((b) => ofE.has(ssrcOf(b))), id).toBe(false);
    pumpE.stop();
    modify([{ id: 'E', expire: true }]);
    expect(conf.endpoints.has('E')).toBe(false);
  });

  it('expiring an endpoint frees its mux registrations, channel, timers and every other endpoint\'s state about it', async () => {
    const ep = endpoint('C');
    const t = transportOf('C');
    const regsBefore = h.svc.mux.registrationCount;
    const sel = t.stats().selectedPair;
    if (sel === undefined) throw new Error('C has no selected pair');
    expect(h.svc.mux.routeOf(sel.ip, sel.port)).toBe(t);
    expect(h.svc.mux.hasUfrag(t.localUfrag)).toBe(true);
    const confBefore = conf.debugState();
    const subsBefore = endpoint('B').debugState().subscriptionsBySource as number;
    const droppedBefore = h.svc.mux.counters.dropped.unknownAddress + h.svc.mux.counters.dropped.stunUnknownUfrag;

    modify([{ id: 'C', expire: true }]);

    expect(ep.expired).toBe(true);
    expect(t.state).toBe('closed');
    expect(t.hasTimer).toBe(false);
    expect(h.svc.mux.routeOf(sel.ip, sel.port)).toBeUndefined();
    expect(h.svc.mux.hasUfrag(t.localUfrag)).toBe(false);
    expect(h.svc.mux.registrationCount).toBeLessThanOrEqual(regsBefore - 2);
    expect(h.svc.channel(conf.id, 'C')).toBeUndefined();
    expect(ep.debugState()).toEqual({
      sources: 0,
      incoming: 0,
      subscriptionsBySsrc: 0,
      subscriptionsBySource: 0,
      outStreams: 0,
      videoSlots: 0,
      audioSlots: 0,
      cachedPackets: 0,
      senderConstraints: 0,
    });
    const after = conf.debugState();
    expect(after.endpoints).toBe((confBefore.endpoints as number) - 1);
    expect(after.sources).toBe((confBefore.sources as number) - 2);
    expect(after.endpointsBySsrc).toBe((confBefore.endpointsBySsrc as number) - 7);
    expect(endpoint('B').debugState().subscriptionsBySource).toBe(subsBefore - 2);
    await waitFor(() => (channel('C').close !== undefined ? undefined : 'C socket still open'));
    expect(channel('C').close?.code).toBe(1001);
    expect(h.svc.stats().channels.count).toBe(3);
    expect(await rejectedStatus(wsUrls.get('C') as string)).toBe(404);

    // C's peer keeps sending: the port drops it as unknown, and nothing of C reaches B any more.
    await waitFor(() => (h.svc.mux.counters.dropped.unknownAddress + h.svc.mux.counters.dropped.stunUnknownUfrag > droppedBefore ? undefined : 'nothing dropped'));
    const mark = peer('B').rtp.length;
    await waitFor(() => (peer('B').rtp.length - mark > 100 ? undefined : 'B not receiving'));
    const ofC = new Set(Object.values(plan('C')).flat());
    expect(peer('B').rtp.slice(mark).some((b) => ofC.has(ssrcOf(b)))).toBe(false);
    expect(conf.dominantSpeaker).toBe('A');
    await waitFor(() => {
      const fwd = channel('D').of('ForwardedSources').at(-1)?.forwardedSources as string[] | undefined;
      return fwd?.join() === 'A-v0,B-v0' ? undefined : `D forwarded ${JSON.stringify(fwd)}`;
    });
  });

  it('expiring the conference frees every registration; close() frees the UDP port, the sockets and the timers', async () => {
    const transports = [...conf.endpoints.values()].map((e) => e.transport as EndpointTransport);
    h.svc.bridge.conferenceModify({ meetingId: MEETING, expire: true });
    expect(h.svc.mux.registrationCount).toBe(0);
    expect(h.svc.mux.closed).toBe(false);
    await h.close();
    expect(h.svc.mux.closed).toBe(true);
    expect(conf.expired).toBe(true);
    expect(conf.debugState().timers).toBe(0);
    expect(transports.every((t) => t.state === 'closed' && !t.hasTimer)).toBe(true);
    expect(h.svc.stats().channels).toEqual({ count: 0, open: 0, webSockets: 0 });
    await waitFor(() => ([...channels.values()].every((c) => c.close !== undefined) ? undefined : 'a colibri socket is still open'));
    expect(() => h.svc.bridge.conferenceModify({ meetingId: 'x', create: true })).toThrow();
  });
});
