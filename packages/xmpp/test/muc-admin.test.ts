/**
 * muc#admin: kick, voice/moderator by role, affiliations (owner, member, outcast), lists, members-only and
 * invitations (PROTOCOL.md §3.3.4, §3.3.7, §9e).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Element, NS_MUC, xml } from '../src/index.js';
import type { TestClient } from './client.js';
import { type TestServer, startTestServer } from './helpers.js';
import { clients, codes, configSubmit, connectPlain, errorCondition, isPresence, item, join } from './muc-helpers.js';

const NS_ADMIN = 'http://jabber.org/protocol/muc#admin';
let srv: TestServer;
let open: TestClient[] = [];
const room = () => `admin@${srv.muc}`;

/** a = owner (creator), b and c = participants. */
async function setup(config = {}): Promise<[TestClient, TestClient, TestClient]> {
  srv = await startTestServer(config);
  const cs = (await clients(srv, 3)) as [TestClient, TestClient, TestClient];
  open = [...cs];
  await join(cs[0], `${room()}/a`);
  await join(cs[1], `${room()}/b`);
  await join(cs[2], `${room()}/c`);
  return cs;
}

function adminSet(id: string, items: string): string {
  return `<iq type="set" id="${id}" to="${room()}"><query xmlns="${NS_ADMIN}">${items}</query></iq>`;
}

const bare = (c: TestClient) => c.jid.split('/')[0] as string;
const role = (s: Element) => item(s)?.attrs.role;

afterEach(async () => {
  for (const c of open) c.close();
  await srv.stop();
});

describe('kick', () => {
  it('a moderator kicks: the kicked gets 110+307 with actor and reason, the others 307; the kicker gets a result', async () => {
    const [a, b, c] = await setup();
    const res = await a.iq(adminSet('k1', '<item nick="b" role="none"><reason>You have been kicked.</reason></item>'));
    expect(res.attrs.type).toBe('result');
    const self = await b.expect(isPresence(`${room()}/b`, 'unavailable'));
    expect(codes(self)).toEqual(['110', '307']);
    expect(item(self)?.attrs.role).toBe('none');
    expect(item(self)?.getChild('actor')?.attrs.nick).toBe('a');
    expect(item(self)?.getChildText('reason')).toBe('You have been kicked.');
    const other = await c.expect(isPresence(`${room()}/b`, 'unavailable'));
    expect(codes(other)).toEqual(['307']);
    expect(item(other)?.attrs.jid).toBe(b.jid);
    expect(srv.xmpp.muc.occupants(room()).map((o) => o.nick)).toEqual(['a', 'c']);
    // Kicked is not banned: b may come back.
    const back = await join(b, `${room()}/b`);
    expect(back.attrs.type).toBeUndefined();
  });

  it('a participant may not kick (forbidden); nobody may kick an owner (not-allowed); a missing nick is item-not-found', async () => {
    const [a, b] = await setup();
    const r1 = await b.iq(adminSet('k2', '<item nick="c" role="none"/>'));
    expect(errorCondition(r1)).toBe('forbidden');
    // Make b a moderator by role, then try the owner.
    expect((await a.iq(adminSet('m', '<item nick="b" role="moderator"/>'))).attrs.type).toBe('result');
    const r2 = await b.iq(adminSet('k3', '<item nick="a" role="none"/>'));
    expect(errorCondition(r2)).toBe('not-allowed');
    const r3 = await a.iq(adminSet('k4', '<item nick="zz" role="none"/>'));
    expect(errorCondition(r3)).toBe('item-not-found');
    const r4 = await a.iq(adminSet('k5', '<item nick="c" role="king"/>'));
    expect(errorCondition(r4)).toBe('bad-request');
    expect(srv.xmpp.muc.occupants(room())).toHaveLength(3);
  });
});

