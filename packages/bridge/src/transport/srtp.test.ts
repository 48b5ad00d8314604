import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { writeRtpHeader } from '../rtp/rtp-packet.js';
import { AesCmHmac } from './srtp-cm.js';
import { deriveSrtpKey, SrtpKdfLabel } from './srtp-kdf.js';
import { estimateRoc, ReplayCheck, ReplayWindow } from './srtp-replay.js';
import {
  deriveSrtpSessionKeys,
  splitSrtpKeyingMaterial,
  srtpDropReasonName,
  SrtpDropReason,
  srtpKeyingMaterialLength,
  SrtpProfile,
  SrtpSession,
  SUPPORTED_SRTP_PROFILES,
  srtpProfileParams,
} from './srtp.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// RFC 3711 Appendix B.3 master key/salt (also libsrtp's srtp_driver test key).
const RFC_MASTER_KEY = hex('E1F97A0D3E018BE0D64FA32C06DE4139');
const RFC_MASTER_SALT = hex('0EC675AD498AFEEBB6960B3AABE6');

function rtpPacket(ssrc: number, seq: number, payload: Buffer, ts = 0x1234, pt = 96): Buffer {
  const buf = Buffer.alloc(12 + payload.length);
  writeRtpHeader(buf, { payloadType: pt, sequenceNumber: seq, timestamp: ts, ssrc });
  payload.copy(buf, 12);
  return buf;
}

function pair(profile: SrtpProfile, options: { replayWindowSize?: number } = {}): { tx: SrtpSession; rx: SrtpSession } {
  const p = srtpProfileParams(profile);
  const keys = { masterKey: randomBytes(p.keyLength), masterSalt: randomBytes(p.saltLength), ...options };
  return { tx: new SrtpSession(profile, keys), rx: new SrtpSession(profile, keys) };
}

/** Protects `plain` into a fresh buffer with room for the tag and returns the SRTP bytes. */
function protect(tx: SrtpSession, plain: Buffer): Buffer {
  const out = Buffer.alloc(plain.length + 64);
  const n = tx.protectRtp(plain, plain.length, out);
  expect(n).toBeGreaterThan(0);
  return out.subarray(0, n);
}

function unprotect(rx: SrtpSession, srtp: Buffer): { n: number; buf: Buffer } {
  const buf = Buffer.from(srtp);
  return { n: rx.unprotectRtp(buf, buf.length), buf };
}

