/**
 * A participant of a conference as the focus sees it: the MUC occupant (nick = endpoint id, real JID, role,
 * affiliation, from its presence), its capabilities, its Jingle session and whether it has a bridge endpoint.
 *
 * References: PROTOCOL.md §3.3.1 (occupant presence with `<item jid>`), §3.4 (presence payload), Jicofo `Participant.kt`.
 */
import type { Affiliation, Role } from '@jitsi-one/xmpp';
import { DEFAULT_FEATURES, type ParticipantFeatures } from './jingle/offer.js';
import type { JingleSession } from './jingle/session.js';

export class Participant {
  /** MUC nick = endpoint id on the bridge. */
  readonly nick: string;
  /** `room@muc/nick`. */
  readonly occupantJid: string;
  /** Real full JID from the muc#user `<item jid>` (undefined in anonymous rooms). */
  realJid: string | undefined;
  role: Role = 'participant';
  affiliation: Affiliation = 'none';
  /** `<stats-id>` of its presence. */
  statsId: string | undefined;
  /** What its client supports (disco#info is not queried yet: what LJM always advertises, PROTOCOL §3.4.2). */
  features: ParticipantFeatures = { ...DEFAULT_FEATURES };
  /** The current JVB session (undefined before the invite and after it ended). */
  session: JingleSession | undefined;
  /** Whether the bridge has an endpoint for it. */
  hasEndpoint = false;
  /** Join order (monotonic per conference), for moderator election. */
  readonly joinIndex: number;

  constructor(nick: string, occupantJid: string, joinIndex: number) {
    this.nick = nick;
    this.occupantJid = occupantJid;
    this.joinIndex = joinIndex;
  }

  /** Owner or moderator (may mute others). */
  get isModerator(): boolean {
    return this.role === 'moderator' || this.affiliation === 'owner' || this.affiliation === 'admin';
  }
}
