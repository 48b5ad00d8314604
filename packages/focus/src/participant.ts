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
  /**
   * What its client supports: from its disco#info answer once it arrived; until then, and when the query fails,
   * what LJM always advertises (PROTOCOL §3.4.2).
   */
  features: ParticipantFeatures = { ...DEFAULT_FEATURES };
  /** The disco#info query on join: `pending` until answered, then `done` or `failed` (error or timeout). */
  disco: 'none' | 'pending' | 'done' | 'failed' = 'none';
  /** Settles when the disco#info query does (never rejects). */
  discoSettled: Promise<void> = Promise.resolve();
  /** An invite is waiting for the disco#info answer. */
  inviting = false;
  /**
   * Bridge force-mute per media after a moderator's mute (§3.5): `pending` until its SourceInfo shows the media
   * muted, `muted` after; lifted when its SourceInfo then shows it unmuted again (the participant unmuted itself).
   */
  readonly forceMute: { audio?: 'pending' | 'muted'; video?: 'pending' | 'muted' } = {};
  /** Mute state per media from its last `<SourceInfo>` (undefined: no source of that media listed). */
  mediaMuted: { audio?: boolean; video?: boolean } = {};
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

  /**
   * Read `<SourceInfo>` (§3.4.1: JSON keyed by source name, `{"muted":bool,"videoType":…}`): a media is muted when
   * it has sources and all are muted. Camera video only (`-v*` without `videoType` desktop). Ignores bad JSON.
   */
  updateSourceInfo(text: string): void {
    let info: unknown;
    try {
      info = JSON.parse(text);
    } catch {
      return;
    }
    if (typeof info !== 'object' || info === null) return;
    const state: { audio?: boolean; video?: boolean } = {};
    for (const [name, v] of Object.entries(info as Record<string, unknown>)) {
      if (typeof v !== 'object' || v === null) continue;
      const { muted, videoType } = v as { muted?: unknown; videoType?: unknown };
      const media = /-a\d+$/.test(name) ? 'audio' : /-v\d+$/.test(name) && videoType !== 'desktop' ? 'video' : undefined;
      if (!media) continue;
      const m = muted === true;
      state[media] = (state[media] ?? true) && m;
    }
    this.mediaMuted = state;
  }

  /** Owner or moderator (may mute others). */
  get isModerator(): boolean {
    return this.role === 'moderator' || this.affiliation === 'owner' || this.affiliation === 'admin';
  }
}
