/** Moderator actions as LJM sends them (client/src/conference/moderation.ts, PROTOCOL §3.3.7, §3.5). */
import { describe, expect, it } from 'vitest';
import { buildGrantOwnerIq, buildKickIq, buildMuteIq, moderationErrorText, muteMediaOf } from '../../client/src/conference/moderation.js';

const ROOM = 'room1@conference.example';

describe('moderation', () => {
  it('mute goes to the focus occupant with the target occupant JID and `true`', () => {
    const iq = buildMuteIq(`${ROOM}/focus`, ROOM, 'bbbb2222', 'video');
    expect(iq.attrs).toMatchObject({ type: 'set', to: `${ROOM}/focus` });
    const mute = iq.getChild('mute', 'http://jitsi.org/jitmeet/video');
    expect(mute?.attrs.jid).toBe(`${ROOM}/bbbb2222`);
    expect(mute?.getText()).toBe('true');
    expect(mute && muteMediaOf(mute)).toBe('video');
    expect(muteMediaOf(buildMuteIq(`${ROOM}/focus`, ROOM, 'x', 'desktop').getChildElements()[0] ?? iq)).toBe('desktop');
  });

  it('kick is muc#admin role none by nick; grant moderator is affiliation owner by bare real JID', () => {
    const kick = buildKickIq(ROOM, 'bbbb2222').getChild('query', 'http://jabber.org/protocol/muc#admin')?.getChild('item');
    expect(kick?.attrs).toEqual({ nick: 'bbbb2222', role: 'none' });
    expect(kick?.getChildText('reason')).toBe('You have been kicked.');
    const grant = buildGrantOwnerIq(ROOM, 'abc@meet.example/res1');
    expect(grant.attrs).toMatchObject({ type: 'set', to: ROOM });
    expect(grant.getChild('query', 'http://jabber.org/protocol/muc#admin')?.getChild('item')?.attrs).toEqual({ affiliation: 'owner', jid: 'abc@meet.example' });
  });

  it('refusals read as sentences', () => {
    expect(moderationErrorText('remove the participant', 'not-allowed')).toBe('Could not remove the participant: you are not allowed to do that.');
    expect(moderationErrorText('mute the microphone', 'item-not-found', 'gone')).toBe('Could not mute the microphone: that participant is no longer in the meeting (gone).');
  });
});
