import { describe, expect, it } from 'vitest';
import {
  StunAttr,
  StunClass,
  StunMessageBuilder,
  StunType,
  crc32,
  formatIpv6,
  isStunMessage,
  parseIpv6,
  parseStunMessage,
  verifyFingerprint,
  verifyMessageIntegrity,
} from './stun.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// RFC 5769 §2: username "evtj:h6vY", password "VOkJxbRl1RmTxUk/WvJxBt".
const PASSWORD = Buffer.from('VOkJxbRl1RmTxUk/WvJxBt', 'utf8');
const TX_ID = hex('b7e7a701bc34d686fa87dfae');

// RFC 5769 §2.1 Sample Request.
const SAMPLE_REQUEST = hex(`
  000100582112a442b7e7a701bc34d686fa87dfae
  80220010 5354554e 20746573 7420636c 69656e74
  00240004 6e0001ff
  80290008 932ff9b1 51263b36
  00060009 6576746a 3a683676 59202020
  00080014 9aeaa70c bfd8cb56 781ef2b5 b2d3f249 c1b571a2
  80280004 e57a3bcf`);

// RFC 5769 §2.2 Sample IPv4 Response.
const SAMPLE_RESPONSE_V4 = hex(`
  0101003c2112a442b7e7a701bc34d686fa87dfae
  8022000b 74657374 20766563 746f7220
  00200008 0001a147 e112a643
  00080014 2b91f599 fd9e90c3 8c7489f9 2af9ba53 f06be7d7
  80280004 c07d4c96`);

// RFC 5769 §2.3 Sample IPv6 Response.
const SAMPLE_RESPONSE_V6 = hex(`
  010100482112a442b7e7a701bc34d686fa87dfae
  8022000b 74657374 20766563 746f7220
  00200014 0002a147 0113a9fa a5d3f179 bc25f4b5 bed2b9d9
  00080014 a382954e 4be67bf1 1784c97c 8292c275 bfe3ed41
  80280004 c8fb0b4c`);

describe('crc32()', () => {
  it('matches the standard check value', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32(Buffer.alloc(0))).toBe(0);
  });
});

describe('parseStunMessage() with RFC 5769 vectors', () => {
  it('§2.1 request: attributes, MESSAGE-INTEGRITY and FINGERPRINT verify', () => {
    const msg = parseStunMessage(SAMPLE_REQUEST);
    expect(msg).toBeDefined();
    if (msg === undefined) return;
    expect(msg.type).toBe(StunType.BindingRequest);
    expect(msg.cls).toBe(StunClass.Request);
    expect(msg.transactionId.equals(TX_ID)).toBe(true);
    expect(msg.username).toBe('evtj:h6vY');
    expect(msg.software).toBe('STUN test client');
    expect(msg.priority).toBe(0x6e0001ff);
    expect(msg.iceControlled).toBe(0x932ff9b151263b36n);
    expect(msg.iceControlling).toBeUndefined();
    expect(msg.useCandidate).toBe(false);
    expect(verifyMessageIntegrity(SAMPLE_REQUEST, msg, PASSWORD)).toBe(true);
    expect(verifyFingerprint(SAMPLE_REQUEST, msg)).toBe(true);
    expect(verifyMessageIntegrity(SAMPLE_REQUEST, msg, Buffer.from('wrong'))).toBe(false);
  });

  it('§2.2 IPv4 response: XOR-MAPPED-ADDRESS 192.0.2.1:32853', () => {
    const msg = parseStunMessage(SAMPLE_RESPONSE_V4);
    expect(msg?.cls).toBe(StunClass.SuccessResponse);
    expect(msg?.xorMappedAddress).toEqual({ address: '192.0.2.1', port: 32853, family: 4 });
    expect(msg?.software).toBe('test vector');
    if (msg === undefined) return;
    expect(verifyMessageIntegrity(SAMPLE_RESPONSE_V4, msg, PASSWORD)).toBe(true);
    expect(verifyFingerprint(SAMPLE_RESPONSE_V4, msg)).toBe(true);
  });

  it('§2.3 IPv6 response: XOR-MAPPED-ADDRESS 2001:db8:1234:5678:11:2233:4455:6677', () => {
    const msg = parseStunMessage(SAMPLE_RESPONSE_V6);
    expect(msg?.xorMappedAddress).toEqual({ address: '2001:db8:1234:5678:11:2233:4455:6677', port: 32853, family: 6 });
    if (msg === undefined) return;
    expect(verifyMessageIntegrity(SAMPLE_RESPONSE_V6, msg, PASSWORD)).toBe(true);
    expect(verifyFingerprint(SAMPLE_RESPONSE_V6, msg)).toBe(true);
  });

  it('a flipped bit anywhere before MESSAGE-INTEGRITY fails it; one in MI fails FINGERPRINT', () => {
    for (const pos of [1, 9, 30, 50, 70]) {
      const b = Buffer.from(SAMPLE_REQUEST);
      b[pos] = (b[pos] as number) ^ 0x01;
      const msg = parseStunMessage(b);
      if (msg === undefined) continue; // header damage makes it unparsable, which is also a rejection
      expect(verifyMessageIntegrity(b, msg, PASSWORD)).toBe(false);
      expect(verifyFingerprint(b, msg)).toBe(false);
    }
    const b = Buffer.from(SAMPLE_REQUEST);
    b[90] = (b[90] as number) ^ 0x80;
    const msg = parseStunMessage(b);
    expect(msg).toBeDefined();
    if (msg === undefined) return;
    expect(verifyFingerprint(b, msg)).toBe(false);
    expect(verifyMessageIntegrity(b, msg, PASSWORD)).toBe(false);
  });
});

