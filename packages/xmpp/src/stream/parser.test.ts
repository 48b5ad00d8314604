import { describe, expect, it } from 'vitest';
import { Element, xml } from '../stanza/xml.js';
import { type ParserLimits, XmlStreamParser } from './parser.js';

type Ev = ['open', string, Record<string, string>] | ['el', string] | ['close'] | ['error', string];

/** Feed `chunks` to a fresh parser and record every event (elements serialized). */
function run(mode: 'stream' | 'framed', chunks: string[], limits: Partial<ParserLimits> = {}): Ev[] {
  const events: Ev[] = [];
  const p = new XmlStreamParser(
    mode,
    {
      streamOpen: (name, attrs) => void events.push(['open', name, attrs]),
      element: (el) => {
        expect(el.parent).toBeNull();
        events.push(['el', el.toString()]);
      },
      streamClose: () => void events.push(['close']),
      error: (err) => void events.push(['error', err.condition]),
    },
    limits,
  );
  for (const c of chunks) p.write(c);
  return events;
}

/** Parse `doc` in one chunk and return the parsed elements (framed mode); throws on a parse error. */
function parseAll(doc: string, limits: Partial<ParserLimits> = {}): Element[] {
  const out: Element[] = [];
  const p = new XmlStreamParser(
    'framed',
    {
      element: (el) => void out.push(el),
      error: (err) => {
        throw err;
      },
    },
    limits,
  );
  p.write(doc);
  return out;
}

function parseOne(doc: string): Element {
  const els = parseAll(doc);
  expect(els).toHaveLength(1);
  return els[0] as Element;
}

/** The condition of the first error, or undefined. */
function errorOf(mode: 'stream' | 'framed', chunks: string | string[], limits: Partial<ParserLimits> = {}): string | undefined {
  const ev = run(mode, typeof chunks === 'string' ? [chunks] : chunks, limits).find((e) => e[0] === 'error');
  return ev ? (ev[1] as string) : undefined;
}

/** Deterministic PRNG (mulberry32) so failures reproduce. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Split by UTF-16 code units (so astral characters are split between their surrogates). */
function oneByOne(s: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < s.length; i++) out.push(s.charAt(i));
  return out;
}

function randomChunks(s: string, rand: () => number, max = 17): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    const n = 1 + Math.floor(rand() * max);
    out.push(s.slice(i, i + n));
    i += n;
  }
  return out;
}

type Plain = { name: string; attrs: Record<string, string>; children: (Plain | string)[] };
function plain(el: Element): Plain {
  return {
    name: el.name,
    attrs: { ...(el.attrs as Record<string, string>) },
    children: el.children.map((c) => (typeof c === 'string' ? c : plain(c as Element))),
  };
}

const STREAM_HEADER =
  `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to="meet.jitsi" version='1.0'>`;

/** A document exercising everything the parser must handle, for the chunking tests. */
const RICH_STREAM =
  STREAM_HEADER +
  '\n  ' +
  `<message to='room@conference.meet.jitsi' type="groupchat" id='a&amp;b&#x41;&#65;'><body>x &lt; y &amp;&amp; y &gt; z &quot;q&quot; &apos;a&apos; &#x1F600;&#128512;</body>` +
  `<data xmlns="urn:example"><![CDATA[<raw> & ]] ]> stuff]]>tail</data>` +
  `<u attr="h\u00e9llo \u{1F600} w\u00f6rld \u{10FFFF}">\u00fcnic\u00f6de \u{1F389}\u{1F4A9} \u4e2d\u6587</u>` +
  `<quote a='say "hi"' b="it's" c="x>y" d='' /></message>` +
  ' \n\t ' +
  `<presence/>` +
  '\r\n' +
  `<iq type="get" id="p1"><ping xmlns="urn:xmpp:ping"/></iq>` +
  ' ' +
  `</stream:stream>`;

const RICH_FRAMED =
  `<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="meet.jitsi" version="1.0"/>` +
  ' \n' +
  `<message to='r@c' id="m&amp;1"><body>&#x41;&#65;&lt;&gt;&amp;<![CDATA[a<b]]>\u{1F600}</body><x y="\u{1F600}"/></message>` +
  '  ' +
  `<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>R\u00e9s \u{1D49C}</resource></bind></iq>` +
  `<close xmlns="urn:ietf:params:xml:ns:xmpp-framing"/>`;

