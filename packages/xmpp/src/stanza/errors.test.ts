import { describe, expect, it } from 'vitest';
import { XmlStreamParser } from '../stream/parser.js';
import { StanzaError, StreamError, errorReply } from './errors.js';
import { NS_CLIENT, NS_STANZAS, NS_STREAMS, NS_STREAM_ERRORS } from './ns.js';
import { type Element, elements, xml } from './xml.js';

/** Parse a serialized element with our own parser (what a peer would see). */
function reparse(el: Element): Element {
  let out: Element | undefined;
  const p = new XmlStreamParser('framed', {
    element: (e) => void (out = e),
    error: (e) => {
      throw e;
    },
  });
  p.write(el.toString());
  if (!out) throw new Error('nothing parsed');
  return out;
}

/** RFC 6120 §8.3.3 conditions with their usual types (as Prosody's util/stanza uses them). */
const DEFAULTS: [string, string][] = [
  ['bad-request', 'modify'],
  ['conflict', 'cancel'],
  ['feature-not-implemented', 'cancel'],
  ['forbidden', 'auth'],
  ['gone', 'cancel'],
  ['internal-server-error', 'cancel'],
  ['item-not-found', 'cancel'],
  ['jid-malformed', 'modify'],
  ['not-acceptable', 'modify'],
  ['not-allowed', 'cancel'],
  ['not-authorized', 'auth'],
  ['policy-violation', 'modify'],
  ['recipient-unavailable', 'wait'],
  ['redirect', 'modify'],
  ['registration-required', 'auth'],
  ['remote-server-not-found', 'cancel'],
  ['remote-server-timeout', 'wait'],
  ['resource-constraint', 'wait'],
  ['service-unavailable', 'cancel'],
  ['subscription-required', 'auth'],
  ['undefined-condition', 'cancel'],
  ['unexpected-request', 'wait'],
];

