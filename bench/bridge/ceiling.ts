/**
 * The SRTP crypto ceiling of one forwarded packet, measured in the bridge bench's own run (on the
 * same machine, right before the bridge starts, so the numbers are comparable).
 *
 * A forwarded packet costs at least one SRTP unprotect (decrypt + verify) and one protect (encrypt +
 * tag) of its size: ceiling packets/s on one core = 1e6 / (unprotect µs + protect µs). Two variants
 * are measured, with the method of bench/srtp/srtp.ts (its functions are private to that file, so
 * they are re-implemented here the same way: distinct packets with sequential sequence numbers, a
 * fresh receive session per round, warm-up rounds, best round reported):
 *
 * - `srtpSession`: the bridge's own SrtpSession (AES_CM_128_HMAC_SHA1_80 on node:crypto with the
 *   cipher state reused per stream) — what the bridge actually does per packet; the strict ceiling.
 * - `rawNodeCrypto`: the naive node:crypto way, one createCipheriv(aes-128-ctr) + one
 *   createHmac(sha1) per packet (the "raw node:crypto ceiling" row of the srtp bench).
 */
import { createCipheriv, createHmac, randomBytes } from 'node:crypto';
import { SrtpProfile, SrtpSession, srtpProfileParams, writeRtpHeader } from '@jitsi-one/bridge';

export interface CeilingVariant {
  /** µs per packet, best round. */
  unprotectUs: number;
  protectUs: number;
  /** 1e6 / (unprotectUs + protectUs). */
  packetsPerSecond: number;
}

export interface Ceiling {
  sizeBytes: number;
  srtpSession: CeilingVariant;
  rawNodeCrypto: CeilingVariant;
}

function measure(packets: number, rounds: number, prepare: () => void, body: (n: number) => number): number {
  let best = Infinity;
  let sink = 0;
  for (let r = 0; r < rounds + 3; r++) {
    prepare();
    const t0 = process.hrtime.bigint();
    sink ^= body(packets);
    const us = Number(process.hrtime.bigint() - t0) / 1000 / packets;
    if (r >= 3 && us < best) best = us;
  }
  if (sink === 0x7fff_fff1) process.stderr.write('');
  return best;
}

function variant(unprotectUs: number, protectUs: number): CeilingVariant {
  return { unprotectUs, protectUs, packetsPerSecond: 1e6 / (unprotectUs + protectUs) };
}

/** Measures both variants for RTP packets of `size` bytes (before protection). Takes about a second. */
export function measureCeiling(size: number, packets = 2000, rounds = 9): Ceiling {
  const profile = SrtpProfile.AES128_CM_HMAC_SHA1_80;
  const p = srtpProfileParams(profile);
  const keys = { masterKey: randomBytes(p.keyLength), masterSalt: randomBytes(p.saltLength) };
  const plain: Buffer[] = [];
  for (let i = 0; i < packets; i++) {
    const b = Buffer.allocUnsafeSlow(size);
    randomBytes(size).copy(b);
    writeRtpHeader(b, { payloadType: 100, sequenceNumber: (1000 + i) & 0xffff, timestamp: 90 * i, ssrc: 0x1234_5678 });
    plain.push(b);
  }

  // Ours: unprotect of distinct packets into work buffers (as the receive path does), protect into one scratch.
  const sender = new SrtpSession(profile, keys);
  const protectedPackets = plain.map((b) => {
    const out = Buffer.allocUnsafeSlow(b.length + 32);
    return out.subarray(0, sender.protectRtp(b, b.length, out));
  });
  const work = protectedPackets.map((b) => Buffer.allocUnsafeSlow(b.length + 32));
  let rx = new SrtpSession(profile, keys);
  const unprotectUs = measure(
    packets,
    rounds,
    () => {
      rx = new SrtpSession(profile, keys);
      for (let i = 0; i < work.length; i++) (protectedPackets[i] as Buffer).copy(work[i] as Buffer);
    },
    (n) => {
      let acc = 0;
      for (let i = 0; i < n; i++) acc += rx.unprotectRtp(work[i] as Buffer, (protectedPackets[i] as Buffer).length);
      return acc;
    },
  );
  let tx = new SrtpSession(profile, keys);
  const out = Buffer.allocUnsafeSlow(size + 32);
  const protectUs = measure(
    packets,
    rounds,
    () => {
      tx = new SrtpSession(profile, keys);
    },
    (n) => {
      let acc = 0;
      for (let i = 0; i < n; i++) {
        const b = plain[i] as Buffer;
        acc += tx.protectRtp(b, b.length, out);
      }
      return acc;
    },
  );

  // Raw node:crypto, one cipher and one HMAC object per packet (same work both ways).
  const key = randomBytes(16);
  const authKey = randomBytes(20);
  const iv = randomBytes(16);
  const roc = Buffer.alloc(4);
  const rawUs = measure(
    packets,
    rounds,
    () => {},
    (n) => {
      let acc = 0;
      for (let i = 0; i < n; i++) {
        const b = plain[i] as Buffer;
        iv.writeUInt16BE(i & 0xffff, 12);
        const ct = createCipheriv('aes-128-ctr', key, iv).update(b.subarray(12));
        const tag = createHmac('sha1', authKey).update(b.subarray(0, 12)).update(ct).update(roc).digest();
        acc += (tag[0] as number) + ct.length;
      }
      return acc;
    },
  );

  return { sizeBytes: size, srtpSession: variant(unprotectUs, protectUs), rawNodeCrypto: variant(rawUs, rawUs) };
}
