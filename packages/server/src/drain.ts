/**
 * Graceful drain: refuse new conferences, let the running ones finish. Started by `SIGUSR2` (main.ts) or
 * `POST /admin/drain` on the loopback ops listener (ops-server.ts); `DELETE /admin/drain` resumes.
 *
 * While draining, a conference IQ for a room the focus runs no conference for is answered with
 * `service-unavailable` (type `wait`), a text, and Jicofo's application condition
 * `<graceful-shutdown xmlns="http://jitsi.org/protocol/focus"/>`, which lib-jitsi-meet turns into its
 * GRACEFUL_SHUTDOWN event instead of retrying. Requests for running conferences (a participant joining late, a
 * reconnect) are answered by the focus as usual. Everything else keeps working: XMPP sessions, MUC, the bridge.
 *
 * The gate is a conference-IQ handler on the focus host at a priority above the focus's own (Prosody style: a
 * feature hooks the event, the focus stays unaware); it declines (returns undefined) whenever the request may pass.
 * When the last conference has ended the process stays up, serving nothing new, until it is stopped: `drained`
 * in {@link DrainStatus} and one log line say when that is.
 *
 * References: PROTOCOL.md §3.1 (conference IQ); RFC 6120 §8.3.3.19 (service-unavailable), §8.3.2 (type `wait`);
 * Jicofo's `graceful-shutdown` error extension as lib-jitsi-meet's `Moderator` reads it.
 */
import type { FocusManager } from '@jitsi-one/focus';
import { NS_JITSI_FOCUS } from '@jitsi-one/focus';
import { type Element, Jid, type StanzaEvent, StanzaError, xml, type XmppServer } from '@jitsi-one/xmpp';
import type { Logger } from 'pino';

/** Above the focus's own conference-IQ handler (priority 0). */
const GATE_PRIORITY = 100;
/** While draining, how often the running conferences are counted to log the moment the last one ended. */
const DRAINED_CHECK_MS = 1000;

/** Who started the drain (logged). */
export type DrainCause = 'signal' | 'admin' | 'api';

/** Snapshot from {@link Drain.status}. Counts only, never names. */
export interface DrainStatus {
  draining: boolean;
  /** Conferences the focus still runs (0 without a focus). */
  conferences: number;
  /** Draining and no conference left: safe to stop. */
  drained: boolean;
}

export interface DrainOptions {
  xmpp: XmppServer;
  /** The focus (undefined when `focus.enabled` is false: then there is nothing to gate). */
  focus: FocusManager | undefined;
  log: Logger;
}

/** See the module comment. */
export class Drain {
  readonly #xmpp: XmppServer;
  readonly #focus: FocusManager | undefined;
  readonly #log: Logger;
  readonly #unhook: (() => void) | undefined;
  #draining = false;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor({ xmpp, focus, log }: DrainOptions) {
    this.#xmpp = xmpp;
    this.#focus = focus;
    this.#log = log.child({ component: 'drain' });
    if (focus !== undefined) {
      // The bus directly (not `Host.iq`): this handler may decline by returning undefined.
      const host = xmpp.serviceHost(xmpp.domains.focusDomain);
      this.#unhook = host.bus.on(`iq-set/host/${NS_JITSI_FOCUS}:conference`, (e: StanzaEvent) => this.#gate(e.stanza), GATE_PRIORITY);
    }
  }

  /** True while new conferences are refused. */
  get draining(): boolean {
    return this.#draining;
  }

  /** Counts for health, metrics and the admin call. */
  status(): DrainStatus {
    const conferences = this.#runningConferences();
    return { draining: this.#draining, conferences, drained: this.#draining && conferences === 0 };
  }

  /** Starts draining. Returns false when already draining (or closed). */
  start(cause: DrainCause): boolean {
    if (this.#draining || this.#closed) return false;
    this.#draining = true;
    const { conferences } = this.status();
    this.#log.info({ cause, conferences }, 'draining: new conferences are refused, running ones continue');
    this.#watch();
    return true;
  }

  /** Stops draining: new conferences are accepted again. Returns false when not draining. */
  resume(): boolean {
    if (!this.#draining) return false;
    this.#draining = false;
    this.#stopWatching();
    this.#log.info('drain cancelled: new conferences are accepted again');
    return true;
  }

  /** Removes the gate and the timer (server stop). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#draining = false;
    this.#stopWatching();
    this.#unhook?.();
  }

  /** The conference IQ gate: throws for a new conference while draining, else declines. */
  #gate(stanza: Element): undefined {
    if (!this.#draining) return undefined;
    const roomAttr = stanza.getChild('conference', NS_JITSI_FOCUS)?.attrs.room;
    const room = typeof roomAttr === 'string' ? Jid.tryParse(roomAttr) : undefined;
    // Malformed requests get the focus's own answer (bad-request).
    if (!room || !room.local || room.resource || room.domain !== this.#xmpp.domains.mucDomain) return undefined;
    const existing = this.#focus?.getConference(room.bare);
    if (existing !== undefined && !existing.ended) return undefined;
    throw new StanzaError('service-unavailable', {
      type: 'wait',
      text: 'This server is shutting down and starts no new conferences; try again later',
      app: xml('graceful-shutdown', { xmlns: NS_JITSI_FOCUS }),
    });
  }

  #runningConferences(): number {
    if (this.#focus === undefined) return 0;
    let n = 0;
    for (const c of this.#focus.conferences.values()) if (!c.ended) n++;
    return n;
  }

  /** Logs once when the last conference has ended (a cheap count once a second, only while draining). */
  #watch(): void {
    const check = (): void => {
      if (!this.#draining) return;
      if (this.#runningConferences() === 0) {
        this.#timer = undefined;
        this.#log.info('drained: no conference left; the process stays up until stopped');
        return;
      }
      this.#timer = setTimeout(check, DRAINED_CHECK_MS).unref();
    };
    check();
  }

  #stopWatching(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
