/**
 * A Host is one XMPP domain served by this process: a user domain (meet.jitsi), a service domain (conference.…,
 * focus.…) or an external component. Each has its own hook bus; modules register handlers on it with Prosody's
 * event names (`iq-get/host/urn:xmpp:ping:ping`, `presence/full`, `message/bare`, …).
 */
import { HookBus } from './hooks.js';
import type { Jid } from './stanza/jid.js';
import { NS_DISCO_INFO } from './stanza/ns.js';
import type { Element } from './stanza/xml.js';
import type { Origin } from './session.js';

/** What every stanza hook receives. */
export interface StanzaEvent {
  /** The session the stanza came from (undefined for stanzas the server itself originates). */
  origin: Origin | undefined;
  stanza: Element;
  /** Stamped, validated sender. */
  from: Jid;
  /** Parsed recipient (the sender's bare JID when the stanza had no `to`). */
  to: Jid;
  host: Host;
}

/** An IQ handler's answer: an element (result payload), true (empty result), or a thrown StanzaError. */
export type IqHandler = (event: StanzaEvent) => Element | true | Promise<Element | true>;

export interface Identity {
  category: string;
  type: string;
  name?: string;
}

export type HostKind = 'user' | 'service' | 'component';

export class Host {
  readonly domain: string;
  readonly kind: HostKind;
  readonly bus = new HookBus<StanzaEvent>();
  /** disco#info features of the host itself. */
  readonly features = new Set<string>([NS_DISCO_INFO]);
  readonly identities: Identity[] = [];
  /** Offer SASL ANONYMOUS (user hosts only). */
  anonymous = false;
  /** Set when an external XEP-0114 component serves this domain: stanzas go to it unprocessed. */
  external: ((stanza: Element) => void) | undefined;

  constructor(domain: string, kind: HostKind) {
    this.domain = domain;
    this.kind = kind;
  }

  /** Register an IQ handler (xmpp.js iq-callee contract) for `type` requests with a child `name` in `ns`. */
  iq(type: 'get' | 'set', target: 'host' | 'bare' | 'full', ns: string, name: string, handler: IqHandler, priority = 0): () => void {
    return this.bus.on(`iq-${type}/${target}/${ns}:${name}`, handler, priority);
  }
}