describe('grant and revoke moderator', () => {
  it('by role: an owner makes a participant moderator and back; the presence is broadcast with the new role', async () => {
    const [a, b, c] = await setup();
    expect((await a.iq(adminSet('r1', '<item nick="b" role="moderator"/>'))).attrs.type).toBe('result');
    const atC = await c.expect((s) => isPresence(`${room()}/b`)(s) && role(s) === 'moderator');
    expect(item(atC)?.attrs.affiliation).toBe('none');
    const self = await b.expect((s) => isPresence(`${room()}/b`)(s) && role(s) === 'moderator');
    expect(codes(self)).toEqual(['110']);
    // A moderator without affiliation may kick participants but not grant moderator (owner/admin only).
    const r2 = await b.iq(adminSet('r2', '<item nick="c" role="moderator"/>'));
    expect(errorCondition(r2)).toBe('forbidden');
    expect((await a.iq(adminSet('r3', '<item nick="b" role="participant"/>'))).attrs.type).toBe('result');
    await c.expect((s) => isPresence(`${room()}/b`)(s) && role(s) === 'participant');
  });

  it('by affiliation: owner grants owner (role moderator), then revokes to none (participant); only owners may', async () => {
    const [a, b, c] = await setup();
    const r0 = await b.iq(adminSet('g0', `<item affiliation="owner" jid="${bare(c)}"/>`));
    expect(errorCondition(r0)).toBe('forbidden');
    expect((await a.iq(adminSet('g1', `<item affiliation="owner" jid="${bare(b)}"><reason>r</reason></item>`))).attrs.type).toBe('result');
    const atC = await c.expect((s) => isPresence(`${room()}/b`)(s) && item(s)?.attrs.affiliation === 'owner');
    expect(role(atC)).toBe('moderator');
    const self = await b.expect((s) => isPresence(`${room()}/b`)(s) && item(s)?.attrs.affiliation === 'owner');
    expect(codes(self)).toEqual(['110']);
    expect(srv.xmpp.muc.getRoom(room())?.getAffiliation(bare(b))).toBe('owner');
    // The new owner can now demote the creator; the creator cannot remove the last owner.
    expect((await b.iq(adminSet('g2', `<item affiliation="none" jid="${bare(a)}"/>`))).attrs.type).toBe('result');
    const aDemoted = await c.expect((s) => isPresence(`${room()}/a`)(s) && item(s)?.attrs.affiliation === 'none');
    expect(role(aDemoted)).toBe('participant');
    const r3 = await b.iq(adminSet('g3', `<item affiliation="member" jid="${bare(b)}"/>`));
    expect(errorCondition(r3)).toBe('conflict');
    // A full JID is taken as its bare JID; by nick works too.
    expect((await b.iq(adminSet('g4', `<item affiliation="member" jid="${c.jid}"/>`))).attrs.type).toBe('result');
    expect(srv.xmpp.muc.getRoom(room())?.getAffiliation(bare(c))).toBe('member');
    expect((await b.iq(adminSet('g5', `<item affiliation="admin" nick="a"/>`))).attrs.type).toBe('result');
    await c.expect((s) => isPresence(`${room()}/a`)(s) && item(s)?.attrs.affiliation === 'admin' && role(s) === 'moderator');
    // An admin cannot touch owners.
    const r6 = await a.iq(adminSet('g6', `<item affiliation="none" jid="${bare(b)}"/>`));
    expect(errorCondition(r6)).toBe('forbidden');
  });

  it('muc#admin get lists by affiliation and role, for moderators only', async () => {
    const [a, b] = await setup();
    const owners = await a.iq(`<iq type="get" id="l1" to="${room()}"><query xmlns="${NS_ADMIN}"><item affiliation="owner"/></query></iq>`);
    expect(owners.attrs.type).toBe('result');
    expect(owners.getChild('query')?.getChildren('item').map((i) => i.attrs.jid)).toEqual([bare(a)]);
    const parts = await a.iq(`<iq type="get" id="l2" to="${room()}"><query xmlns="${NS_ADMIN}"><item role="participant"/></query></iq>`);
    expect(parts.getChild('query')?.getChildren('item').map((i) => i.attrs.nick)).toEqual(['b', 'c']);
    const denied = await b.iq(`<iq type="get" id="l3" to="${room()}"><query xmlns="${NS_ADMIN}"><item affiliation="owner"/></query></iq>`);
    expect(errorCondition(denied)).toBe('forbidden');
  });
});

describe('ban', () => {
  it('outcast removes the occupant with 301 and it cannot rejoin (auth/forbidden)', async () => {
    const [a, b, c] = await setup();
    expect((await a.iq(adminSet('b1', `<item affiliation="outcast" jid="${bare(b)}"><reason>bye</reason></item>`))).attrs.type).toBe('result');
    const self = await b.expect(isPresence(`${room()}/b`, 'unavailable'));
    expect(codes(self)).toEqual(['110', '301']);
    expect(item(self)?.attrs.affiliation).toBe('outcast');
    expect(item(self)?.getChildText('reason')).toBe('bye');
    const other = await c.expect(isPresence(`${room()}/b`, 'unavailable'));
    expect(codes(other)).toEqual(['301']);
    const err = await join(b, `${room()}/b2`);
    expect(err.attrs.type).toBe('error');
    expect(err.getChild('error')?.attrs.type).toBe('auth');
    expect(errorCondition(err)).toBe('forbidden');
    const outcasts = await a.iq(`<iq type="get" id="l" to="${room()}"><query xmlns="${NS_ADMIN}"><item affiliation="outcast"/></query></iq>`);
    expect(outcasts.getChild('query')?.getChildren('item').map((i) => i.attrs.jid)).toEqual([bare(b)]);
  });
});

