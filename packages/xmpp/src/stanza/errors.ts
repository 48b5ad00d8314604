/**
 * Stanza and stream errors with protocol semantics. Thrown anywhere below a boundary, turned into wire errors at
 * exactly one place per boundary (the router for stanzas, the session for streams).
 *
 * References:
 * - https://www.rfc-editor.org/rfc/rfc6120#section-8.3 (stanza errors)
 * - https://www.rfc-editor.org/rfc/rfc6120#section-4.9 (stream errors)
 */
import { NS_STANZAS, NS_STREAMS, NS_STREAM_ERRORS } from './ns.js';
import { type Element, xml } from './xml.js';

export type StanzaErrorType = 'auth' | 'cancel' | 'continue' | 'modify' | 'wait';

/** Default error type per condition (RFC 6120 §8.3.3). */
const DEFAULT_TYPES: Record<string, StanzaErrorType> = {
  'bad-request': 'modify',
  conflict: 'cancel',
  'feature-not-implemented': 'cancel',
  forbidden: 'auth',
  gone: 'cancel',
  'internal-server-error': 'cancel',
  'item-not-found': 'cancel',
  'jid-malformed': 'modify',
  'not-acceptable': 'modify',
  'not-allowed': 'cancel',
  'not-authorized': 'auth',
  'policy-violation': 'modify',
  'recipient-unavailable': 'wait',
  redirect: 'modify',
  'registration-required': 'auth',
  'remote-server-not-found': 'cancel',
  'remote-server-timeout': 'wait',
  'resource-constraint': 'wait',
  'service-unavailable': 'cancel',
  'subscription-required': 'auth',
  'undefined-condition': 'cancel',
  'unexpected-request': 'wait',
};

const ERROR_TYPES = new Set<string>(['auth', 'cancel', 'continue', 'modify', 'wait']);

export type StanzaErrorCondition = keyof typeof DEFAULT_TYPES | (string & {});

export class StanzaError extends Error {
  override readonly name = 'StanzaError';
  readonly condition: string;
  readonly type: StanzaErrorType;
  readonly text: string | undefined;
  /** Application-specific condition element, e.g. <room-does-not-exist xmlns="http://jitsi.org/jitmeet"/>. */
  readonly appElement: Element | undefined;

  constructor(condition: StanzaErrorCondition, opts: { type?: StanzaErrorType; text?: string; app?: Element } = {}) {
    super(opts.text ? `${condition}: ${opts.text}` : condition);
    this.condition = condition;
    this.type = opts.type ?? DEFAULT_TYPES[condition] ?? 'cancel';
    this.text = opts.text;
    this.appElement = opts.app;
  }

  /** The <error/> element for this error. */
  toElement(): Element {
    return xml(
      'error',
      { type: this.type },
      xml(this.condition, { xmlns: NS_STANZAS }),
      this.text ? xml('text', { xmlns: NS_STANZAS }, this.text) : undefined,
      this.appElement,
    );
  }

  /** Read an error from a stanza's <error/> child, if it has one. */
  static fromElement(stanza: Element): StanzaError | undefined {
    const err = stanza.getChild('error');
    if (!err) return undefined;
    let condition = 'undefined-condition';
    let text: string | undefined;
    let app: Element | undefined;
    for (const c of err.children) {
      if (typeof c === 'string') continue;
      const e = c as Element;
      if (e.attrs.xmlns !== NS_STANZAS) app ??= e;
      else if (e.name === 'text') text = e.getText();
      else condition = e.name;
    }
    const t = err.attrs.type as string | undefined;
    const type = t !== undefined && ERROR_TYPES.has(t) ? (t as StanzaErrorType) : undefined;
    return new StanzaError(condition, { ...(type ? { type } : {}), ...(text ? { text } : {}), ...(app ? { app } : {}) });
  }
}

export class StreamError extends Error {
  override readonly name = 'StreamError';
  readonly condition: string;
  readonly text: string | undefined;

  constructor(condition: string, text?: string) {
    super(text ? `${condition}: ${text}` : condition);
    this.condition = condition;
    this.text = text;
  }

  /** <stream:error> with the stream prefix declared on the element itself, so it can be framed alone. */
  toElement(): Element {
    return xml(
      'stream:error',
      { 'xmlns:stream': NS_STREAMS },
      xml(this.condition, { xmlns: NS_STREAM_ERRORS }),
      this.text ? xml('text', { xmlns: NS_STREAM_ERRORS }, this.text) : undefined,
    );
  }
}

/**
 * Build the error reply to a stanza (RFC 6120 §8.3.1): same name and id, to/from swapped, type="error",
 * the original children kept for messages and presences (not for IQs, to keep replies small).
 */
export function errorReply(stanza: Element, err: StanzaError): Element {
  const reply = xml(stanza.name, {
    xmlns: stanza.attrs.xmlns,
    type: 'error',
    id: stanza.attrs.id,
    to: stanza.attrs.from,
    from: stanza.attrs.to,
  });
  if (stanza.name !== 'iq') {
    for (const c of stanza.children) {
      if (typeof c !== 'string' && (c as Element).name !== 'error') reply.cnode(c as Element);
    }
  } else {
    const payload = stanza.children.find((c) => typeof c !== 'string') as Element | undefined;
    if (payload && payload.name !== 'error' && stanza.attrs.type !== 'result') {
      // Keep the request payload's element name/namespace only: enough for clients to match, small on the wire.
      reply.cnode(xml(payload.name, { xmlns: payload.attrs.xmlns }));
    }
  }
  reply.cnode(err.toElement());
  return reply;
}