describe('StunMessageBuilder', () => {
  it('reproduces the §2.1 request HMAC with zero padding (libwebrtc kCalculatedHmac1)', () => {
    const out = new StunMessageBuilder(StunType.BindingRequest, TX_ID)
      .addSoftware('STUN test client')
      .addPriority(0x6e0001ff)
      .addIceControlled(0x932ff9b151263b36n)
      .addUsername('evtj:h6vY')
      .build({ integrityKey: PASSWORD, fingerprint: true });
    expect(out.readUInt16BE(2)).toBe(0x58);
    // Zero padding instead of the vector's spaces changes the HMAC to this known value.
    expect(out.subarray(80, 100).equals(hex('7907c2d2edbfea480e4c76d82962d5c3742af9e3'))).toBe(true);
    const msg = parseStunMessage(out);
    expect(msg).toBeDefined();
    if (msg === undefined) return;
    expect(verifyMessageIntegrity(out, msg, PASSWORD)).toBe(true);
    expect(verifyFingerprint(out, msg)).toBe(true);
  });

  it('reproduces the §2.2 response bytes except the padded SOFTWARE value', () => {
    const out = new StunMessageBuilder(StunType.BindingSuccess, TX_ID)
      .addAttribute(StunAttr.Software, Buffer.from('test vector '))
      .addXorMappedAddress('192.0.2.1', 32853)
      .build({ integrityKey: PASSWORD, fingerprint: true });
    // The vector declares SOFTWARE length 11 with a space as padding; ours declares 12.
    out.writeUInt16BE(11, 22);
    const msg = parseStunMessage(out);
    expect(msg).toBeDefined();
    expect(out.subarray(0, 40).equals(SAMPLE_RESPONSE_V4.subarray(0, 40))).toBe(true);
  });

  it('encodes IPv6 XOR-MAPPED-ADDRESS as in §2.3', () => {
    const out = new StunMessageBuilder(StunType.BindingSuccess, TX_ID)
      .addXorMappedAddress('2001:db8:1234:5678:11:2233:4455:6677', 32853)
      .build();
    expect(out.subarray(20, 44).equals(SAMPLE_RESPONSE_V6.subarray(36, 60))).toBe(true);
  });

  it('round-trips ICE attributes and ERROR-CODE', () => {
    const tx = Buffer.alloc(12, 7);
    const key = Buffer.from('pwd-pwd-pwd-pwd-pwd-pwd');
    const out = new StunMessageBuilder(StunType.BindingError, tx)
      .addUsername('a:b')
      .addPriority(0xffffffff)
      .addUseCandidate()
      .addIceControlling(0xfedcba9876543210n)
      .addErrorCode(487, 'Role Conflict')
      .build({ integrityKey: key, fingerprint: true });
    expect(isStunMessage(out)).toBe(true);
    const msg = parseStunMessage(out);
    expect(msg).toMatchObject({
      cls: StunClass.ErrorResponse,
      username: 'a:b',
      priority: 0xffffffff,
      useCandidate: true,
      iceControlling: 0xfedcba9876543210n,
      errorCode: { code: 487, reason: 'Role Conflict' },
      unknownRequiredAttribute: -1,
    });
    if (msg === undefined) return;
    expect(verifyMessageIntegrity(out, msg, key)).toBe(true);
    expect(verifyFingerprint(out, msg)).toBe(true);
  });
});

describe('parseStunMessage() rejects malformed input', () => {
  it('returns undefined for garbage, truncation and bad lengths without throwing', () => {
    expect(parseStunMessage(Buffer.alloc(0))).toBeUndefined();
    expect(parseStunMessage(Buffer.alloc(19))).toBeUndefined();
    expect(parseStunMessage(SAMPLE_REQUEST.subarray(0, 60))).toBeUndefined();
    const badCookie = Buffer.from(SAMPLE_REQUEST);
    badCookie[4] = 0;
    expect(parseStunMessage(badCookie)).toBeUndefined();
    const overrun = Buffer.from(SAMPLE_REQUEST);
    overrun.writeUInt16BE(0x0100, 22); // SOFTWARE length beyond the message
    expect(parseStunMessage(overrun)).toBeUndefined();
    // FINGERPRINT not last
    const fpFirst = new StunMessageBuilder(StunType.BindingRequest, TX_ID).addAttribute(StunAttr.Fingerprint, Buffer.alloc(4)).addUsername('x').build();
    expect(parseStunMessage(fpFirst)).toBeUndefined();
    for (let i = 0; i < 2000; i++) {
      const b = Buffer.from(SAMPLE_REQUEST);
      for (let k = 0; k < 4; k++) b[Math.floor(Math.random() * b.length)] = Math.floor(Math.random() * 256);
      expect(() => parseStunMessage(b)).not.toThrow();
    }
  });

  it('flags an unknown comprehension-required attribute', () => {
    const out = new StunMessageBuilder(StunType.BindingRequest, TX_ID).addAttribute(0x0777, Buffer.from([1])).build();
    expect(parseStunMessage(out)?.unknownRequiredAttribute).toBe(0x0777);
  });
});

describe('IPv6 text helpers', () => {
  it('parse and format round-trip', () => {
    for (const ip of ['::1', '2001:db8::1', 'fe80::fc:ff:fe00:1', '::', '1:2:3:4:5:6:7:8', '::ffff:192.0.2.1']) {
      const b = parseIpv6(ip);
      expect(b).toBeDefined();
      if (b === undefined) continue;
      expect(parseIpv6(formatIpv6(b))?.equals(b)).toBe(true);
    }
    expect(formatIpv6(parseIpv6('2001:0db8:0:0:0:0:0:1') as Buffer)).toBe('2001:db8::1');
    expect(parseIpv6('nope')).toBeUndefined();
  });
});
