/** Chat messages as LJM sends and reads them (client/src/conference/chat.ts, PROTOCOL §3.3.6). */
import { describe, expect, it } from 'vitest';
import { xml } from '@jitsi-one/xmpp';
import { buildGroupMessage, buildPrivateMessage, cleanChatText, MAX_CHAT_LENGTH, parseChatMessage } from '../../client/src/conference/chat.js';

const ROOM = 'room1@conference.example';
const NS_NICK = 'http://jabber.org/protocol/nick';

describe('chat', () => {
  it('a group message goes to the room as groupchat with <body> and <nick>; a private one to room/nick as chat', () => {
    const g = buildGroupMessage(ROOM, 'Hello', 'Ada', 'id-1');
    expect(g.attrs).toEqual({ to: ROOM, type: 'groupchat', id: 'id-1' });
    expect(g.getChildText('body')).toBe('Hello');
    expect(g.getChild('nick', NS_NICK)?.getText()).toBe('Ada');
    const p = buildPrivateMessage(ROOM, 'bbbb2222', 'Psst', '', 'id-2');
    expect(p.attrs).toEqual({ to: `${ROOM}/bbbb2222`, type: 'chat', id: 'id-2' });
    expect(p.getChildText('body')).toBe('Psst');
    expect(p.getChild('nick')).toBeUndefined();
  });

  it('reads group and private lines from occupants, ours marked self, as LJM does (sender from `from`)', () => {
    const g = parseChatMessage(xml('message', { from: `${ROOM}/aaaa1111`, type: 'groupchat', id: 'm1' }, xml('body', null, 'Hi all')), ROOM, 'aaaa1111', 5);
    expect(g).toEqual({ kind: 'message', message: { id: 'm1', from: 'aaaa1111', nick: undefined, text: 'Hi all', private: false, self: true, timestamp: 5 } });
    const p = parseChatMessage(xml('message', { from: `${ROOM}/bbbb2222`, type: 'chat' }, xml('body', null, 'Only you'), xml('nick', { xmlns: NS_NICK }, 'Bo')), ROOM, 'aaaa1111');
    expect(p?.kind === 'message' && p.message).toMatchObject({ from: 'bbbb2222', nick: 'Bo', text: 'Only you', private: true, self: false });
  });

  it('ignores what is not a chat line: subjects, JSON messages, reactions, history, other rooms, empty bodies', () => {
    const from = `${ROOM}/bbbb2222`;
    const cases = [
      xml('message', { from: ROOM, type: 'groupchat' }, xml('subject', null, 'Topic')),
      xml('message', { from, type: 'groupchat' }, xml('json-message', { xmlns: 'http://jitsi.org/jitmeet' }, '{}'), xml('body', null, 'x')),
      xml('message', { from, type: 'groupchat' }, xml('reactions', { xmlns: 'urn:xmpp:reactions:0', id: 'm1' }), xml('body', null, 'x')),
      xml('message', { from, type: 'groupchat' }, xml('body', null, 'old'), xml('delay', { xmlns: 'urn:xmpp:delay', stamp: '2020-01-01T00:00:00Z' })),
      xml('message', { from: `other@conference.example/x`, type: 'groupchat' }, xml('body', null, 'x')),
      xml('message', { from, type: 'groupchat' }, xml('body')),
      xml('message', { from, type: 'headline' }, xml('body', null, 'x')),
    ];
    for (const c of cases) expect(parseChatMessage(c, ROOM, 'aaaa1111')).toBeUndefined();
  });

  it('a bounced message is an error naming the occupant it was for', () => {
    const e = xml(
      'message',
      { from: `${ROOM}/gone0000`, type: 'error' },
      xml('error', { type: 'cancel' }, xml('item-not-found', { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' }), xml('text', { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' }, 'Recipient not in room')),
    );
    expect(parseChatMessage(e, ROOM, 'aaaa1111')).toEqual({ kind: 'error', to: 'gone0000', text: 'Recipient not in room' });
  });

  it('cleans the text: trimmed, no characters XML cannot carry, at most MAX_CHAT_LENGTH', () => {
    expect(cleanChatText('  a\u0000b\u0007c  ')).toBe('abc');
    expect([...cleanChatText('😀'.repeat(MAX_CHAT_LENGTH + 5))]).toHaveLength(MAX_CHAT_LENGTH);
  });
});