describe('XmlStreamParser: stream mode', () => {
  it('emits the root open, each direct child, and the close', () => {
    const ev = run('stream', [RICH_STREAM]);
    expect(ev[0]).toEqual([
      'open',
      'stream:stream',
      { xmlns: 'jabber:client', 'xmlns:stream': 'http://etherx.jabber.org/streams', to: 'meet.jitsi', version: '1.0' },
    ]);
    expect(ev.map((e) => e[0])).toEqual(['open', 'el', 'el', 'el', 'close']);
    expect(ev[2]).toEqual(['el', '<presence/>']);
    expect(ev[3]).toEqual(['el', '<iq type="get" id="p1"><ping xmlns="urn:xmpp:ping"/></iq>']);
  });

  it('children of a stanza are not emitted separately and have their parent set', () => {
    const els: Element[] = [];
    const p = new XmlStreamParser('stream', { element: (el) => void els.push(el), error: (e) => { throw e; } });
    p.write(`<stream:stream><a><b><c/></b>text</a></stream:stream>`);
    expect(els).toHaveLength(1);
    const a = els[0] as Element;
    const b = a.getChild('b') as Element;
    expect(b.parent).toBe(a);
    expect((b.getChild('c') as Element).parent).toBe(b);
    expect(a.getText()).toBe('text');
  });

  it('a self-closing root opens and closes the stream', () => {
    expect(run('stream', ['<stream:stream to="x"/>'])).toEqual([['open', 'stream:stream', { to: 'x' }], ['close']]);
  });

  it('an element after the stream closed is not-well-formed', () => {
    expect(errorOf('stream', '<stream:stream></stream:stream><a/>')).toBe('not-well-formed');
  });

  it('the root end tag inside a stanza is not-well-formed', () => {
    expect(errorOf('stream', '<stream:stream><a></stream:stream>')).toBe('not-well-formed');
  });

  it('whitespace keepalives between stanzas and around the root are ignored', () => {
    const ev = run('stream', ['\n ', '<stream:stream>', ' ', '\n', '<a/>', '\t \r\n', ' ', '<b/>', ' ', '</stream:stream>', ' \n']);
    expect(ev).toEqual([['open', 'stream:stream', {}], ['el', '<a/>'], ['el', '<b/>'], ['close']]);
  });

  it('text directly in the stream root is not-well-formed', () => {
    expect(errorOf('stream', '<stream:stream> hello <a/>')).toBe('not-well-formed');
  });

  it('the root element does not count toward maxDepth', () => {
    const depth4 = '<a><b><c><d/></c></b></a>';
    expect(run('stream', [`<stream:stream>${depth4}`], { maxDepth: 4 })).toEqual([['open', 'stream:stream', {}], ['el', depth4]]);
    expect(errorOf('stream', `<stream:stream><a><b><c><d><e/></d></c></b></a>`, { maxDepth: 4 })).toBe('policy-violation');
  });

  it('stanza size is per stanza: many small stanzas exceed the limit in total without error', () => {
    const stanza = `<message to="x"><body>${'y'.repeat(50)}</body></message>`;
    const ev = run('stream', ['<stream:stream>', ...Array.from({ length: 100 }, () => stanza)], { maxStanzaSize: stanza.length });
    expect(ev.filter((e) => e[0] === 'el')).toHaveLength(100);
    expect(ev.some((e) => e[0] === 'error')).toBe(false);
  });

  it('the root start tag may be large (it is not a stanza) but is bounded', () => {
    const big = `<stream:stream a="${'x'.repeat(2000)}">`;
    expect(errorOf('stream', big, { maxStanzaSize: 4096 })).toBeUndefined();
    expect(errorOf('stream', big, { maxStanzaSize: 1024 })).toBe('policy-violation');
  });
});