describe('StanzaError', () => {
  for (const [condition, type] of DEFAULTS) {
    it(`${condition} defaults to type ${type}`, () => {
      const e = new StanzaError(condition);
      expect(e.type).toBe(type);
      expect(e.condition).toBe(condition);
      expect(e.toElement().attrs.type).toBe(type);
    });
  }

  it('an unknown condition defaults to cancel', () => {
    expect(new StanzaError('something-else').type).toBe('cancel');
  });

  it('an explicit type wins over the default', () => {
    expect(new StanzaError('not-allowed', { type: 'wait' }).type).toBe('wait');
  });

  it('is an Error whose message carries the condition and text', () => {
    const e = new StanzaError('forbidden', { text: 'go away' });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('StanzaError');
    expect(e.message).toBe('forbidden: go away');
    expect(new StanzaError('forbidden').message).toBe('forbidden');
  });

  it('toElement: <error type><condition xmlns=stanzas/><text xmlns=stanzas/>app</error>', () => {
    const app = xml('room-does-not-exist', { xmlns: 'http://jitsi.org/jitmeet' });
    const el = new StanzaError('item-not-found', { text: 'no room', app }).toElement();
    expect(el.name).toBe('error');
    expect(el.attrs).toEqual({ type: 'cancel' });
    const kids = elements(el);
    expect(kids.map((k) => [k.name, k.attrs.xmlns])).toEqual([
      ['item-not-found', NS_STANZAS],
      ['text', NS_STANZAS],
      ['room-does-not-exist', 'http://jitsi.org/jitmeet'],
    ]);
    expect(kids[1]?.getText()).toBe('no room');
  });

  it('toElement without text or app has only the condition', () => {
    expect(new StanzaError('conflict').toElement().toString()).toBe(`<error type="cancel"><conflict xmlns="${NS_STANZAS}"/></error>`);
  });

  it('fromElement returns undefined when there is no <error/>', () => {
    expect(StanzaError.fromElement(xml('iq', { type: 'result' }))).toBeUndefined();
  });

  it('round-trips condition, type, text and the application condition through toElement/fromElement', () => {
    const cases = [
      new StanzaError('service-unavailable'),
      new StanzaError('not-allowed', { type: 'wait', text: 'later' }),
      new StanzaError('forbidden', { text: 'x & <y> "z"' }),
      new StanzaError('item-not-found', { app: xml('room-does-not-exist', { xmlns: 'http://jitsi.org/jitmeet' }) }),
      new StanzaError('undefined-condition', { text: '\u{1F600}', app: xml('x', { xmlns: 'urn:app' }) }),
    ];
    for (const orig of cases) {
      const stanza = xml('iq', { type: 'error', id: '1' }, orig.toElement());
      for (const s of [stanza, reparse(stanza)]) {
        const back = StanzaError.fromElement(s) as StanzaError;
        expect(back).toBeInstanceOf(StanzaError);
        expect(back.condition).toBe(orig.condition);
        expect(back.type).toBe(orig.type);
        expect(back.text).toBe(orig.text);
        expect(back.appElement?.toString()).toBe(orig.appElement?.toString());
        expect(back.toElement().toString()).toBe(orig.toElement().toString());
      }
    }
  });

  it('fromElement: missing condition is undefined-condition; missing or bogus type falls back to the default', () => {
    const noCond = StanzaError.fromElement(xml('message', { type: 'error' }, xml('error', { type: 'modify' })));
    expect(noCond?.condition).toBe('undefined-condition');
    expect(noCond?.type).toBe('modify');
    const noType = StanzaError.fromElement(xml('iq', {}, xml('error', {}, xml('forbidden', { xmlns: NS_STANZAS }))));
    expect(noType?.type).toBe('auth');
    const bogus = StanzaError.fromElement(xml('iq', {}, xml('error', { type: 'bogus' }, xml('forbidden', { xmlns: NS_STANZAS }))));
    expect(bogus?.type).toBe('auth');
  });

  it('fromElement ignores elements in other namespaces when looking for the condition', () => {
    const e = StanzaError.fromElement(
      xml('iq', {}, xml('error', { type: 'cancel' }, xml('bad-request', { xmlns: 'urn:not-stanzas' }), xml('conflict', { xmlns: NS_STANZAS }))),
    );
    expect(e?.condition).toBe('conflict');
  });
});

