import { describe, expect, it } from 'vitest';
import { Jid, JidError } from './jid.js';

describe('Jid.parse', () => {
  it('splits local, domain and resource', () => {
    const j = Jid.parse('alice@meet.jitsi/phone');
    expect([j.local, j.domain, j.resource]).toEqual(['alice', 'meet.jitsi', 'phone']);
  });

  it('parses a domain-only JID and a domain with a resource', () => {
    const d = Jid.parse('meet.jitsi');
    expect([d.local, d.domain, d.resource]).toEqual(['', 'meet.jitsi', '']);
    const dr = Jid.parse('focus.meet.jitsi/focus');
    expect([dr.local, dr.domain, dr.resource]).toEqual(['', 'focus.meet.jitsi', 'focus']);
  });

  it('lowercases the domain and the localpart, keeps the resource as sent', () => {
    const j = Jid.parse('Alice@Meet.JITSI/Phone Of ALICE');
    expect(j.local).toBe('alice');
    expect(j.domain).toBe('meet.jitsi');
    expect(j.resource).toBe('Phone Of ALICE');
    expect(j.full).toBe('alice@meet.jitsi/Phone Of ALICE');
  });

  it('case-folds non-ASCII localparts and normalizes to NFC', () => {
    expect(Jid.parse('\u00c4rger@x').local).toBe('\u00e4rger');
    // e + combining acute → é (NFC), in the localpart and in the resource
    const j = Jid.parse('caf\u0065\u0301@x/caf\u0065\u0301');
    expect(j.local).toBe('caf\u00e9');
    expect(j.resource).toBe('caf\u00e9');
    expect(j.equals(Jid.parse('CAF\u00c9@x/caf\u00e9'))).toBe(true);
  });

  it('strips one trailing dot of the domain', () => {
    expect(Jid.parse('a@meet.jitsi.').domain).toBe('meet.jitsi');
    expect(Jid.parse('meet.jitsi./r').full).toBe('meet.jitsi/r');
  });

  it('the resource starts at the first slash and may contain @ and /', () => {
    const j = Jid.parse('room@conference.meet.jitsi/nick/with@signs/and/slashes');
    expect(j.bare).toBe('room@conference.meet.jitsi');
    expect(j.resource).toBe('nick/with@signs/and/slashes');
    const k = Jid.parse('meet.jitsi/a@b');
    expect(k.local).toBe('');
    expect(k.resource).toBe('a@b');
  });

  it('accepts unicode and astral characters in every part', () => {
    const j = Jid.parse('\u4e2d\u6587@\u00fcber.example/\u{1F600} nick');
    expect(j.local).toBe('\u4e2d\u6587');
    expect(j.domain).toBe('\u00fcber.example');
    expect(j.resource).toBe('\u{1F600} nick');
  });

  it('accepts a UUID node (anonymous logins) and an IP-literal domain', () => {
    expect(Jid.parse('0e5f7a8c-1d2b-4c3d-9e8f-123456789abc@meet.jitsi').local).toBe('0e5f7a8c-1d2b-4c3d-9e8f-123456789abc');
    expect(Jid.parse('a@[::1]/r').domain).toBe('[::1]');
  });
});

describe('Jid: bare and full', () => {
  it('bare and full strings', () => {
    const j = Jid.parse('a@b/c');
    expect(j.bare).toBe('a@b');
    expect(j.full).toBe('a@b/c');
    expect(j.toString()).toBe('a@b/c');
    expect(`${j}`).toBe('a@b/c');
    expect(j.isBare).toBe(false);
    const d = Jid.parse('b');
    expect(d.bare).toBe('b');
    expect(d.full).toBe('b');
    expect(d.isBare).toBe(true);
  });

  it('toBare drops the resource; on a bare JID returns itself', () => {
    const j = Jid.parse('a@b/c');
    const b = j.toBare();
    expect(b.full).toBe('a@b');
    expect(b.isBare).toBe(true);
    expect(j.resource).toBe('c'); // not mutated
    expect(b.toBare()).toBe(b);
  });

  it('withResource makes a new full JID', () => {
    const b = Jid.parse('a@b');
    const f = b.withResource('R');
    expect(f.full).toBe('a@b/R');
    expect(b.full).toBe('a@b');
  });

  it('equals compares the prepared full JIDs', () => {
    expect(Jid.parse('A@B/r').equals(Jid.parse('a@b/r'))).toBe(true);
    expect(Jid.parse('a@b/R').equals(Jid.parse('a@b/r'))).toBe(false);
    expect(Jid.parse('a@b').equals(Jid.parse('a@b/r'))).toBe(false);
    expect(Jid.parse('a@b').equals(undefined)).toBe(false);
  });

  it('parse(full) round-trips', () => {
    for (const s of ['a@b', 'a@b/c', 'b', 'b/c', 'room@conference.x/nick name', '\u00e9@x/\u{1F600}']) {
      expect(Jid.parse(s).full).toBe(s);
      expect(Jid.parse(Jid.parse(s).full).full).toBe(s);
    }
  });
});

