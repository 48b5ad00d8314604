/**
 * Trying to break the colibri-ws password (issue 7, "Secure rooms"): the real BridgeService behind a loopback HTTP
 * server, real `ws` clients. Each endpoint's channel opens only with its own current password, on its own
 * conference's path; a password is worth nothing for another endpoint, another conference, or after its endpoint
 * expired (a re-created endpoint gets a new one); and a connected endpoint cannot speak for another one.
 * (The model-level rules, such as 401 vs 403 vs 404, are in channel-ws.test.ts with a fake conference.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { TransportDesc } from '../src/colibri/types.js';
import { openChannel, rejectedStatus, startHarness, waitFor, type ChannelClient, type Harness } from './e2e-helpers.js';
import { createEndpoint } from './model-fakes.js';

const M1 = '5e7b1ce0-0000-4000-8000-00000000a001';
const M2 = '5e7b1ce0-0000-4000-8000-00000000a002';

let h: Harness | undefined;
const open: ChannelClient[] = [];

afterEach(async () => {
  for (const c of open.splice(0)) c.ws.terminate();
  await h?.close();
  h = undefined;
});

interface Url {
  base: string;
  bridgeId: string;
  conf: string;
  ep: string;
  pwd: string;
}

function split(url: string): Url {
  const u = new URL(url);
  const [, , bridgeId, conf, ep] = u.pathname.split('/') as [string, string, string, string, string];
  return { base: `${u.protocol}//${u.host}/colibri-ws`, bridgeId, conf, ep, pwd: u.searchParams.get('pwd') ?? '' };
}

function join(u: Url, query = `?pwd=${encodeURIComponent(u.pwd)}`): string {
  return `${u.base}/${u.bridgeId}/${u.conf}/${u.ep}${query}`;
}

/** Two conferences on one bridge, both with endpoints A and B (same ids on purpose). */
async function twoConferences(): Promise<{ h: Harness; urls: Map<string, Url> }> {
  h = await startHarness();
  const urls = new Map<string, Url>();
  for (const [tag, meetingId] of [['1', M1], ['2', M2]] as const) {
    const reply = h.svc.bridge.conferenceModify({ meetingId, create: true, endpoints: [createEndpoint('A'), createEndpoint('B')] });
    for (const e of reply.endpoints) urls.set(`${tag}${e.id}`, split((e.transport as TransportDesc).webSocketUrl as string));
  }
  return { h, urls };
}

async function accepts(url: string): Promise<ChannelClient> {
  const c = await openChannel(url);
  open.push(c);
  return c;
}

describe('colibri-ws password, attacked', () => {
  it('every endpoint of every conference has its own random password (144 bits, base64url)', async () => {
    const { urls } = await twoConferences();
    const pwds = [...urls.values()].map((u) => u.pwd);
    for (const p of pwds) expect(p).toMatch(/^[A-Za-z0-9_-]{24,}$/);
    expect(new Set(pwds).size).toBe(pwds.length);
    for (const u of urls.values()) expect((await accepts(join(u))).messages[0]).toEqual({ colibriClass: 'ServerHello' });
  });

  it('refuses a missing, empty, wrong, truncated, extended or case-changed password', async () => {
    const { urls } = await twoConferences();
    const a = urls.get('1A') as Url;
    const flipCase = a.pwd.replace(/[A-Za-z]/, (ch) => (ch === ch.toLowerCase() ? ch.toUpperCase() : ch.toLowerCase()));
    expect(flipCase).not.toBe(a.pwd);
    const cases: [string, string, number][] = [
      ['missing', '', 401],
      ['empty', '?pwd=', 401],
      ['wrong', '?pwd=AAAAAAAAAAAAAAAAAAAAAAAA', 403],
      ['truncated', `?pwd=${a.pwd.slice(0, -1)}`, 403],
      ['extended', `?pwd=${a.pwd}x`, 403],
      ['case-changed', `?pwd=${flipCase}`, 403],
      ['wrong first, right second', `?pwd=nope&pwd=${a.pwd}`, 403],
    ];
    for (const [what, query, status] of cases) {
      expect(await rejectedStatus(join(a, query)), what).toBe(status);
    }
    expect(h?.svc.stats().channels.webSockets).toBe(0);
  });

  it("refuses another endpoint's password, and another conference's password for an endpoint with the same id", async () => {
    const { urls } = await twoConferences();
    const [a1, b1, a2] = [urls.get('1A'), urls.get('1B'), urls.get('2A')] as [Url, Url, Url];
    // B's password on A's path (same conference).
    expect(await rejectedStatus(join({ ...a1, pwd: b1.pwd }))).toBe(403);
    // Conference 1's A password on conference 2's A path, and the other way round.
    expect(await rejectedStatus(join({ ...a2, pwd: a1.pwd }))).toBe(403);
    expect(await rejectedStatus(join({ ...a1, pwd: a2.pwd }))).toBe(403);
    // A correct password with a path that is not its endpoint's: unknown ids and another bridge id.
    expect(await rejectedStatus(join({ ...a1, ep: 'C' }))).toBe(404);
    expect(await rejectedStatus(join({ ...a1, conf: `${a1.conf}x` }))).toBe(404);
    expect(await rejectedStatus(join({ ...a1, bridgeId: 'jvb2' }))).toBe(404);
    expect(await rejectedStatus(join({ ...a1, ep: 'A%2F..%2FB' }))).toBe(404);
    expect(await rejectedStatus(`${a1.base}/${a1.bridgeId}/${a1.conf}//${a1.ep}?pwd=${a1.pwd}`)).toBe(404);
  });

  it('a password replayed after its endpoint expired is refused; the re-created endpoint has a new one', async () => {
    const { h: harness, urls } = await twoConferences();
    const a1 = urls.get('1A') as Url;
    const live = await accepts(join(a1));
    harness.svc.bridge.conferenceModify({ meetingId: M1, endpoints: [{ id: 'A', expire: true }] });
    await waitFor(() => (live.close !== undefined ? undefined : 'socket of the expired endpoint still open'));
    expect(await rejectedStatus(join(a1))).toBe(404);
    const reply = harness.svc.bridge.conferenceModify({ meetingId: M1, endpoints: [createEndpoint('A')] });
    const fresh = split((reply.endpoints.find((e) => e.id === 'A')?.transport as TransportDesc).webSocketUrl as string);
    expect(fresh.conf).toBe(a1.conf);
    expect(fresh.pwd).not.toBe(a1.pwd);
    expect(await rejectedStatus(join(a1))).toBe(403);
    expect((await accepts(join(fresh))).messages[0]).toEqual({ colibriClass: 'ServerHello' });
  });

  it('an open channel cannot speak for another endpoint: relayed messages carry the real sender', async () => {
    const { urls } = await twoConferences();
    const [a, b] = [await accepts(join(urls.get('1A') as Url)), await accepts(join(urls.get('1B') as Url))];
    const other = await accepts(join(urls.get('2B') as Url));
    a.send({ colibriClass: 'EndpointMessage', from: 'B', to: 'B', msgPayload: { forged: true } });
    a.send({ colibriClass: 'EndpointMessage', from: 'B', to: '', msgPayload: { forged: 'broadcast' } });
    await waitFor(() => (b.of('EndpointMessage').length >= 2 ? undefined : 'B did not get both messages'));
    for (const m of b.of('EndpointMessage')) expect(m.from).toBe('A');
    // Nothing crosses into the other conference, where an endpoint B exists too.
    await new Promise((r) => setTimeout(r, 50));
    expect(other.of('EndpointMessage')).toEqual([]);
  });
});