describe('errorReply', () => {
  const err = new StanzaError('service-unavailable');

  it('swaps to/from, keeps id and name, sets type="error"', () => {
    const iq = xml('iq', { xmlns: NS_CLIENT, type: 'get', id: 'q1', from: 'a@b/c', to: 'd@e/f' }, xml('query', { xmlns: 'urn:x' }));
    const r = errorReply(iq, err);
    expect(r.name).toBe('iq');
    expect(r.attrs).toEqual({ xmlns: NS_CLIENT, type: 'error', id: 'q1', to: 'a@b/c', from: 'd@e/f' });
    expect(r.getChild('error')?.getChild('service-unavailable')?.attrs.xmlns).toBe(NS_STANZAS);
  });

  it('omits absent attributes instead of writing "undefined"', () => {
    const r = errorReply(xml('message', { from: 'a@b/c' }, xml('body', {}, 'x')), err);
    expect(r.attrs).toEqual({ type: 'error', to: 'a@b/c' });
    expect(r.toString()).not.toContain('undefined');
  });

  it('IQ: keeps only the payload element name and namespace', () => {
    const iq = xml('iq', { type: 'set', id: '1' }, xml('query', { xmlns: 'urn:x', big: 'attr' }, xml('item', {}, 'lots of data')));
    const r = errorReply(iq, err);
    const kids = elements(r);
    expect(kids.map((k) => k.name)).toEqual(['query', 'error']);
    expect(kids[0]?.toString()).toBe('<query xmlns="urn:x"/>');
  });

  it('IQ result: no payload copied', () => {
    const r = errorReply(xml('iq', { type: 'result', id: '1' }, xml('query', { xmlns: 'urn:x' })), err);
    expect(elements(r).map((k) => k.name)).toEqual(['error']);
  });

  it('message and presence: the original children are kept (except errors)', () => {
    const msg = xml('message', { type: 'chat', id: 'm', from: 'a@b/c', to: 'x@y' }, xml('body', {}, 'hello'), xml('thread', {}, 't1'));
    const r = errorReply(msg, err);
    expect(elements(r).map((k) => k.name)).toEqual(['body', 'thread', 'error']);
    expect(r.getChildText('body')).toBe('hello');
    const pres = xml('presence', { from: 'a@b/c', to: 'room@conf/nick' }, xml('x', { xmlns: 'http://jabber.org/protocol/muc' }));
    expect(elements(errorReply(pres, err)).map((k) => k.name)).toEqual(['x', 'error']);
  });

  it('never includes an error inside the error reply other than its own', () => {
    const old = new StanzaError('forbidden').toElement();
    const msg = xml('message', { from: 'a@b/c', id: 'm' }, xml('body', {}, 'x'), old);
    const r = errorReply(msg, err);
    const errs = r.getChildren('error');
    expect(errs).toHaveLength(1);
    expect(errs[0]?.getChild('service-unavailable')).toBeDefined();
    expect(errs[0]?.getChild('forbidden')).toBeUndefined();
    // an IQ whose payload element happens to be called "error"
    const iq = xml('iq', { type: 'set', id: 'i', from: 'a@b/c' }, xml('error', { xmlns: 'urn:x' }));
    const ri = errorReply(iq, err);
    expect(ri.getChildren('error')).toHaveLength(1);
    expect(StanzaError.fromElement(ri)?.condition).toBe('service-unavailable');
    // and the error element itself never contains another <error/>
    const nested = (el: Element): number => elements(el).reduce((n, c) => n + (c.name === 'error' ? 1 : 0) + nested(c), 0);
    expect(nested(errs[0] as Element)).toBe(0);
  });

  it('is readable back with StanzaError.fromElement after serialization', () => {
    const r = errorReply(xml('iq', { type: 'get', id: '1', from: 'a@b/c', to: 'b' }, xml('ping', { xmlns: 'urn:xmpp:ping' })), new StanzaError('forbidden', { text: 'no' }));
    const back = StanzaError.fromElement(reparse(r));
    expect(back?.condition).toBe('forbidden');
    expect(back?.type).toBe('auth');
    expect(back?.text).toBe('no');
  });
});

describe('StreamError', () => {
  it('is an Error with condition and text', () => {
    const e = new StreamError('policy-violation', 'too big');
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('StreamError');
    expect(e.condition).toBe('policy-violation');
    expect(e.text).toBe('too big');
    expect(e.message).toBe('policy-violation: too big');
  });

  it('toElement declares the stream prefix on <stream:error> itself', () => {
    const el = new StreamError('not-well-formed').toElement();
    expect(el.name).toBe('stream:error');
    expect(el.attrs['xmlns:stream']).toBe(NS_STREAMS);
    expect(el.toString()).toBe(
      `<stream:error xmlns:stream="${NS_STREAMS}"><not-well-formed xmlns="${NS_STREAM_ERRORS}"/></stream:error>`,
    );
    // Resolvable without any enclosing <stream:stream>: ltx resolves the prefix from the element itself.
    expect(el.getNS()).toBe(NS_STREAMS);
  });

  it('includes the text in the stream-errors namespace, escaped', () => {
    const el = new StreamError('policy-violation', 'a < b & c').toElement();
    const back = reparse(el);
    expect(back.getChild('policy-violation')?.attrs.xmlns).toBe(NS_STREAM_ERRORS);
    const t = back.getChild('text');
    expect(t?.attrs.xmlns).toBe(NS_STREAM_ERRORS);
    expect(t?.getText()).toBe('a < b & c');
  });
});