describe('XmlStreamParser: framed mode', () => {
  it('emits every top-level element as it completes', () => {
    const ev = run('framed', [RICH_FRAMED]);
    expect(ev.map((e) => e[0])).toEqual(['el', 'el', 'el', 'el']);
    expect(ev[0]).toEqual(['el', '<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="meet.jitsi" version="1.0"/>']);
    expect(ev[3]).toEqual(['el', '<close xmlns="urn:ietf:params:xml:ns:xmpp-framing"/>']);
  });

  it('emits an element only when its end tag arrives', () => {
    const ev: string[] = [];
    const p = new XmlStreamParser('framed', { element: (el) => void ev.push(el.name), error: (e) => { throw e; } });
    p.write('<a><b/>');
    expect(ev).toEqual([]);
    p.write('</a');
    expect(ev).toEqual([]);
    p.write('>');
    expect(ev).toEqual(['a']);
  });

  it('does not treat </stream:stream> specially', () => {
    expect(errorOf('framed', '<a/></stream:stream>')).toBe('not-well-formed');
  });

  it('accepts whitespace between frames', () => {
    expect(run('framed', ['<a/>', '\n', ' <b/> ', '\r\n\t'])).toEqual([['el', '<a/>'], ['el', '<b/>']]);
  });
});

describe('XmlStreamParser: chunk boundaries', () => {
  for (const [mode, doc] of [['stream', RICH_STREAM], ['framed', RICH_FRAMED]] as const) {
    it(`${mode}: one character (UTF-16 unit) at a time gives the same events as one chunk`, () => {
      const whole = run(mode, [doc]);
      expect(whole.some((e) => e[0] === 'error')).toBe(false);
      expect(run(mode, oneByOne(doc))).toEqual(whole);
    });

    it(`${mode}: random chunk sizes give the same events as one chunk`, () => {
      const whole = run(mode, [doc]);
      for (let seed = 1; seed <= 200; seed++) {
        const chunks = randomChunks(doc, rng(seed), 1 + (seed % 40));
        expect(run(mode, chunks), `seed ${seed}`).toEqual(whole);
      }
    });

    it(`${mode}: every two-chunk split gives the same events as one chunk`, () => {
      const whole = run(mode, [doc]);
      for (let i = 1; i < doc.length; i++) {
        expect(run(mode, [doc.slice(0, i), doc.slice(i)]), `split at ${i}`).toEqual(whole);
      }
    });
  }

  it('an astral character split between its surrogates in text and in an attribute survives', () => {
    const doc = '<m a="\u{1F600}">\u{1F600}\u{1D49C}</m>';
    const whole = run('framed', [doc]);
    expect(whole).toEqual([['el', doc]]);
    const i = doc.indexOf('\u{1F600}') + 1; // between the surrogates (attribute)
    expect(run('framed', [doc.slice(0, i), doc.slice(i)])).toEqual(whole);
    const j = doc.lastIndexOf('\u{1D49C}') + 1; // between the surrogates (text)
    expect(run('framed', [doc.slice(0, j), doc.slice(j)])).toEqual(whole);
    const parsed = parseOne(doc);
    expect(parsed.attrs.a).toBe('\u{1F600}');
    expect(parsed.getText()).toBe('\u{1F600}\u{1D49C}');
  });

  it('an entity reference split anywhere is resolved', () => {
    for (const ref of ['&amp;', '&lt;', '&#x41;', '&#65;', '&#x1F600;']) {
      for (const doc of [`<a>x${ref}y</a>`, `<a v="x${ref}y"/>`]) {
        const whole = run('framed', [doc]);
        expect(whole).toHaveLength(1);
        expect(whole[0]?.[0]).toBe('el');
        for (let i = 1; i < doc.length; i++) {
          expect(run('framed', [doc.slice(0, i), doc.slice(i)]), `${doc} split at ${i}`).toEqual(whole);
        }
      }
    }
  });

  it('text split into many chunks is one text node', () => {
    const els: Element[] = [];
    const p = new XmlStreamParser('framed', { element: (el) => void els.push(el), error: (e) => { throw e; } });
    p.write('<a>');
    for (const c of 'hello world') p.write(c);
    p.write('<![CDATA[ & more]]>');
    p.write('</a>');
    expect(els[0]?.children).toEqual(['hello world & more']);
  });
});