describe('Jid: invalid addresses', () => {
  const bad: [string, string][] = [
    ['empty string', ''],
    ['empty localpart', '@meet.jitsi'],
    ['empty domain after @', 'alice@'],
    ['empty domain with resource', 'alice@/r'],
    ['empty resource', 'alice@meet.jitsi/'],
    ['only a resource', '/r'],
    ['only a dot as domain', 'alice@.'],
    ['a second @ (in the domain)', 'a@b@c'],
    ['space in localpart', 'al ice@x'],
    ['tab in localpart', 'al\tice@x'],
    ['double quote in localpart', 'al"ice@x'],
    ['ampersand in localpart', 'al&ice@x'],
    ["apostrophe in localpart", "al'ice@x"],
    ['colon in localpart', 'al:ice@x'],
    ['< in localpart', 'al<ice@x'],
    ['> in localpart', 'al>ice@x'],
    ['control character in localpart', 'al\u0001ice@x'],
    ['DEL in localpart', 'al\u007fice@x'],
    ['space in domain', 'a@me et'],
    ['< in domain', 'a@me<et'],
    ['backslash in domain', 'a@me\\et'],
    ['control character in domain', 'a@me\u0000et'],
    ['control character in resource', 'a@b/r\u0000'],
    ['newline in resource', 'a@b/r\nx'],
  ];
  for (const [what, s] of bad) {
    it(`rejects ${what}`, () => {
      expect(() => Jid.parse(s)).toThrow(JidError);
      expect(Jid.tryParse(s)).toBeUndefined();
    });
  }

  it('parts of exactly 1023 bytes are accepted, 1024 bytes are not', () => {
    const ok = 'a'.repeat(1023);
    expect(Jid.parse(`${ok}@x`).local).toBe(ok);
    expect(Jid.parse(`a@${ok}`).domain).toBe(ok);
    expect(Jid.parse(`a@x/${ok}`).resource).toBe(ok);
    const over = 'a'.repeat(1024);
    expect(() => Jid.parse(`${over}@x`)).toThrow(JidError);
    expect(() => Jid.parse(`a@${over}`)).toThrow(JidError);
    expect(() => Jid.parse(`a@x/${over}`)).toThrow(JidError);
  });

  it('the 1023 limit is in UTF-8 bytes, not characters', () => {
    const twoByte = '\u00e9'.repeat(512); // 1024 bytes, 512 UTF-16 units
    expect(() => Jid.parse(`${twoByte}@x`)).toThrow(JidError);
    expect(() => Jid.parse(`a@x/${twoByte}`)).toThrow(JidError);
    const astral = '\u{1F600}'.repeat(256); // 1024 bytes
    expect(() => Jid.parse(`a@x/${astral}`)).toThrow(JidError);
    expect(Jid.parse(`a@x/${'\u{1F600}'.repeat(255)}`).resource).toHaveLength(510);
  });

  it('a JID over 3071 characters is rejected outright', () => {
    expect(() => Jid.parse(`a@b/${'c'.repeat(4000)}`)).toThrow(JidError);
  });

  it('JidError is an Error with its own name', () => {
    try {
      Jid.parse('@x');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(Error);
      expect((err as Error).name).toBe('JidError');
    }
  });
});

describe('Jid.tryParse', () => {
  it('returns undefined for undefined and for invalid input, a Jid otherwise', () => {
    expect(Jid.tryParse(undefined)).toBeUndefined();
    expect(Jid.tryParse('')).toBeUndefined();
    expect(Jid.tryParse('a@')).toBeUndefined();
    expect(Jid.tryParse('A@B/C')?.full).toBe('a@b/C');
  });
});
