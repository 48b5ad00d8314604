/**
 * Configuration of the web side (the `web` section of the app config): texts shown on the built-in pages.
 * Everything is optional; defaults live in `pages.ts`. New keys (client branding, static root, ...) go here.
 */
import { z } from 'zod';

export const webP2pConfigSchema = z.strictObject({
  /**
   * Let two participants connect directly (peer to peer) instead of through the bridge (`p2p.enabled` in
   * `/config.js`). STUN for it is the embedded server or the operator's `xmpp.externalServices`.
   */
  enabled: z.boolean().default(true),
  /**
   * Seconds the two left in a meeting wait before going back to P2P after a third participant left
   * (`p2p.backToP2PDelay` in `/config.js`; lib-jitsi-meet's default is 5).
   */
  backToP2PDelay: z.number().min(0).max(3600).default(5),
});

export const webConfigSchema = z.strictObject({
  /**
   * Privacy notice shown at `/privacy`, as plain text (blank lines separate paragraphs, lines starting with `- `
   * become list items). Default: a notice listing what this server does and does not keep.
   */
  privacyNotice: z.string().min(1).optional(),
  /** Imprint / legal notice shown at `/imprint`, as plain text (same format). Default: a "not provided" note. */
  imprint: z.string().min(1).optional(),
  /** Peer-to-peer calls for two participants. */
  p2p: webP2pConfigSchema.prefault({}),
  /**
   * Let the web client keep the names of recent meetings in the browser's local storage (home page list). `false`
   * sets `doNotStoreRoom` in `/config.js`: no meeting name is stored, and a stored list is deleted on the next visit.
   */
  recentRooms: z.boolean().default(true),
  /**
   * How many other participants' videos each client asks the bridge to forward (`channelLastN` in `/config.js`, the
   * last-N of the bridge channel's ReceiverVideoConstraints): the most recent speakers win. `-1` = all.
   */
  channelLastN: z.number().int().min(-1).max(1000).default(-1),
});

export type WebConfigInput = z.input<typeof webConfigSchema>;
export type WebConfig = z.output<typeof webConfigSchema>;
