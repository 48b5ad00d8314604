/**
 * Cross-checks SrtpSession against werift-rtp's independent SRTP/SRTCP implementation, both
 * directions, byte for byte.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  ProtectionProfileAeadAes128Gcm,
  ProtectionProfileAes128CmHmacSha1_80,
  RtpPacket,
  SrtcpSession as WeriftSrtcpSession,
  SrtpSession as WeriftSrtpSession,
} from 'werift-rtp';
import { writeRtpHeader } from '../rtp/rtp-packet.js';
import { SrtpDropReason, SrtpProfile, SrtpSession, srtpProfileParams } from './srtp.js';

const PROFILES = [
  { ours: SrtpProfile.AES128_CM_HMAC_SHA1_80, werift: ProtectionProfileAes128CmHmacSha1_80 },
  { ours: SrtpProfile.AEAD_AES_128_GCM, werift: ProtectionProfileAeadAes128Gcm },
] as const;

function setup(profile: (typeof PROFILES)[number]) {
  const p = srtpProfileParams(profile.ours);
  const masterKey = randomBytes(p.keyLength);
  const masterSalt = randomBytes(p.saltLength);
  const config = {
    keys: { localMasterKey: masterKey, localMasterSalt: masterSalt, remoteMasterKey: masterKey, remoteMasterSalt: masterSalt },
    profile: profile.werift,
  };
  return {
    ours: new SrtpSession(profile.ours, { masterKey, masterSalt }),
    oursRx: new SrtpSession(profile.ours, { masterKey, masterSalt }),
    werift: new WeriftSrtpSession(config),
    weriftRtcp: new WeriftSrtcpSession(config),
  };
}

function randomRtp(ssrc: number, seq: number, csrcs = 0): Buffer {
  const payload = randomBytes(1 + Math.floor(Math.random() * 1200));
  const hdr = 12 + 4 * csrcs;
  const buf = Buffer.alloc(hdr + payload.length);
  writeRtpHeader(buf, {
    payloadType: 96 + (seq % 20),
    sequenceNumber: seq,
    timestamp: randomBytes(4).readUInt32BE(0),
    ssrc,
    marker: seq % 3 === 0,
    csrcs: Array.from({ length: csrcs }, (_, i) => 1000 + i),
  });
  payload.copy(buf, hdr);
  return buf;
}

function randomRtcp(ssrc: number): Buffer {
  const words = 1 + Math.floor(Math.random() * 60);
  const buf = randomBytes(4 * (words + 1));
  buf[0] = 0x80 | ((buf[0] as number) & 0x1f);
  buf[1] = 200 + Math.floor(Math.random() * 7);
  buf.writeUInt16BE(words, 2);
  buf.writeUInt32BE(ssrc, 4);
  return buf;
}

function oursProtect(s: SrtpSession, plain: Buffer): Buffer {
  const out = Buffer.alloc(plain.length + 32);
  const n = s.protectRtp(plain, plain.length, out);
  expect(n).toBeGreaterThan(0);
  return out.subarray(0, n);
}

function oursProtectRtcp(s: SrtpSession, plain: Buffer): Buffer {
  const out = Buffer.alloc(plain.length + 32);
  const n = s.protectRtcp(plain, plain.length, out);
  expect(n).toBeGreaterThan(0);
  return out.subarray(0, n);
}

function weriftProtect(w: WeriftSrtpSession, plain: Buffer): Buffer {
  const pkt = RtpPacket.deSerialize(plain);
  return w.encrypt(pkt.payload, pkt.header);
}

describe('SrtpSession vs werift-rtp', () => {
  for (const profile of PROFILES) {
    const name = srtpProfileParams(profile.ours).name;

    it(`${name}: RTP protected by us equals werift's output and werift decrypts it (random SSRCs, payloads, CSRCs)`, () => {
      const { ours, werift } = setup(profile);
      const ssrcs = Array.from({ length: 5 }, () => randomBytes(4).readUInt32BE(0));
      for (let i = 0; i < 300; i++) {
        const ssrc = ssrcs[i % ssrcs.length] as number;
        const plain = randomRtp(ssrc, (1000 + i) & 0xffff, i % 4);
        const mine = oursProtect(ours, plain);
        const theirs = weriftProtect(werift, plain);
        expect(mine.toString('hex')).toBe(theirs.toString('hex'));
        expect(werift.decrypt(Buffer.from(mine))).toEqual(plain);
      }
    });

    it(`${name}: RTP protected by werift is unprotected by us`, () => {
      const { oursRx, werift } = setup(profile);
      for (let i = 0; i < 300; i++) {
        const plain = randomRtp(randomBytes(4).readUInt32BE(0), randomBytes(2).readUInt16BE(0));
        const wire = weriftProtect(werift, plain);
        const srtp = Buffer.from(wire);
        expect(oursRx.unprotectRtp(srtp, srtp.length)).toBe(plain.length);
        expect(srtp.subarray(0, plain.length)).toEqual(plain);
        // The same packet again is a replay (werift itself doesn't check).
        const again = Buffer.from(wire);
        expect(oursRx.unprotectRtp(again, again.length)).toBe(SrtpDropReason.Replayed);
      }
    });

    it(`${name}: ROC rollover (65530 … 65535, 0 … 40) agrees in both directions`, () => {
      const a = setup(profile);
      const b = setup(profile);
      const ssrc = 0x5eed_1234;
      for (let ext = 65530; ext < 65536 + 40; ext++) {
        const seq = ext & 0xffff;
        const plain = randomRtp(ssrc, seq);
        // ours → werift: equal bytes, and werift decrypts with its own ROC tracking.
        const mine = oursProtect(a.ours, plain);
        const theirs = weriftProtect(a.werift, plain);
        expect(mine.toString('hex'), `seq ${seq}`).toBe(theirs.toString('hex'));
        expect(a.werift.decrypt(Buffer.from(mine))).toEqual(plain);
        // werift → ours.
        const srtp = Buffer.from(weriftProtect(b.werift, plain));
        expect(b.oursRx.unprotectRtp(srtp, srtp.length), `seq ${seq}`).toBe(plain.length);
        expect(srtp.subarray(0, plain.length)).toEqual(plain);
      }
    });

    it(`${name}: SRTCP both ways (werift's first index is 1)`, () => {
      const { ours, oursRx, weriftRtcp } = setup(profile);
      const ssrcs = Array.from({ length: 4 }, () => randomBytes(4).readUInt32BE(0));
      for (const ssrc of ssrcs) ours.setNextRtcpIndex(ssrc, 1);
      for (let i = 0; i < 200; i++) {
        const plain = randomRtcp(ssrcs[i % ssrcs.length] as number);
        const mine = oursProtectRtcp(ours, plain);
        const theirs = weriftRtcp.encrypt(plain);
        expect(mine.toString('hex')).toBe(theirs.toString('hex'));
        expect(weriftRtcp.decrypt(Buffer.from(mine))).toEqual(plain);
        const fromWerift = Buffer.from(theirs);
        expect(oursRx.unprotectRtcp(fromWerift, fromWerift.length)).toBe(plain.length);
        expect(fromWerift.subarray(0, plain.length)).toEqual(plain);
      }
    });

    it(`${name}: werift rejects our packets after tampering; we reject werift's`, () => {
      const { ours, oursRx, werift } = setup(profile);
      const plain = randomRtp(42, 7);
      const mine = Buffer.from(oursProtect(ours, plain));
      mine[mine.length - 1] = (mine[mine.length - 1] as number) ^ 0xff;
      expect(() => werift.decrypt(mine)).toThrow();
      const theirs = Buffer.from(weriftProtect(werift, plain));
      theirs[20] = (theirs[20] as number) ^ 0x01;
      expect(oursRx.unprotectRtp(theirs, theirs.length)).toBeLessThan(0);
    });
  }
});
