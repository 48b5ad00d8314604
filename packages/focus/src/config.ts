/**
 * The `focus` section of the app config. The focus JID is not configurable: it is always
 * `focus@<xmpp.authDomain>/focus`, and the server adds its bare JID to `xmpp.muc.admins`.
 *
 * References: PROTOCOL.md §3.1 (min-participants, auto-owner, single-participant timeout), jicofo `reference.conf`.
 */
import { z } from 'zod';

/** Who gets moderator rights: the first participant (Jicofo auto-owner), everybody (Prosody's allowners), nobody. */
export const MODERATOR_POLICIES = ['first', 'everybody', 'nobody'] as const;
export type ModeratorPolicy = (typeof MODERATOR_POLICIES)[number];

export const focusConfigSchema = z.object({
  /** Run the focus (conference IQ, Jingle). Off: clients get no answer to the conference IQ from this process. */
  enabled: z.boolean().default(true),
  /** `first`: the first participant is owner, re-elected when it leaves; `everybody`; `nobody`. */
  moderatorPolicy: z.enum(MODERATOR_POLICIES).default('first'),
  /** Participants (focus excluded) needed before bridge sessions are offered (Jicofo `min-participants`). */
  minParticipants: z.number().int().min(1).max(1000).default(2),
  /**
   * When a single participant with a media session is left in a room, end its session (`session-terminate`, reason
   * `expired`) and expire its bridge conference after this many ms; the next joiner starts new sessions (Jicofo
   * `single-participant-timeout`, 20 s). 0 disables.
   */
  singleParticipantTimeoutMs: z.number().int().min(0).max(86_400_000).default(20_000),
  /**
   * When a participant leaves, send `source-remove` for its sources to everyone else. Clients drop a leaver's
   * sources on its unavailable presence anyway (lib-jitsi-meet does), and Jicofo sends nothing to save signalling in
   * large rooms; the explicit message makes every client's view of the sources exact. Off: only SSRC-rewriting
   * receivers are told, as Jicofo does.
   */
  sourceRemoveOnLeave: z.boolean().default(true),
});

export type FocusConfig = z.output<typeof focusConfigSchema>;
export type FocusConfigInput = z.input<typeof focusConfigSchema>;