describe('XmlStreamParser: attributes, entities, CDATA, unicode', () => {
  it('accepts both quote styles, the other quote inside a value, and > inside a value', () => {
    const el = parseOne(`<a x='1' y="2" z='say "hi"' w="it's" v="a>b" u='' t = "spaced"/>`);
    expect(el.attrs).toEqual({ x: '1', y: '2', z: 'say "hi"', w: "it's", v: 'a>b', u: '', t: 'spaced' });
  });

  it('accepts whitespace (including newlines) between attributes and before the tag end', () => {
    const el = parseOne(`<a\n  x="1"\r\n\ty='2'   ></a   >`);
    expect(el.attrs).toEqual({ x: '1', y: '2' });
  });

  it('resolves the predefined entities and character references in text', () => {
    const el = parseOne('<a>&amp; &lt; &gt; &quot; &apos; &#x41; &#65; &#x1f600; &#128512; &#9; &#xA;</a>');
    expect(el.getText()).toBe(`& < > " ' A A \u{1F600} \u{1F600} \t \n`);
  });

  it('resolves entities and character references in attribute values', () => {
    const el = parseOne(`<a v="&amp;&lt;&gt;&quot;&apos;&#x41;&#65;&#x10FFFF;"/>`);
    expect(el.attrs.v).toBe(`&<>"'AA\u{10FFFF}`);
  });

  it('keeps CDATA content literally and merges it with adjacent text', () => {
    const el = parseOne('<a>x<![CDATA[<b>&amp; ]] ] ]>]]>y<![CDATA[]]></a>');
    expect(el.children).toEqual(['x<b>&amp; ]] ] ]>y']);
  });

  it('accepts unicode (BMP and astral) in names, attributes and text', () => {
    const el = parseOne('<\u00fcber \u00e9t\u00e9="\u{1F600}\u4e2d"><\u{10400}x>\u{1F4A9}</\u{10400}x></\u00fcber>');
    expect(el.name).toBe('\u00fcber');
    expect(el.attrs['\u00e9t\u00e9']).toBe('\u{1F600}\u4e2d');
    expect(el.getChild('\u{10400}x')?.getText()).toBe('\u{1F4A9}');
  });

  it('keeps namespace prefixes in names (no namespace processing)', () => {
    const el = parseOne(`<stream:features xmlns:stream="http://etherx.jabber.org/streams"><x:y xmlns:x="urn:x"/></stream:features>`);
    expect(el.name).toBe('stream:features');
    const inner = el.children[0] as Element;
    expect(inner.name).toBe('x:y');
    expect(inner.attrs['xmlns:x']).toBe('urn:x');
  });

  it('accepts attribute names that collide with Object.prototype members as ordinary attributes', () => {
    const el = parseOne('<a constructor="1" toString="2" hasOwnProperty="3"/>');
    expect(el.attrs.constructor).toBe('1');
    expect(el.attrs.hasOwnProperty).toBe('3');
    expect(errorOf('framed', '<a hasOwnProperty="1" hasOwnProperty="2"/>')).toBe('not-well-formed');
  });
});

describe('XmlStreamParser: the XML declaration', () => {
  it('is accepted at the start (stream and framed)', () => {
    expect(run('stream', [`<?xml version='1.0' encoding='UTF-8'?><stream:stream>`])).toEqual([['open', 'stream:stream', {}]]);
    expect(run('framed', [`<?xml version="1.0"?>\n<a/>`])).toEqual([['el', '<a/>']]);
  });

  it('is accepted split across chunks', () => {
    expect(run('stream', oneByOne(`<?xml version='1.0'?><stream:stream>`))).toEqual([['open', 'stream:stream', {}]]);
  });

  it('after an element is restricted-xml', () => {
    expect(errorOf('framed', `<a/><?xml version="1.0"?>`)).toBe('restricted-xml');
    expect(errorOf('stream', `<stream:stream><?xml version="1.0"?>`)).toBe('restricted-xml');
    expect(errorOf('framed', `<a><?xml version="1.0"?></a>`)).toBe('restricted-xml');
  });

  it('twice is restricted-xml', () => {
    expect(errorOf('framed', `<?xml version="1.0"?><?xml version="1.0"?><a/>`)).toBe('restricted-xml');
  });
});

