/**
 * Fan-out without per-recipient work beyond string concatenation: a stanza is serialized once without `to`, and each
 * recipient's copy is `'<' + name + ' to="…"' + rest`. Local sessions get the string (`Session.deliverSerialized`);
 * recipients that are not bound sessions here (components, XEP-0114) get a cloned element through the router.
 */
import type { XmppServer } from '../server.js';
import type { Jid } from '../stanza/jid.js';
import { NS_CLIENT } from '../stanza/ns.js';
import { type Element, cloneElement, escapeXML, serialize } from '../stanza/xml.js';

/** ` to="<escaped jid>"`, precomputed once per occupant. */
export function toAttr(jid: string): string {
  return ` to="${escapeXML(jid)}"`;
}

/** A stanza prepared for delivery to many recipients. The element must not be changed afterwards. */
export class Outgoing {
  readonly el: Element;
  readonly #head: string;
  readonly #tail: string;

  constructor(el: Element) {
    delete el.attrs.to;
    if (el.attrs.xmlns === undefined) el.attrs.xmlns = NS_CLIENT;
    this.el = el;
    const s = serialize(el);
    this.#head = `<${el.name}`;
    this.#tail = s.slice(this.#head.length);
  }

  /** The serialized stanza addressed with `to` (an attribute string from `toAttr`). */
  with(to: string): string {
    return this.#head + to + this.#tail;
  }
}

/**
 * Deliver `out` to `realJid`: straight to its session's transport if it is bound here, else routed (cloned).
 * `from` is the sender used for routing the fallback.
 */
export function deliver(server: XmppServer, out: Outgoing, realJid: string, to: string, from: Jid): void {
  const session = server.sessions.get(realJid);
  if (session) {
    server.counters.stanzasOut++;
    session.deliverSerialized(out.with(to));
    return;
  }
  const copy = cloneElement(out.el);
  copy.attrs.to = realJid;
  server.route(undefined, copy, from);
}
