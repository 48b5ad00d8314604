/** Meeting names (client/src/room-name.ts) follow exactly the server's rules (`Jid.parse` + maxRoomNameLength). */
import { describe, expect, it } from 'vitest';
import { Jid } from '@jitsi-one/xmpp';
import { DEFAULT_MAX_ROOM_NAME_LENGTH, normalizeRoomName, randomRoomName, roomNameProblem, suggestRoomName } from '../../client/src/room-name.js';

/** What the server accepts as a room localpart: a valid JID localpart, within the MUC's length limit. */
function serverAccepts(name: string): string | undefined {
  const jid = Jid.tryParse(`${name}@conference.example`);
  if (jid === undefined || jid.local === '' || jid.resource !== '' || jid.domain !== 'conference.example') return undefined;
  return jid.local.length <= DEFAULT_MAX_ROOM_NAME_LENGTH ? jid.local : undefined;
}

const NAMES = [
  'room', 'Room', 'MyRoom42', 'brave-otters-sing-softly', 'a.b_c~d!e', 'café', 'CAFÉ', 'cafe\u0301', 'ünïcødé-räum', '会议室', 'emoji-🎉',
  'a b', 'tab\there', 'new\nline', 'a"b', 'a&b', "a'b", 'a/b', 'a:b', 'a<b', 'a>b', 'a@b', 'nul\u0000', 'del\u007f',
  '', 'x'.repeat(DEFAULT_MAX_ROOM_NAME_LENGTH), 'x'.repeat(DEFAULT_MAX_ROOM_NAME_LENGTH + 1), 'é'.repeat(200), '€'.repeat(256), '€'.repeat(342),
];

describe('room names', () => {
  it.each(NAMES)('%j: the client accepts it exactly when the server does, in the same normalised form', (raw) => {
    const name = normalizeRoomName(raw);
    const problem = roomNameProblem(name);
    const server = serverAccepts(raw.trim());
    expect(problem === undefined, `client: ${problem ?? 'ok'}; server: ${server ?? 'refused'}`).toBe(server !== undefined);
    if (server !== undefined) expect(name).toBe(server);
  });

  it('explains what is wrong', () => {
    expect(roomNameProblem('')).toBe('Enter a meeting name.');
    expect(roomNameProblem('a b')).toMatch(/cannot contain spaces/);
    expect(roomNameProblem('x'.repeat(11), 10)).toBe('Meeting names can be at most 10 characters long.');
  });

  it('suggests readable, legal, lower-case names', () => {
    let seed = 0;
    const random = (): number => ((seed = (seed * 9301 + 49297) % 233280) / 233280);
    for (let i = 0; i < 50; i++) {
      const name = randomRoomName(random);
      expect(name).toMatch(/^[a-z]+-[a-z]+-[a-z]+-[a-z]+$/);
      expect(roomNameProblem(name)).toBeUndefined();
    }
  });
});

describe('suggestRoomName()', () => {
  it('turns an illegal name into a close legal one, or nothing', () => {
    expect(suggestRoomName('My Room')).toBe('my-room');
    expect(suggestRoomName(' a / b : c ')).toBe('a-b-c');
    expect(suggestRoomName('"@"')).toBeUndefined();
    expect(suggestRoomName('x y'.repeat(10), 5)).toBe('x-yx');
  });
});