describe('XmlStreamParser: restricted-xml', () => {
  const cases: [string, string][] = [
    ['a comment at top level', '<!-- hi --><a/>'],
    ['a comment in a stanza', '<a><!-- hi --></a>'],
    ['a processing instruction', '<?foo bar?><a/>'],
    ['an xml-stylesheet PI', '<?xml-stylesheet href="x"?><a/>'],
    ['a PI in a stanza', '<a><?php echo 1 ?></a>'],
    ['a DOCTYPE', '<!DOCTYPE a><a/>'],
    ['an ENTITY declaration', '<!ENTITY x "y"><a/>'],
    ['an unknown entity in text', '<a>&foo;</a>'],
    ['an unknown entity in an attribute', '<a b="&nbsp;"/>'],
  ];
  for (const [what, doc] of cases) {
    it(`${what}`, () => {
      expect(errorOf('framed', doc)).toBe('restricted-xml');
      expect(errorOf('framed', oneByOne(doc))).toBe('restricted-xml');
    });
  }

  it('the billion laughs document dies at its DOCTYPE without expanding anything', () => {
    const lol =
      `<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n` +
      Array.from({ length: 9 }, (_, i) => ` <!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">\n`).join('') +
      `]>\n<lolz>&lol9;</lolz>`;
    const ev = run('framed', [lol]);
    expect(ev).toEqual([['error', 'restricted-xml']]);
    expect(run('stream', [lol])).toEqual([['error', 'restricted-xml']]);
    expect(run('framed', oneByOne(lol))).toEqual([['error', 'restricted-xml']]);
  });

  it('an unknown entity reference alone (no DTD) is restricted-xml', () => {
    expect(errorOf('stream', '<stream:stream><message><body>&lol9;</body></message>')).toBe('restricted-xml');
  });
});

describe('XmlStreamParser: not-well-formed', () => {
  const cases: [string, string][] = [
    ['mismatched end tag', '<a><b></a></b>'],
    ['end tag of another element', '<a></b>'],
    ['unexpected end tag at top level', '</a>'],
    ['an element name starting with a digit', '<1a/>'],
    ['an element name starting with a hyphen', '<-a/>'],
    ['an empty element name', '<>'],
    ['a space before the element name', '< a/>'],
    ['a space before the end-tag name', '<a></ a>'],
    ['a bad character in a name', '<a$b/>'],
    ['an unquoted attribute', '<a b=c/>'],
    ['an attribute without value', '<a b/>'],
    ['an attribute with an empty name', '<a ="x"/>'],
    ['a duplicate attribute', '<a b="1" b="2"/>'],
    ['a duplicate attribute, other quote', `<a b="1" b='1'/>`],
    ["'<' in an attribute value", '<a b="x<y"/>'],
    ['attributes not separated by whitespace', '<a b="1"c="2"/>'],
    ['text outside elements', 'hello<a/>'],
    ['text after an element', '<a/>hello'],
    ['a bare ampersand', '<a>fish & chips</a>'],
    ['an empty reference', '<a>&;</a>'],
    ['&#0;', '<a>&#0;</a>'],
    ['&#x0; in an attribute', '<a b="&#x0;"/>'],
    ['a surrogate char ref', '<a>&#xD800;</a>'],
    ['a char ref beyond Unicode', '<a>&#x110000;</a>'],
    ['a char ref to U+FFFE', '<a>&#xFFFE;</a>'],
    ['a char ref with uppercase X', '<a>&#X41;</a>'],
    ['a char ref with no digits', '<a>&#;</a>'],
    ['a hex char ref with bad digits', '<a>&#xZZ;</a>'],
    ['a raw control character in text', '<a>\u0001</a>'],
    ['a raw NUL in text', '<a>\u0000</a>'],
    ['a raw control character in an attribute', '<a b="\u001b[31m"/>'],
    ['a raw U+FFFF in text', '<a>\uffff</a>'],
    ['a raw control character in CDATA', '<a><![CDATA[\u0007]]></a>'],
    ['CDATA outside an element', '<![CDATA[x]]><a/>'],
  ];
  for (const [what, doc] of cases) {
    it(what, () => {
      expect(errorOf('framed', doc)).toBe('not-well-formed');
      expect(errorOf('framed', oneByOne(doc))).toBe('not-well-formed');
    });
  }

  it('allows TAB, LF and CR literally', () => {
    expect(parseOne('<a b="\t\n\r">\t\n\r</a>').getText()).toBe('\t\n\r');
  });
});