describe('members-only', () => {
  it('non-members get auth/registration-required; members join; switching on removes non-members with 322', async () => {
    const [a, b, c] = await setup();
    // Lobby-style: make b a member first, then switch members-only on.
    expect((await a.iq(adminSet('mem', `<item affiliation="member" jid="${bare(b)}"/>`))).attrs.type).toBe('result');
    a.send(configSubmit(room(), 'mo', { 'muc#roomconfig_membersonly': 'true' }));
    expect((await a.expect((s) => s.attrs.id === 'mo')).attrs.type).toBe('result');
    const removed = await c.expect(isPresence(`${room()}/c`, 'unavailable'));
    expect(codes(removed)).toEqual(['110', '322']);
    await b.expect((s) => s.name === 'message' && codes(s).includes('104'));
    const err = await join(c, `${room()}/c`);
    expect(err.getChild('error')?.attrs.type).toBe('auth');
    expect(errorCondition(err)).toBe('registration-required');
    const info = await a.iq(`<iq type="get" id="d" to="${room()}"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`);
    const vars = info.getChild('query')?.getChildren('feature').map((f) => f.attrs.var);
    expect(vars).toContain('muc_membersonly');
    // A moderator's mediated invite makes the invitee a member (lobby approval) and forwards the invitation.
    a.send(`<message to="${room()}"><x xmlns="http://jabber.org/protocol/muc#user"><invite to="${c.jid}"><reason>come in</reason></invite></x></message>`);
    const inv = await c.expect((s) => s.name === 'message' && s.attrs.from === room());
    expect(inv.getChild('x', 'http://jabber.org/protocol/muc#user')?.getChild('invite')?.attrs.from).toBe(a.jid);
    expect(inv.getChild('x', 'http://jabber.org/protocol/muc#user')?.getChild('invite')?.getChildText('reason')).toBe('come in');
    const ok = await join(c, `${room()}/c`);
    expect(ok.attrs.type).toBeUndefined();
    expect(item(ok)?.attrs.affiliation).toBe('member');
    // Revoking membership in a members-only room removes the occupant with 321.
    expect((await a.iq(adminSet('rev', `<item affiliation="none" jid="${bare(c)}"/>`))).attrs.type).toBe('result');
    const gone = await b.expect((s) => isPresence(`${room()}/c`, 'unavailable')(s) && codes(s).includes('321'));
    expect(codes(gone)).toEqual(['321']);
    expect(item(gone)?.attrs.affiliation).toBe('none');
  });

  it('service admins bypass members-only and password, and cannot be demoted', async () => {
    const [a] = await setup({ accounts: [{ jid: 'focus@auth.meet.jitsi', password: 'pw' }], muc: { admins: ['focus@auth.meet.jitsi'] } });
    a.send(configSubmit(room(), 'lock', { 'muc#roomconfig_membersonly': '1', 'muc#roomconfig_roomsecret': 'secret', 'muc#roomconfig_passwordprotectedroom': '1' }));
    expect((await a.expect((s) => s.attrs.id === 'lock')).attrs.type).toBe('result');
    const focus = await connectPlain(srv, 'focus', 'pw', 'auth.meet.jitsi');
    open.push(focus);
    const self = await join(focus, `${room()}/focus`);
    expect(self.attrs.type).toBeUndefined();
    expect(item(self)?.attrs).toMatchObject({ affiliation: 'owner', role: 'moderator' });
    const r = await a.iq(adminSet('x', `<item affiliation="none" jid="focus@auth.meet.jitsi"/>`));
    expect(errorCondition(r)).toBe('not-allowed');
    // As an implicit owner, the focus may configure and kick.
    const kick = await focus.iq(adminSet('fk', '<item nick="a" role="none"/>'));
    expect(kick.attrs.type).toBe('result');
  });
});

describe('in-process focus', () => {
  it('an auto-owner grant made synchronously while a join is being broadcast reaches everyone after the join presence', async () => {
    srv = await startTestServer({ muc: { admins: ['focus@auth.meet.jitsi'] } });
    const [c, x] = (await clients(srv, 2)) as [TestClient, TestClient];
    open = [c, x];
    const r = `focusroom@${srv.muc}`;
    const seen: string[] = [];
    const focus = srv.xmpp.createLocalSession('focus@auth.meet.jitsi/focus', (st) => {
      seen.push(`${st.name}:${st.attrs.from}:${st.attrs.type ?? ''}`);
      // Like Jicofo's auto-owner, but synchronously inside the MUC's fan-out: grant owner to the participant x.
      if (st.name === 'presence' && st.attrs.from === `${r}/x` && st.attrs.type === undefined && item(st)?.attrs.affiliation === 'none') {
        focus.receive(
          xml('iq', { type: 'set', id: 'auto-owner', to: r }, xml('query', { xmlns: NS_ADMIN }, xml('item', { affiliation: 'owner', jid: bare(x) }))),
        );
      }
    });
    focus.receive(xml('presence', { to: `${r}/focus` }, xml('x', { xmlns: NS_MUC })));
    await join(c, `${r}/c`);
    await join(x, `${r}/x`);
    const first = await c.expect(isPresence(`${r}/x`));
    expect(item(first)?.attrs.affiliation).toBe('none');
    const second = await c.expect(isPresence(`${r}/x`));
    expect(item(second)?.attrs).toMatchObject({ affiliation: 'owner', role: 'moderator' });
    const selfOwner = await x.expect((s) => isPresence(`${r}/x`)(s) && item(s)?.attrs.affiliation === 'owner');
    expect(codes(selfOwner)).toEqual(['110']);
    expect(seen).toContain(`iq:${r}:result`);
    expect(srv.xmpp.muc.occupants(r).find((o) => o.nick === 'focus')).toMatchObject({ affiliation: 'owner', privileged: true });
  });
});