describe('RFC 3711 Appendix B', () => {
  it('B.2: AES-CM keystream for session key 2B7E…, salt F0F1…FD, SSRC 0, index 0', () => {
    const cm = new AesCmHmac(hex('2B7E151628AED2A6ABF7158809CF4F3C'), hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD'), Buffer.alloc(20));
    const zeros = Buffer.alloc(0xff02 * 16);
    const ks = Buffer.alloc(zeros.length);
    cm.xorKeystream(zeros, 0, ks, 0, zeros.length, 0, 0, 0);
    expect(ks.subarray(0, 48).toString('hex').toUpperCase()).toBe(
      'E03EAD0935C95E80E166B16DD92B4EB4' + 'D23513162B02D0F72A43A2FE4A5F97AB' + '41E95B3BB0A2E8DD477901E4FCA894C0',
    );
    expect(ks.subarray(0xfeff * 16).toString('hex').toUpperCase()).toBe(
      'EC8CDF7398607CB0F2D21675EA9EA1E4' + '362B7C3C6773516318A077D7FC5073AE' + '6A2CC3787889374FBEB4C81B17BA6C44',
    );
  });

  it('B.3: key derivation of cipher key, cipher salt and auth key', () => {
    expect(deriveSrtpKey(RFC_MASTER_KEY, RFC_MASTER_SALT, SrtpKdfLabel.RtpEncryption, 16).toString('hex').toUpperCase()).toBe(
      'C61E7A93744F39EE10734AFE3FF7A087',
    );
    expect(deriveSrtpKey(RFC_MASTER_KEY, RFC_MASTER_SALT, SrtpKdfLabel.RtpSalt, 14).toString('hex').toUpperCase()).toBe(
      '30CBBC08863D8C85D49DB34A9AE1',
    );
    // B.3 lists 94 octets of the label-1 keystream; HMAC-SHA1 uses the first 20.
    expect(deriveSrtpKey(RFC_MASTER_KEY, RFC_MASTER_SALT, SrtpKdfLabel.RtpAuthentication, 94).toString('hex').toUpperCase()).toBe(
      'CEBE321F6FF7716B6FD4AB49AF256A15' +
        '6D38BAA48F0A0ACF3C34E2359E6CDBCE' +
        'E049646C43D9327AD175578EF7227098' +
        '6371C10C9A369AC2F94A8C5FBCDDDC25' +
        '6D6E919A48B610EF17C2041E47403576' +
        '6B68642C59BBFC2F34DB60DBDFB2',
    );
    const keys = deriveSrtpSessionKeys(SrtpProfile.AES128_CM_HMAC_SHA1_80, { masterKey: RFC_MASTER_KEY, masterSalt: RFC_MASTER_SALT });
    expect(keys.rtpAuthKey.toString('hex').toUpperCase()).toBe('CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4');
  });

  it('the counter blocks match node aes-128-ctr for a non-zero SSRC and index', () => {
    const key = randomBytes(16);
    const salt = randomBytes(14);
    const cm = new AesCmHmac(key, salt, Buffer.alloc(20));
    const ssrc = 0xdeadbeef;
    const roc = 0x01020304;
    const seq = 0xfffe;
    const iv = Buffer.alloc(16);
    salt.copy(iv);
    iv.writeUInt32BE((iv.readUInt32BE(4) ^ ssrc) >>> 0, 4);
    iv.writeUInt32BE((iv.readUInt32BE(8) ^ roc) >>> 0, 8);
    iv.writeUInt16BE(iv.readUInt16BE(12) ^ seq, 12);
    for (const len of [1, 15, 16, 17, 100, 1188, 1203]) {
      const data = randomBytes(len + 3);
      const expected = createCipheriv('aes-128-ctr', key, iv).update(data.subarray(0, len));
      const out = Buffer.alloc(len + 3);
      // Unaligned source and destination offsets take the bytewise path.
      cm.xorKeystream(data, 0, out, 0, len, ssrc, roc, seq);
      expect(out.subarray(0, len)).toEqual(expected);
      const unaligned = Buffer.alloc(len + 3);
      data.copy(unaligned, 1, 0, len);
      cm.xorKeystream(unaligned, 1, unaligned, 1, len, ssrc, roc, seq);
      expect(unaligned.subarray(1, 1 + len)).toEqual(expected);
    }
  });
});

describe('libsrtp srtp_driver known answers (key/salt of RFC 3711 B.3, SSRC 0xCAFEBABE)', () => {
  const rtpPlain = hex('800f1234 decafbad cafebabe abababab abababab abababab abababab');
  const rtcpPlain = hex('81c8000b cafebabe abababab abababab abababab abababab');

  it('AES_CM_128_HMAC_SHA1_80 SRTP and SRTCP', () => {
    const tx = new SrtpSession(SrtpProfile.AES128_CM_HMAC_SHA1_80, { masterKey: RFC_MASTER_KEY, masterSalt: RFC_MASTER_SALT });
    const srtp = protect(tx, rtpPlain);
    expect(srtp.toString('hex')).toBe('800f1234decafbadcafebabe4e55dc4ce79978d88ca4d215949d2402b78d6acc99ea179b8dbb');
    // libsrtp increments before use, so its first SRTCP packet carries index 1.
    tx.setNextRtcpIndex(0xcafebabe, 1);
    const out = Buffer.alloc(64);
    const n = tx.protectRtcp(rtcpPlain, rtcpPlain.length, out);
    const srtcp = out.subarray(0, n);
    expect(srtcp.toString('hex')).toBe('81c8000bcafebabe7128035be487b9bdbef89041f977a5a880000001993e08cd54d6c1230798');

    const rx = new SrtpSession(SrtpProfile.AES128_CM_HMAC_SHA1_80, { masterKey: RFC_MASTER_KEY, masterSalt: RFC_MASTER_SALT });
    const r = unprotect(rx, srtp);
    expect(r.n).toBe(rtpPlain.length);
    expect(r.buf.subarray(0, r.n)).toEqual(rtpPlain);
    const c = Buffer.from(srtcp);
    expect(rx.unprotectRtcp(c, c.length)).toBe(rtcpPlain.length);
    expect(c.subarray(0, rtcpPlain.length)).toEqual(rtcpPlain);
  });

  it('AES_CM_128_HMAC_SHA1_32 truncates the SRTP tag to 4 bytes but keeps 10 for SRTCP', () => {
    const tx = new SrtpSession(SrtpProfile.AES128_CM_HMAC_SHA1_32, { masterKey: RFC_MASTER_KEY, masterSalt: RFC_MASTER_SALT });
    // The 32-bit tag is the first 4 bytes of the 80-bit one (b78d6acc…).
    expect(protect(tx, rtpPlain).toString('hex')).toBe('800f1234decafbadcafebabe4e55dc4ce79978d88ca4d215949d2402b78d6acc');
    expect(tx.rtcpTrailerLength).toBe(14);
  });

  it('AEAD_AES_128_GCM SRTP and SRTCP (key 000102…0f, salt a0…ab)', () => {
    const keys = { masterKey: hex('000102030405060708090a0b0c0d0e0f'), masterSalt: hex('a0a1a2a3a4a5a6a7a8a9aaab') };
    const tx = new SrtpSession(SrtpProfile.AEAD_AES_128_GCM, keys);
    const srtp = protect(tx, rtpPlain);
    expect(srtp.toString('hex')).toBe('800f1234decafbadcafebabec5002ede04cfdd2eb91159e0880aa06ed2976826f796b201df3131a127e8a392');
    tx.setNextRtcpIndex(0xcafebabe, 1);
    const out = Buffer.alloc(64);
    const srtcp = out.subarray(0, tx.protectRtcp(rtcpPlain, rtcpPlain.length, out));
    expect(srtcp.toString('hex')).toBe('81c8000bcafebabec98b8b5df0392a55852b6c21ac8e7025c52c6fbea2b3b446ea31123ba88ce61e80000001');

    const rx = new SrtpSession(SrtpProfile.AEAD_AES_128_GCM, keys);
    const r = unprotect(rx, srtp);
    expect(r.buf.subarray(0, r.n)).toEqual(rtpPlain);
    const c = Buffer.from(srtcp);
    expect(rx.unprotectRtcp(c, c.length)).toBe(rtcpPlain.length);
    expect(c.subarray(0, rtcpPlain.length)).toEqual(rtcpPlain);
  });
});

describe('RFC 7714 §16–17 AEAD vectors (session keys given directly)', () => {
  const rtpPlain = hex(`8040f17b 8041f8d3 5501a0b2 47616c6c 69612065 7374206f 6d6e6973 20646976
    69736120 696e2070 61727465 73207472 6573`);
  const rtcpPlain = hex(`81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 4c756e61
    deadbeef deadbeef deadbeef deadbeef deadbeef`);
  const salt = hex('517569642070726f2071756f');
  const cases = [
    {
      profile: SrtpProfile.AEAD_AES_128_GCM,
      key: hex('000102030405060708090a0b0c0d0e0f'),
      rtp: `8040f17b 8041f8d3 5501a0b2 f24de3a3 fb34de6c acba861c 9d7e4bca be633bd5 0d294e6f 42a5f47a
        51c7d19b 36de3adf 8833899d 7f27beb1 6a9152cf 765ee439 0cce`,
      rtcp: `81c8000d 4d617273 63e94885 dcdab67c a727d766 2f6b7e99 7ff5c0f7 6c06f32d c676a5f1 730d6fda
        4ce09b46 86303ded 0bb9275b c84aa458 96cf4d2f c5abf872 45d9eade 800005d4`,
    },
    {
      profile: SrtpProfile.AEAD_AES_256_GCM,
      key: hex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'),
      rtp: `8040f17b 8041f8d3 5501a0b2 32b1de78 a822fe12 ef9f78fa 332e33aa b1801238 9a58e2f3 b50b2a02
        76ffae0f 1ba63799 b87b7aa3 db36dfff d6b0f9bb 7878d7a7 6c13`,
      rtcp: `81c8000d 4d617273 d50ae4d1 f5ce5d30 4ba297e4 7d470c28 2c3ece5d bffe0a50 a2eaa5c1 110555be
        8415f658 c61de047 6f1b6fad 1d1eb30c 4446839f 57ff6f6c b26ac3be 800005d4`,
    },
  ];
  for (const c of cases) {
    const sessionKeys = { rtpKey: c.key, rtpSalt: salt, rtpAuthKey: Buffer.alloc(0), rtcpKey: c.key, rtcpSalt: salt, rtcpAuthKey: Buffer.alloc(0) };
    it(`${srtpProfileParams(c.profile).name}: protect and unprotect RTP and SRTCP (index 0x5d4)`, () => {
      const tx = new SrtpSession(c.profile, { sessionKeys });
      expect(protect(tx, rtpPlain)).toEqual(hex(c.rtp));
      tx.setNextRtcpIndex(0x4d617273, 0x5d4);
      const out = Buffer.alloc(128);
      expect(out.subarray(0, tx.protectRtcp(rtcpPlain, rtcpPlain.length, out))).toEqual(hex(c.rtcp));

      const rx = new SrtpSession(c.profile, { sessionKeys });
      const r = unprotect(rx, hex(c.rtp));
      expect(r.buf.subarray(0, r.n)).toEqual(rtpPlain);
      const srtcp = hex(c.rtcp);
      expect(rx.unprotectRtcp(srtcp, srtcp.length)).toBe(rtcpPlain.length);
      expect(srtcp.subarray(0, rtcpPlain.length)).toEqual(rtcpPlain);
    });
  }
});

describe('SrtpSession round trips', () => {
  for (const profile of SUPPORTED_SRTP_PROFILES) {
    const name = srtpProfileParams(profile).name;
    it(`${name}: protect → unprotect restores random RTP and RTCP, in place and into another buffer`, () => {
      const { tx, rx } = pair(profile);
      for (let i = 0; i < 200; i++) {
        const ssrc = randomBytes(4).readUInt32BE(0);
        const plain = rtpPacket(ssrc, (i * 7919) & 0xffff, randomBytes(1 + ((i * 37) % 1300)));
        const inPlace = Buffer.alloc(plain.length + tx.rtpTagLength);
        plain.copy(inPlace);
        const n = tx.protectRtp(inPlace, plain.length, inPlace);
        expect(n).toBe(plain.length + tx.rtpTagLength);
        expect(inPlace.subarray(12, plain.length)).not.toEqual(plain.subarray(12));
        expect(rx.unprotectRtp(inPlace, n)).toBe(plain.length);
        expect(inPlace.subarray(0, plain.length)).toEqual(plain);

        const rtcp = Buffer.alloc(8 + 4 * (i % 40));
        randomBytes(rtcp.length).copy(rtcp);
        rtcp[0] = 0x80;
        rtcp[1] = 201;
        rtcp.writeUInt16BE(rtcp.length / 4 - 1, 2);
        const out = Buffer.alloc(rtcp.length + tx.rtcpTrailerLength);
        const m = tx.protectRtcp(rtcp, rtcp.length, out);
        expect(m).toBe(rtcp.length + tx.rtcpTrailerLength);
        expect(rx.unprotectRtcp(out, m)).toBe(rtcp.length);
        expect(out.subarray(0, rtcp.length)).toEqual(rtcp);
      }
    });

    it(`${name}: header with CSRCs and a header extension stays clear and authenticated`, () => {
      const { tx, rx } = pair(profile);
      const plain = Buffer.alloc(12 + 8 + 12 + 50);
      writeRtpHeader(plain, { payloadType: 100, sequenceNumber: 7, timestamp: 9, ssrc: 42, csrcs: [1, 2] });
      plain[0] = (plain[0] as number) | 0x10;
      plain.writeUInt16BE(0xbede, 20);
      plain.writeUInt16BE(2, 22);
      plain[24] = 0x10; // id 1, 1 byte
      plain[25] = 0xaa;
      randomBytes(50).copy(plain, 32);
      const srtp = protect(tx, plain);
      expect(srtp.subarray(0, 32)).toEqual(plain.subarray(0, 32));
      const tampered = Buffer.from(srtp);
      tampered[25] = 0xab; // header bytes are authenticated (AAD for GCM)
      expect(rx.unprotectRtp(tampered, tampered.length)).toBe(SrtpDropReason.AuthFailed);
      const r = unprotect(rx, srtp);
      expect(r.buf.subarray(0, r.n)).toEqual(plain);
    });
  }
});

describe('SrtpSession ROC, replay and authentication', () => {
  for (const profile of [SrtpProfile.AES128_CM_HMAC_SHA1_80, SrtpProfile.AEAD_AES_128_GCM]) {
    const name = srtpProfileParams(profile).name;

    it(`${name}: the ROC follows sequence wraps, with reordering across the wrap`, () => {
      const { tx, rx } = pair(profile);
      const ssrc = 0x11223344;
      const seqs: number[] = [];
      let ext = 65000;
      for (; ext < 65536 + 600; ext++) seqs.push(ext & 0xffff);
      for (; ext < 2 * 65536 - 1000; ext += 997) seqs.push(ext & 0xffff); // jumps < 2^15 keep the ROC guess right
      for (ext = 2 * 65536 - 3; ext < 2 * 65536 + 20; ext++) seqs.push(ext & 0xffff); // a second wrap
      const srtp = seqs.map((seq, i) => ({ seq, plain: rtpPacket(ssrc, seq, Buffer.from([i & 0xff, 1, 2, 3])) })).map((p) => ({ ...p, srtp: protect(tx, p.plain) }));
      // Deliver with local reordering across the first wrap: swap neighbours around 65535/0.
      const order = srtp.map((_, i) => i);
      const wrapAt = seqs.indexOf(0);
      for (const d of [-3, -1, 1]) {
        const a = wrapAt + d;
        [order[a], order[a + 1]] = [order[a + 1] as number, order[a] as number];
      }
      for (const i of order) {
        const p = srtp[i]!;
        const r = unprotect(rx, p.srtp);
        expect(r.n, `seq ${p.seq} (#${i})`).toBe(p.plain.length);
        expect(r.buf.subarray(0, r.n)).toEqual(p.plain);
      }
    });

    it(`${name}: a late packet from before the wrap is accepted once (ROC − 1)`, () => {
      const { tx, rx } = pair(profile);
      const a = protect(tx, rtpPacket(5, 65534, Buffer.from('a')));
      const b = protect(tx, rtpPacket(5, 65535, Buffer.from('b')));
      const c = protect(tx, rtpPacket(5, 0, Buffer.from('c')));
      const d = protect(tx, rtpPacket(5, 1, Buffer.from('d')));
      expect(unprotect(rx, a).n).toBeGreaterThan(0);
      expect(unprotect(rx, c).n).toBeGreaterThan(0);
      expect(unprotect(rx, d).n).toBeGreaterThan(0);
      expect(unprotect(rx, b).n).toBeGreaterThan(0);
      expect(unprotect(rx, b).n).toBe(SrtpDropReason.Replayed);
    });

    it(`${name}: replayed and too-old packets are dropped, buffer untouched`, () => {
      const { tx, rx } = pair(profile, { replayWindowSize: 64 });
      const packets = Array.from({ length: 200 }, (_, i) => protect(tx, rtpPacket(9, 1000 + i, Buffer.from([i]))));
      expect(unprotect(rx, packets[0]!).n).toBeGreaterThan(0);
      const again = Buffer.from(packets[0]!);
      expect(rx.unprotectRtp(again, again.length)).toBe(SrtpDropReason.Replayed);
      expect(again).toEqual(packets[0]);
      for (let i = 2; i < 200; i++) expect(unprotect(rx, packets[i]!).n).toBeGreaterThan(0);
      // #1 was never delivered but is now 198 behind the highest: outside the 64-packet window.
      expect(unprotect(rx, packets[1]!).n).toBe(SrtpDropReason.TooOld);
      expect(unprotect(rx, packets[199]!).n).toBe(SrtpDropReason.Replayed);
      expect(srtpDropReasonName(SrtpDropReason.TooOld)).toBe('too-old');
    });

    it(`${name}: a tampered tag, payload or SSRC fails authentication and creates no state`, () => {
      const { tx, rx } = pair(profile);
      const srtp = protect(tx, rtpPacket(77, 10, randomBytes(100)));
      for (const at of [srtp.length - 1, 40, 8]) {
        const t = Buffer.from(srtp);
        t[at] = (t[at] as number) ^ 0x01;
        expect(rx.unprotectRtp(t, t.length)).toBe(SrtpDropReason.AuthFailed);
        const copy = Buffer.from(srtp);
        copy[at] = (copy[at] as number) ^ 0x01;
        expect(t).toEqual(copy);
      }
      expect(rx.stats().rtpIn).toBe(0);
      expect(unprotect(rx, srtp).n).toBe(srtp.length - tx.rtpTagLength);
      expect(rx.stats().rtpIn).toBe(1);
    });

    it(`${name}: SRTCP replay, tamper and wrong-key rejection`, () => {
      const { tx, rx } = pair(profile);
      const rtcp = hex('81c90007 00000001 00000002 00000000 00000000 00000000 00000000 00000000');
      const out = Buffer.alloc(rtcp.length + tx.rtcpTrailerLength);
      const n = tx.protectRtcp(rtcp, rtcp.length, out);
      const first = Buffer.from(out.subarray(0, n));
      const tampered = Buffer.from(first);
      tampered[12] = (tampered[12] as number) ^ 0x80;
      expect(rx.unprotectRtcp(tampered, n)).toBe(SrtpDropReason.AuthFailed);
      expect(rx.unprotectRtcp(Buffer.from(first), n)).toBe(rtcp.length);
      expect(rx.unprotectRtcp(Buffer.from(first), n)).toBe(SrtpDropReason.Replayed);
      const other = pair(profile).rx;
      expect(other.unprotectRtcp(Buffer.from(first), n)).toBe(SrtpDropReason.AuthFailed);
      // The index increments per packet and is readable in clear.
      const second = out.subarray(0, tx.protectRtcp(rtcp, rtcp.length, out));
      const word = profile === SrtpProfile.AEAD_AES_128_GCM ? second.readUInt32BE(second.length - 4) : second.readUInt32BE(rtcp.length);
      expect(word).toBe(0x80000001);
    });

    it(`${name}: malformed input yields drop reasons, never throws`, () => {
      const { tx, rx } = pair(profile);
      const tiny = Buffer.alloc(5);
      expect(rx.unprotectRtp(tiny, 5)).toBe(SrtpDropReason.TooShort);
      expect(rx.unprotectRtcp(tiny, 5)).toBe(SrtpDropReason.TooShort);
      const badVersion = Buffer.alloc(60);
      expect(rx.unprotectRtp(badVersion, 60)).toBe(SrtpDropReason.BadHeader);
      expect(rx.unprotectRtcp(badVersion, 60)).toBe(SrtpDropReason.BadHeader);
      const cc = Buffer.alloc(40);
      cc[0] = 0x8f; // 15 CSRCs: header 72 bytes > packet
      expect(rx.unprotectRtp(cc, 40)).toBe(SrtpDropReason.BadHeader);
      expect(tx.protectRtp(cc, 40, Buffer.alloc(100))).toBe(SrtpDropReason.BadHeader);
      const plain = rtpPacket(1, 1, Buffer.alloc(10));
      expect(tx.protectRtp(plain, plain.length, Buffer.alloc(plain.length))).toBe(SrtpDropReason.BufferTooSmall);
      for (let i = 0; i < 500; i++) {
        const junk = randomBytes(1 + (i % 300));
        junk[0] = 0x80 | ((junk[0] as number) & 0x3f);
        expect(rx.unprotectRtp(junk, junk.length)).toBeLessThan(0);
        expect(rx.unprotectRtcp(junk, junk.length)).toBeLessThan(0);
      }
    });
  }
});

describe('AES-CM keystream prefetch', () => {
  it('produces the same bytes as per-packet keystream under reordering, loss, size changes and a wrap', () => {
    const keys = { masterKey: randomBytes(16), masterSalt: randomBytes(14) };
    const profile = SrtpProfile.AES128_CM_HMAC_SHA1_80;
    const cached = new SrtpSession(profile, { ...keys, keystreamPrefetch: 8 });
    const plainTx = new SrtpSession(profile, { ...keys, keystreamPrefetch: 0 });
    const cachedRx = new SrtpSession(profile, { ...keys, keystreamPrefetch: 8 });
    const plainRx = new SrtpSession(profile, { ...keys, keystreamPrefetch: 0 });
    // A send order with gaps (loss), local reordering, a few late stragglers, growing and
    // shrinking payloads, two SSRCs interleaved, crossing 65535 → 0.
    const order: { ssrc: number; seq: number; size: number }[] = [];
    let ext = 65400;
    let i = 0;
    while (ext < 65536 + 400) {
      const r = (i * 2654435761) >>> 0;
      const step = r % 13 === 0 ? 5 : 1; // occasional loss
      const size = r % 7 === 0 ? 1300 : r % 5 === 0 ? 60 : 900 + (r % 300);
      order.push({ ssrc: i % 3 === 0 ? 0xa : 0xb, seq: ext & 0xffff, size });
      if (r % 11 === 0 && order.length > 3) {
        const a = order.length - 1; // swap with a packet three back: a late packet
        [order[a], order[a - 3]] = [order[a - 3]!, order[a]!];
      }
      ext += step;
      i++;
    }
    for (const p of order) {
      const plain = rtpPacket(p.ssrc, p.seq, randomBytes(p.size));
      const a = protect(cached, plain);
      const b = protect(plainTx, plain);
      expect(a.toString('hex'), `seq ${p.seq}`).toBe(b.toString('hex'));
      const r1 = unprotect(cachedRx, a);
      const r2 = unprotect(plainRx, b);
      expect(r1.n).toBe(plain.length);
      expect(r2.n).toBe(plain.length);
      expect(r1.buf.subarray(0, r1.n)).toEqual(plain);
    }
  });
});

describe('DTLS-SRTP keying material (RFC 5764 §4.2)', () => {
  it('splits client key | server key | client salt | server salt by role', () => {
    const material = Buffer.alloc(srtpKeyingMaterialLength(SrtpProfile.AES128_CM_HMAC_SHA1_80));
    expect(material.length).toBe(60);
    for (let i = 0; i < material.length; i++) material[i] = i;
    const server = splitSrtpKeyingMaterial(SrtpProfile.AES128_CM_HMAC_SHA1_80, material, 'server');
    expect(server.remote.masterKey).toEqual(material.subarray(0, 16));
    expect(server.local.masterKey).toEqual(material.subarray(16, 32));
    expect(server.remote.masterSalt).toEqual(material.subarray(32, 46));
    expect(server.local.masterSalt).toEqual(material.subarray(46, 60));
    const client = splitSrtpKeyingMaterial(SrtpProfile.AES128_CM_HMAC_SHA1_80, material, 'client');
    expect(client.local).toEqual(server.remote);
    expect(client.remote).toEqual(server.local);
    expect(srtpKeyingMaterialLength(SrtpProfile.AEAD_AES_128_GCM)).toBe(56);
    expect(srtpKeyingMaterialLength(SrtpProfile.AEAD_AES_256_GCM)).toBe(88);
  });

  it('a client and a server built from the same material talk to each other', () => {
    const profile = SrtpProfile.AEAD_AES_128_GCM;
    const material = randomBytes(srtpKeyingMaterialLength(profile));
    const c = splitSrtpKeyingMaterial(profile, material, 'client');
    const s = splitSrtpKeyingMaterial(profile, material, 'server');
    const clientTx = new SrtpSession(profile, c.local);
    const serverRx = new SrtpSession(profile, s.remote);
    const plain = rtpPacket(3, 4, randomBytes(30));
    const r = unprotect(serverRx, protect(clientTx, plain));
    expect(r.buf.subarray(0, r.n)).toEqual(plain);
  });

  it('rejects wrong lengths and unknown profiles with TypeError', () => {
    expect(() => splitSrtpKeyingMaterial(SrtpProfile.AES128_CM_HMAC_SHA1_80, Buffer.alloc(59), 'server')).toThrow(TypeError);
    expect(() => new SrtpSession(0x99, { masterKey: Buffer.alloc(16), masterSalt: Buffer.alloc(14) })).toThrow(TypeError);
    expect(() => new SrtpSession(SrtpProfile.AES128_CM_HMAC_SHA1_80, { masterKey: Buffer.alloc(16), masterSalt: Buffer.alloc(12) })).toThrow(TypeError);
    expect(
      () => new SrtpSession(SrtpProfile.AES128_CM_HMAC_SHA1_80, { masterKey: Buffer.alloc(16), masterSalt: Buffer.alloc(14), replayWindowSize: 100 }),
    ).toThrow(TypeError);
  });
});

describe('ReplayWindow and estimateRoc', () => {
  it('estimateRoc follows RFC 3711 Appendix A', () => {
    expect(estimateRoc(0, 100, 101)).toBe(0);
    expect(estimateRoc(0, 100, 65000)).toBe(-1);
    expect(estimateRoc(3, 65500, 10)).toBe(4);
    expect(estimateRoc(3, 65500, 40000)).toBe(3);
    expect(estimateRoc(3, 40000, 7000)).toBe(4);
    expect(estimateRoc(3, 40000, 7233)).toBe(3);
  });

  it('slides, rejects duplicates and indices older than the window, handles big jumps', () => {
    const w = new ReplayWindow(64);
    expect(w.check(1000)).toBe(ReplayCheck.Ok);
    w.accept(1000);
    expect(w.check(1000)).toBe(ReplayCheck.Replayed);
    expect(w.check(999)).toBe(ReplayCheck.Ok);
    expect(w.check(1000 - 64)).toBe(ReplayCheck.TooOld);
    w.accept(1063);
    expect(w.check(1000)).toBe(ReplayCheck.Replayed);
    expect(w.check(1001)).toBe(ReplayCheck.Ok);
    w.accept(1064);
    expect(w.check(1000)).toBe(ReplayCheck.TooOld);
    w.accept(2 ** 40);
    expect(w.check(2 ** 40 - 1)).toBe(ReplayCheck.Ok);
    expect(w.check(2 ** 40)).toBe(ReplayCheck.Replayed);
    const neg = new ReplayWindow(128);
    neg.accept(2);
    expect(neg.check(-2)).toBe(ReplayCheck.Ok);
    neg.accept(-2);
    expect(neg.check(-2)).toBe(ReplayCheck.Replayed);
  });
});