describe('XmlStreamParser: policy-violation limits', () => {
  it('a stanza over maxStanzaSize (whole)', () => {
    const ok = `<a>${'x'.repeat(1024 - 7)}</a>`;
    expect(ok.length).toBe(1024);
    expect(run('framed', [ok], { maxStanzaSize: 1024 })).toEqual([['el', ok]]);
    const over = `<a>${'x'.repeat(1024 - 6)}</a>`;
    expect(errorOf('framed', over, { maxStanzaSize: 1024 })).toBe('policy-violation');
    expect(errorOf('framed', oneByOne(over), { maxStanzaSize: 1024 })).toBe('policy-violation');
  });

  it('counts tags, attributes and children, not only text', () => {
    const many = `<a>${'<b c="d"/>'.repeat(200)}</a>`;
    expect(errorOf('framed', many, { maxStanzaSize: 1024 })).toBe('policy-violation');
    expect(errorOf('stream', [`<stream:stream>`, many], { maxStanzaSize: 1024 })).toBe('policy-violation');
  });

  /**
   * Feed `head` and then `filler` forever (up to a cap); return how many characters were written when the error
   * came. The error must come once the stanza passes the limit, not later: the parser must not buffer without
   * bound.
   */
  function feedUntilError(mode: 'stream' | 'framed', head: string, filler: string, limit: number): { at: number; condition: string | undefined } {
    let condition: string | undefined;
    let events = 0;
    const p = new XmlStreamParser(mode, { element: () => void events++, error: (e) => void (condition ??= e.condition) }, { maxStanzaSize: limit });
    let written = 0;
    p.write(head);
    written += head.length;
    while (condition === undefined && written < limit * 20) {
      p.write(filler);
      written += filler.length;
    }
    expect(events).toBe(0);
    return { at: written, condition };
  }

  const endless: [string, string, string][] = [
    ['a never-ending attribute value', '<message to="', 'a'.repeat(100)],
    ['a never-ending single-quoted attribute value', "<message a='1' to='", 'b'.repeat(37)],
    ['a never-ending start tag (endless attributes)', '<message', ' a="1"'],
    ['a never-ending text', '<message><body>', 'c'.repeat(100)],
    ['a never-ending text of entity references', '<message><body>', '&amp;&lt;'],
    ['a never-ending unterminated reference', '<message><body>&', 'd'.repeat(100)],
    ['a never-ending CDATA section', '<message><body><![CDATA[', 'e]'.repeat(50)],
    ['a never-ending child start tag after content', `<message><body>${'f'.repeat(900)}</body><x y="`, 'g'.repeat(100)],
    ['a never-ending end tag', '<message></', 'h'.repeat(100)],
    ['a never-ending XML declaration', '<?xml version="', 'i'.repeat(100)],
    ['never-ending nesting', '', '<a>'],
  ];
  for (const [what, head, filler] of endless) {
    it(`${what} fails once past the limit (the buffer does not grow unbounded)`, () => {
      const limit = 1024;
      const { at, condition } = feedUntilError('framed', head, filler, limit);
      expect(condition).toBe('policy-violation');
      expect(at).toBeLessThanOrEqual(limit + filler.length);
    });
  }

  it('the same in stream mode, inside the root', () => {
    const { at, condition } = feedUntilError('stream', '<stream:stream><message to="', 'a'.repeat(64), 2048);
    expect(condition).toBe('policy-violation');
    expect(at).toBeLessThanOrEqual(2048 + 64 + 30);
    const text = feedUntilError('stream', '<stream:stream><message>', 'a'.repeat(64), 2048);
    expect(text.condition).toBe('policy-violation');
    expect(text.at).toBeLessThanOrEqual(2048 + 64 + 30);
  });

  it('a never-ending token arriving one character at a time is handled in linear time', { timeout: 20_000 }, () => {
    // With re-scanning of the kept partial token on every write this would be ~10^10 steps (minutes).
    const limit = 262_144;
    for (const head of ['<message to="', '<message><body><![CDATA[', '<message><body>&', '<?xml version="']) {
      let condition: string | undefined;
      const p = new XmlStreamParser('framed', { element: () => {}, error: (e) => void (condition ??= e.condition) }, { maxStanzaSize: limit });
      p.write(head);
      let n = 0;
      while (condition === undefined && n < limit + 10) {
        p.write('x');
        n++;
      }
      expect(condition, head).toBe('policy-violation');
    }
  });

  it('many small chunks of a complete large stanza are accepted in linear time', { timeout: 20_000 }, () => {
    const doc = `<message to="${'a'.repeat(100_000)}"><body><![CDATA[${'b'.repeat(100_000)}]]></body></message>`;
    const ev = run('framed', oneByOne(doc), { maxStanzaSize: 262_144 });
    expect(ev).toHaveLength(1);
    expect(ev[0]?.[0]).toBe('el');
  });

  it('an oversized XML declaration fails the same way in one chunk as in many (found by fuzz-xml)', () => {
    const decl = `<?xml version="1.0" pad="${'a'.repeat(2000)}"?>`;
    const doc = `${decl}<stream:stream xmlns:stream="http://etherx.jabber.org/streams">`;
    expect(run('stream', [doc], { maxStanzaSize: 1024 })).toEqual([['error', 'policy-violation']]);
    expect(run('stream', oneByOne(doc), { maxStanzaSize: 1024 })).toEqual([['error', 'policy-violation']]);
    expect(run('stream', [`<?xml version="1.0"?>${doc.slice(decl.length)}`], { maxStanzaSize: 1024 })[0]?.[0]).toBe('open');
  });

  it('depth: maxDepth is allowed, maxDepth + 1 is not', () => {
    const nest = (n: number) => '<d>'.repeat(n) + '</d>'.repeat(n);
    expect(run('framed', [nest(8)], { maxDepth: 8 })).toEqual([['el', nest(8).replace('<d></d>', '<d/>')]]);
    expect(errorOf('framed', nest(9), { maxDepth: 8 })).toBe('policy-violation');
    expect(errorOf('framed', '<d>'.repeat(9), { maxDepth: 8 })).toBe('policy-violation');
    // self-closing at the limit + 1
    expect(errorOf('framed', `${'<d>'.repeat(8)}<e/>`, { maxDepth: 8 })).toBe('policy-violation');
  });

  it('the default depth limit stops a deeply nested document', () => {
    expect(errorOf('framed', '<a>'.repeat(10_000))).toBe('policy-violation');
  });

  it('attributes: maxAttributes is allowed, one more is not', () => {
    const attrs = (n: number) => Array.from({ length: n }, (_, i) => ` a${i}="${i}"`).join('');
    expect(run('framed', [`<x${attrs(8)}/>`], { maxAttributes: 8 })).toHaveLength(1);
    expect(errorOf('framed', `<x${attrs(9)}/>`, { maxAttributes: 8 })).toBe('policy-violation');
    expect(errorOf('framed', `<x><y${attrs(9)}/></x>`, { maxAttributes: 8 })).toBe('policy-violation');
    expect(errorOf('stream', `<stream:stream${attrs(9)}>`, { maxAttributes: 8 })).toBe('policy-violation');
  });
});

