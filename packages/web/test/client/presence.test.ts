/** MUC presence as LJM writes and reads it (client/src/conference/presence.ts, PROTOCOL §3.3–§3.4). */
import { describe, expect, it } from 'vitest';
import { xml } from '@jitsi-one/xmpp';
import { buildPresence, capsString, isSharingScreen, isSourceOff, parseOccupantPresence, parseRaisedHand, parseSourceInfo } from '../../client/src/conference/presence.js';

const ROOM = 'room1@conference.example';

describe('presence', () => {
  it('the join presence carries the MUC <x>, stats-id, caps, codec list, SourceInfo and nick (§3.3.1)', () => {
    const p = buildPresence(`${ROOM}/abcd1234`, { endpointId: 'abcd1234', displayName: 'Ada', statsId: 's1', capsVer: 'v=', audio: { muted: true }, video: { muted: false } }, true);
    expect(p.attrs.to).toBe(`${ROOM}/abcd1234`);
    expect(p.getChild('x', 'http://jabber.org/protocol/muc')).toBeDefined();
    expect(p.getChildText('stats-id')).toBe('s1');
    expect(p.getChild('c', 'http://jabber.org/protocol/caps')?.attrs).toMatchObject({ hash: 'sha-1', node: 'https://jitsi.org/jitsi-meet', ver: 'v=' });
    expect(JSON.parse(p.getChildText('SourceInfo') ?? '')).toEqual({ 'abcd1234-a0': { muted: true }, 'abcd1234-v0': { muted: false, videoType: 'camera' } });
    expect(p.getChild('nick', 'http://jabber.org/protocol/nick')?.getText()).toBe('Ada');
    // Updates are the same payload without the MUC <x> (§3.3.2); no devices → empty SourceInfo.
    const u = buildPresence(`${ROOM}/abcd1234`, { endpointId: 'abcd1234', displayName: '', statsId: 's1' }, false);
    expect(u.getChild('x')).toBeUndefined();
    expect(u.getChildText('SourceInfo')).toBe('{}');
    expect(u.getChild('nick', 'http://jabber.org/protocol/nick')).toBeUndefined();
  });

  it('reads an occupant presence: nick, name, mute state, role, real JID, self (110), unavailable', () => {
    const stanza = xml(
      'presence',
      { from: `${ROOM}/ffff0000` },
      xml('x', { xmlns: 'http://jabber.org/protocol/muc#user' }, xml('item', { affiliation: 'owner', role: 'moderator', jid: 'u@example/r' }), xml('status', { code: '110' })),
      xml('SourceInfo', null, '{"ffff0000-a0":{"muted":true},"ffff0000-v0":{"muted":false,"videoType":"camera"}}'),
      xml('nick', { xmlns: 'http://jabber.org/protocol/nick' }, 'Bo'),
    );
    const o = parseOccupantPresence(stanza, ROOM);
    expect(o).toMatchObject({ nick: 'ffff0000', self: true, unavailable: false, displayName: 'Bo', role: 'moderator', affiliation: 'owner', realJid: 'u@example/r' });
    expect(o && isSourceOff(o, 'audio')).toBe(true);
    expect(o && isSourceOff(o, 'video')).toBe(false);
    expect(parseOccupantPresence(xml('presence', { from: `${ROOM}/x` }), ROOM)).toBeUndefined(); // no muc#user <x>: ignored, as LJM does
    expect(parseOccupantPresence(xml('presence', { from: `other@conference.example/x` }, xml('x', { xmlns: 'http://jabber.org/protocol/muc#user' })), ROOM)).toBeUndefined();
    const gone = parseOccupantPresence(xml('presence', { from: `${ROOM}/x`, type: 'unavailable' }, xml('x', { xmlns: 'http://jabber.org/protocol/muc#user' })), ROOM);
    expect(gone).toMatchObject({ nick: 'x', unavailable: true, self: false });
    // A participant that announced no camera counts as camera-off.
    expect(gone && isSourceOff(gone, 'video')).toBe(true);
  });

  it('SourceInfo is read leniently', () => {
    expect(parseSourceInfo('{"a-a0":{"muted":"yes"},"b":3,"c-v0":{"videoType":"desktop"}}')).toEqual({ 'a-a0': { muted: false }, 'c-v0': { muted: false, videoType: 'desktop' } });
    expect(parseSourceInfo('nope')).toEqual({});
    expect(parseSourceInfo(null)).toEqual({});
  });

  it('the caps string lists the features sorted, each followed by < (XEP-0115 §5.1)', () => {
    expect(capsString(['b', 'a'])).toBe('a<b<');
  });

  it('a screen share is source <ep>-v1 with videoType desktop; a raised hand is jitsi_participant_raisedHand (Jitsi Meet)', () => {
    const p = buildPresence(`${ROOM}/abcd1234`, { endpointId: 'abcd1234', displayName: 'Ada', statsId: 's1', video: { muted: false }, desktop: { muted: false }, raisedHand: 1724142400000 }, false);
    expect(JSON.parse(p.getChildText('SourceInfo') ?? '')).toEqual({
      'abcd1234-v0': { muted: false, videoType: 'camera' },
      'abcd1234-v1': { muted: false, videoType: 'desktop' },
    });
    expect(p.getChildText('jitsi_participant_raisedHand')).toBe('1724142400000');
    // Lowered after raising: 0, as Jitsi Meet sends; never raised: no element.
    expect(buildPresence(`${ROOM}/a`, { endpointId: 'a', displayName: '', statsId: 's', raisedHand: 0 }, false).getChildText('jitsi_participant_raisedHand')).toBe('0');
    expect(buildPresence(`${ROOM}/a`, { endpointId: 'a', displayName: '', statsId: 's' }, false).getChild('jitsi_participant_raisedHand')).toBeUndefined();

    const o = parseOccupantPresence(
      xml('presence', { from: `${ROOM}/abcd1234` }, xml('x', { xmlns: 'http://jabber.org/protocol/muc#user' }, xml('item', { role: 'participant' })), ...p.children.filter((c) => typeof c !== 'string')),
      ROOM,
    );
    expect(o?.raisedHand).toBe(1724142400000);
    expect(o && isSharingScreen(o)).toBe(true);
    expect(isSharingScreen({ nick: 'a', sourceInfo: { 'a-v0': { muted: false, videoType: 'camera' }, 'a-v1': { muted: true, videoType: 'desktop' } } })).toBe(false);
    expect([parseRaisedHand('true'), parseRaisedHand('false'), parseRaisedHand(''), parseRaisedHand(null), parseRaisedHand('0'), parseRaisedHand('17')]).toEqual([1, 0, 0, 0, 0, 17]);
  });

  it('a kick (307) names the actor and the reason', () => {
    const o = parseOccupantPresence(
      xml(
        'presence',
        { from: `${ROOM}/ffff0000`, type: 'unavailable' },
        xml('x', { xmlns: 'http://jabber.org/protocol/muc#user' }, xml('item', { role: 'none' }, xml('actor', { nick: 'aaaa1111' }), xml('reason', null, 'You have been kicked.')), xml('status', { code: '307' }), xml('status', { code: '110' })),
      ),
      ROOM,
    );
    expect(o).toMatchObject({ self: true, unavailable: true, statusCodes: ['307', '110'], actorNick: 'aaaa1111', reason: 'You have been kicked.' });
  });
});
