/**
 * The error a malformed or unsupported Jingle payload produces. Thrown by the parser before anything changes; the
 * session layer turns it into the IQ error reply with {@link JingleParseError.toStanzaError} (STYLE §3.7: errors
 * are translated at the IQ boundary, nowhere else).
 *
 * References:
 * - https://xmpp.org/extensions/xep-0166.html#def-action (unknown action → bad-request)
 * - https://xmpp.org/extensions/xep-0166.html#errors (Jingle error conditions, urn:xmpp:jingle:errors:1)
 * - https://www.rfc-editor.org/rfc/rfc6120#section-8.3.3 (stanza error conditions)
 */
import { StanzaError, xml } from '@jitsi-one/xmpp';
import { NS_JINGLE_ERRORS } from './ns.js';

/** Stanza conditions a Jingle parse failure maps to. */
export type JingleErrorCondition = 'bad-request' | 'feature-not-implemented';

/** Jingle-specific conditions (XEP-0166 §10), sent next to the stanza condition. */
export type JingleSpecificCondition =
  | 'out-of-order'
  | 'tie-break'
  | 'unknown-session'
  | 'unsupported-info'
  | 'security-required';

/** A Jingle payload could not be parsed (malformed input) or uses something the focus does not implement. */
export class JingleParseError extends Error {
  override readonly name = 'JingleParseError';
  /** Machine-readable code (STYLE §3.7). */
  readonly code = 'jingle-parse';
  /** The stanza error condition to answer with. */
  readonly condition: JingleErrorCondition;
  /** An optional Jingle-specific condition (`<unsupported-info xmlns="urn:xmpp:jingle:errors:1"/>`). */
  readonly jingleCondition: JingleSpecificCondition | undefined;

  constructor(
    condition: JingleErrorCondition,
    message: string,
    options: { jingleCondition?: JingleSpecificCondition; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.condition = condition;
    this.jingleCondition = options.jingleCondition;
  }

  /** The stanza error for the IQ reply. */
  toStanzaError(): StanzaError {
    const app = this.jingleCondition ? xml(this.jingleCondition, { xmlns: NS_JINGLE_ERRORS }) : undefined;
    return new StanzaError(this.condition, { text: this.message, ...(app ? { app } : {}) });
  }
}

/** Shorthand for the common case. */
export function badRequest(message: string, cause?: unknown): JingleParseError {
  return new JingleParseError('bad-request', message, cause === undefined ? {} : { cause });
}