describe('XmlStreamParser: after an error; reset()', () => {
  it('reports one error and no further events', () => {
    const events: string[] = [];
    const p = new XmlStreamParser('framed', {
      element: (el) => void events.push(`el:${el.name}`),
      error: (e) => void events.push(`error:${e.condition}`),
    });
    p.write('<a/><b></c><d/>');
    expect(p.failed).toBe(true);
    p.write('<e/>');
    p.write('<!-- x -->');
    p.write('</z>');
    expect(events).toEqual(['el:a', 'error:not-well-formed']);
  });

  it('stream mode: no close after an error', () => {
    expect(run('stream', ['<stream:stream><a>', '&bogus;', '</a></stream:stream>'])).toEqual([
      ['open', 'stream:stream', {}],
      ['error', 'restricted-xml'],
    ]);
  });

  it('a stanza in progress is discarded by the error', () => {
    expect(run('framed', ['<a><b/>', '<!x>', '</a>'])).toEqual([['error', 'restricted-xml']]);
  });

  it('reset() allows a new stream (stream restart)', () => {
    const events: Ev[] = [];
    const p = new XmlStreamParser('stream', {
      streamOpen: (name, attrs) => void events.push(['open', name, attrs]),
      element: (el) => void events.push(['el', el.toString()]),
      streamClose: () => void events.push(['close']),
      error: (e) => void events.push(['error', e.condition]),
    });
    p.write(`<?xml version='1.0'?><stream:stream to="a"><auth/>`);
    p.reset();
    p.write(`<?xml version='1.0'?><stream:stream to="b"><iq/></stream:stream>`);
    expect(events).toEqual([
      ['open', 'stream:stream', { to: 'a' }],
      ['el', '<auth/>'],
      ['open', 'stream:stream', { to: 'b' }],
      ['el', '<iq/>'],
      ['close'],
    ]);
  });

  it('reset() after an error clears the failure and any partial input', () => {
    const events: Ev[] = [];
    const p = new XmlStreamParser('framed', {
      element: (el) => void events.push(['el', el.toString()]),
      error: (e) => void events.push(['error', e.condition]),
    });
    p.write('<a b="unterminated');
    p.reset();
    p.write('<!-- -->');
    expect(p.failed).toBe(true);
    p.reset();
    expect(p.failed).toBe(false);
    p.write('<ok/>');
    expect(events).toEqual([['error', 'restricted-xml'], ['el', '<ok/>']]);
  });

  it('reset() discards a partial stanza', () => {
    const events: Ev[] = [];
    const p = new XmlStreamParser('framed', {
      element: (el) => void events.push(['el', el.toString()]),
      error: (e) => void events.push(['error', e.condition]),
    });
    p.write('<a><b>text');
    p.reset();
    p.write('<c/>');
    expect(events).toEqual([['el', '<c/>']]);
  });
});

