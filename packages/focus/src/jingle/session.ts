/**
 * One JVB Jingle session between the focus and a participant: `pending` (session-initiate sent, no accept yet) →
 * `active` (session-accept processed) → `ended`. Holds the source signalling queued for the participant while it
 * is pending (PROTOCOL §4.7: sources added meanwhile are sent right after its session-accept), and checks that
 * an incoming Jingle IQ belongs to this session.
 *
 * References: PROTOCOL.md §4.1 (sid, unknown-session), §4.6, §4.7, §4.9; Jicofo `JingleSession.kt`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { StanzaError, xml } from '@jitsi-one/xmpp';
import type { EndpointSourceSet } from '../sources.js';
import { NS_JINGLE_ERRORS } from './ns.js';
import type { Jingle } from './types.js';

export type JingleSessionState = 'pending' | 'active' | 'ended';

/** A source change queued for a pending receiver. */
export interface QueuedSourceUpdate {
  action: 'source-add' | 'source-remove';
  owner: string;
  sources: EndpointSourceSet;
}

const SID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** A random alphanumeric sid (Jicofo style). */
export function randomSid(length = 12): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += SID_ALPHABET[b % SID_ALPHABET.length];
  return out;
}

/** `item-not-found` + `<unknown-session xmlns="urn:xmpp:jingle:errors:1"/>` (XEP-0166 §7.2). */
export function unknownSession(text: string): StanzaError {
  return new StanzaError('item-not-found', { text, app: xml('unknown-session', { xmlns: NS_JINGLE_ERRORS }) });
}

export class JingleSession {
  /** Jingle sid chosen by the focus. */
  readonly sid: string;
  /** `<bridge-session id>` of the offer; a restart request must name it. */
  readonly bridgeSessionId: string;
  #state: JingleSessionState = 'pending';
  /** Updates for this receiver that arrived while it was pending, in order. */
  readonly #queue: QueuedSourceUpdate[] = [];

  constructor(options: { sid?: string; bridgeSessionId?: string } = {}) {
    this.sid = options.sid ?? randomSid();
    this.bridgeSessionId = options.bridgeSessionId ?? randomUUID();
  }

  get state(): JingleSessionState {
    return this.#state;
  }

  get active(): boolean {
    return this.#state === 'active';
  }

  get ended(): boolean {
    return this.#state === 'ended';
  }

  /**
   * Check that an incoming Jingle belongs to this live session.
   * @throws StanzaError item-not-found/unknown-session for another sid or an ended session.
   */
  check(j: Jingle): void {
    if (this.#state === 'ended' || j.sid !== this.sid) throw unknownSession(`no session ${j.sid}`);
  }

  /** session-accept processed. @throws StanzaError unexpected-request if not pending. */
  accept(): QueuedSourceUpdate[] {
    if (this.#state !== 'pending') {
      throw new StanzaError('unexpected-request', {
        text: `session-accept in state ${this.#state}`,
        app: xml('out-of-order', { xmlns: NS_JINGLE_ERRORS }),
      });
    }
    this.#state = 'active';
    return this.#queue.splice(0);
  }

  /** Queue a source change for a pending receiver. */
  enqueue(update: QueuedSourceUpdate): void {
    if (this.#state === 'pending') this.#queue.push(update);
  }

  /** Drop queued updates about an owner (it left: the receiver never needs to hear of it). */
  forgetOwner(owner: string): void {
    for (let i = this.#queue.length - 1; i >= 0; i--) if (this.#queue[i]?.owner === owner) this.#queue.splice(i, 1);
  }

  /** How many updates are queued (introspection). */
  get queued(): number {
    return this.#queue.length;
  }

  end(): void {
    this.#state = 'ended';
    this.#queue.length = 0;
  }
}
