/**
 * Meeting (room) names: the same rules the server applies to a room JID's localpart, so the client never sends a
 * name the server refuses, and explains why a name is illegal.
 *
 * The server (`@jitsi-one/xmpp` `Jid.parse`, RFC 7622 §3.3.1) case-folds and NFC-normalises the localpart and
 * refuses `" & ' / : < > @`, whitespace and control characters, empty names, and names over 1023 UTF-8 bytes; the
 * MUC refuses names longer than `xmpp.muc.maxRoomNameLength` (default 256). Jitsi Meet also lower-cases room names,
 * and LJM compares room JIDs byte for byte (PROTOCOL §3.2), so the client uses the normalised form everywhere.
 * `packages/web/test/room-name.test.ts` checks these rules against `Jid.parse`.
 */

/** Characters a room name may not contain (RFC 7622 §3.3.1 localpart exclusions, plus whitespace and controls). */
const FORBIDDEN = /["&'/:<>@\s\u0000-\u001f\u007f]/;
/** RFC 7622 §3.3: at most 1023 bytes per part. */
const MAX_BYTES = 1023;
/** The server's default `xmpp.muc.maxRoomNameLength`. */
export const DEFAULT_MAX_ROOM_NAME_LENGTH = 256;

/** The form the server stores: trimmed, NFC, lower case. */
export function normalizeRoomName(raw: string): string {
  return raw.trim().normalize('NFC').toLowerCase();
}

/** Why a (normalised) name is not a legal meeting name, or undefined when it is. */
export function roomNameProblem(name: string, maxLength = DEFAULT_MAX_ROOM_NAME_LENGTH): string | undefined {
  if (name === '') return 'Enter a meeting name.';
  if (FORBIDDEN.test(name)) return 'Meeting names cannot contain spaces or any of these characters: " & \' / : < > @';
  if (name.length > maxLength || new TextEncoder().encode(name).length > MAX_BYTES) {
    return `Meeting names can be at most ${Math.min(maxLength, MAX_BYTES)} characters long.`;
  }
  return undefined;
}

/**
 * A legal name close to an illegal one (`My Room!` → `my-room!`): forbidden characters and whitespace become
 * hyphens. Undefined when nothing legal remains.
 */
export function suggestRoomName(raw: string, maxLength = DEFAULT_MAX_ROOM_NAME_LENGTH): string | undefined {
  const name = normalizeRoomName(raw)
    .replace(new RegExp(FORBIDDEN.source, 'g'), '-')
    .replace(/-{2,}/g, '-')
    .slice(0, maxLength)
    .replace(/^-|-$/g, '');
  return roomNameProblem(name, maxLength) === undefined ? name : undefined;
}

const ADJECTIVES = ['brave', 'calm', 'clever', 'eager', 'gentle', 'happy', 'jolly', 'kind', 'lively', 'merry', 'proud', 'quick', 'quiet', 'silly', 'swift', 'witty', 'bright', 'bold', 'cosy', 'fresh'];
const NOUNS = ['otters', 'falcons', 'pandas', 'rivers', 'comets', 'maples', 'lanterns', 'pebbles', 'meadows', 'harbors', 'robins', 'dolphins', 'tigers', 'clouds', 'gardens', 'violins', 'islands', 'beacons', 'foxes', 'owls'];
const VERBS = ['sing', 'dance', 'wander', 'gather', 'glow', 'drift', 'shine', 'travel', 'whisper', 'bloom', 'listen', 'explore', 'sparkle', 'paint', 'laugh', 'dream'];
const ADVERBS = ['softly', 'boldly', 'gladly', 'quietly', 'brightly', 'gently', 'warmly', 'freely', 'together', 'daily', 'often', 'slowly'];

/** A readable random name such as `brave-otters-sing-softly` (about 1.2 million combinations). */
export function randomRoomName(random: () => number = Math.random): string {
  const pick = (words: readonly string[]): string => words[Math.floor(random() * words.length) % words.length] ?? words[0] ?? 'x';
  return [pick(ADJECTIVES), pick(NOUNS), pick(VERBS), pick(ADVERBS)].join('-');
}