describe('XmlStreamParser: round trip with ltx serialization (property)', () => {
  const NAMES = ['a', 'message', 'body', 'x', 'stream:features', 'ns1:item', '\u00fcber', '\u{1D49C}name', '_u', 'a-b.c', 'A9'];
  const ATTR_NAMES = ['id', 'to', 'from', 'type', 'xmlns', 'xmlns:x', 'x:y', 'data-v', '\u00e9', 'constructor', 'b.c'];
  const ALPHABET = ['a', 'Z', '0', ' ', '&', '<', '>', '"', "'", ';', '#', ']', ']]>', '\t', '\n', '\r', '\u00e9', '\u4e2d', '\u{1F600}', '\u{10FFFF}', '\uFFFD', '&amp;', '<!--', '<?', '/', '='];

  function randomString(rand: () => number, max: number): string {
    let s = '';
    const n = Math.floor(rand() * max);
    for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(rand() * ALPHABET.length)];
    return s;
  }

  function randomTree(rand: () => number, depth: number): Element {
    const el = xml(NAMES[Math.floor(rand() * NAMES.length)] as string);
    const nAttrs = Math.floor(rand() * 5);
    for (let i = 0; i < nAttrs; i++) el.attrs[ATTR_NAMES[Math.floor(rand() * ATTR_NAMES.length)] as string] = randomString(rand, 12);
    const nChildren = depth > 0 ? Math.floor(rand() * 5) : 0;
    for (let i = 0; i < nChildren; i++) {
      const last = el.children[el.children.length - 1];
      if (rand() < 0.4) {
        const t = randomString(rand, 20);
        if (t === '') continue;
        // Adjacent text nodes are one node once parsed: build them merged.
        if (typeof last === 'string') el.children[el.children.length - 1] = last + t;
        else el.t(t);
      } else el.cnode(randomTree(rand, depth - 1));
    }
    return el;
  }

  it('random element trees serialize and parse back equal (one chunk and random chunks)', () => {
    for (let seed = 1; seed <= 400; seed++) {
      const rand = rng(seed);
      const tree = randomTree(rand, 1 + (seed % 6));
      const s = tree.toString();
      const parsed = parseAll(s, { maxStanzaSize: 10_000_000 });
      expect(parsed, `seed ${seed}: ${s}`).toHaveLength(1);
      const back = parsed[0] as Element;
      expect(plain(back), `seed ${seed}: ${s}`).toEqual(plain(tree));
      expect(back.toString()).toBe(s);
      const chunked = run('framed', randomChunks(s, rand, 1 + (seed % 30)), { maxStanzaSize: 10_000_000 });
      expect(chunked, `seed ${seed} chunked`).toEqual([['el', s]]);
    }
  });

  it('a sequence of random stanzas in one stream round-trips', () => {
    const rand = rng(4242);
    const trees = Array.from({ length: 50 }, () => randomTree(rand, 4));
    const doc = `<stream:stream xmlns="jabber:client">${trees.map((t) => t.toString()).join(' ')}</stream:stream>`;
    const ev = run('stream', randomChunks(doc, rand, 64), { maxStanzaSize: 10_000_000 });
    expect(ev).toEqual([['open', 'stream:stream', { xmlns: 'jabber:client' }], ...trees.map((t): Ev => ['el', t.toString()]), ['close']]);
  });
});
