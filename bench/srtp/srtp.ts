/**
 * `npx tsx bench/srtp/srtp.ts [--json]` (or `npm run bench -- srtp` through bench/run.ts):
 * per-packet SRTP cost of our SrtpSession vs werift-rtp's SrtpSession vs the raw node:crypto
 * "ceiling" (one AES-128-CTR cipher + one HMAC-SHA1 object per packet), for unprotect
 * (decrypt+verify) and protect (encrypt+tag) of a 1200-byte RTP packet. This is the bridge's
 * per-packet crypto budget: a forwarded packet costs one unprotect plus one protect per receiver.
 *
 * With --strategies it also measures the node:crypto building blocks that srtp-cm.ts chose
 * between (cipher per packet vs long-lived ECB keystream, createHmac vs two one-shot hashes, …).
 *
 * Method: for each implementation, `--rounds` timed loops over `--packets` distinct packets
 * (sequential sequence numbers, one SSRC), preceded by warm-up rounds; inputs are prepared outside
 * the timed region (fresh receive sessions per round, since replay protection rejects repeats).
 * Reported: µs per packet, min and median over rounds. The machine is shared: read the min.
 */
import { createCipheriv, createHash, createHmac, createSecretKey, hash, randomBytes, type Cipher } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { SrtpProfile, SrtpSession, srtpProfileParams, writeRtpHeader } from '@jitsi-one/bridge';
import {
  ProtectionProfileAeadAes128Gcm,
  ProtectionProfileAes128CmHmacSha1_80,
  RtpPacket,
  SrtpSession as WeriftSrtpSession,
  type RtpHeader as WeriftRtpHeader,
} from 'werift-rtp';
import { round } from '../lib/stats.js';
import { renderTable, type Row } from '../lib/table.js';

export const description = 'SRTP per-packet cost: ours vs werift-rtp vs raw node:crypto (AES-CM/HMAC and GCM)';

const USAGE = `usage: npx tsx bench/srtp/srtp.ts [options]   (or: npm run bench -- srtp [options])

  --size BYTES      RTP packet size before protection (default 1200)
  --packets N       distinct packets per timed round (default 2000)
  --rounds R        timed rounds per measurement (default 15; plus 3 warm-up rounds)
  --strategies      also measure the node:crypto building blocks (keystream and MAC options)
  --json            print one JSON object on stdout; the table goes to stderr
  -h, --help
`;

interface Measurement {
  /** µs per packet, best round. */
  minUs: number;
  /** µs per packet, median round. */
  medianUs: number;
}

interface Options {
  size: number;
  packets: number;
  rounds: number;
}

/**
 * Times `body(n)` (which processes n packets) `rounds` times after `prepare()` each round.
 * Returns µs per packet.
 */
function measure(opts: Options, prepare: () => void, body: (n: number) => number): Measurement {
  const samples: number[] = [];
  let sink = 0;
  for (let r = 0; r < opts.rounds + 3; r++) {
    prepare();
    const t0 = process.hrtime.bigint();
    sink ^= body(opts.packets);
    const ns = Number(process.hrtime.bigint() - t0);
    if (r >= 3) samples.push(ns / opts.packets / 1000);
  }
  if (sink === 0x7fff_fff1) process.stderr.write(''); // keep `sink` observable
  samples.sort((a, b) => a - b);
  return { minUs: samples[0] ?? Number.NaN, medianUs: samples[samples.length >> 1] ?? Number.NaN };
}

function makePlainPackets(opts: Options, ssrc: number): Buffer[] {
  const packets: Buffer[] = [];
  for (let i = 0; i < opts.packets; i++) {
    const buf = Buffer.allocUnsafeSlow(opts.size);
    randomBytes(opts.size).copy(buf);
    writeRtpHeader(buf, { payloadType: 96, sequenceNumber: (1000 + i) & 0xffff, timestamp: 90 * i, ssrc });
    packets.push(buf);
  }
  return packets;
}

interface ImplResult {
  unprotect: Measurement;
  protect: Measurement;
}

function benchOurs(opts: Options, profile: SrtpProfile): ImplResult {
  const p = srtpProfileParams(profile);
  const keys = { masterKey: randomBytes(p.keyLength), masterSalt: randomBytes(p.saltLength) };
  const ssrc = 0x1234_5678;
  const plain = makePlainPackets(opts, ssrc);
  const sender = new SrtpSession(profile, keys);
  const protectedPackets = plain.map((b) => {
    const out = Buffer.allocUnsafeSlow(b.length + 32);
    return out.subarray(0, sender.protectRtp(b, b.length, out));
  });
  // Work buffers like the receive path's pooled PacketInfo buffers (own ArrayBuffer, aligned).
  const work = protectedPackets.map((b) => Buffer.allocUnsafeSlow(b.length + 32));
  let rx = new SrtpSession(profile, keys);
  const unprotect = measure(
    opts,
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
  // A fresh sending session per round too: the packets repeat their sequence numbers each round.
  let tx = new SrtpSession(profile, keys);
  const out = Buffer.allocUnsafeSlow(opts.size + 32);
  const protect = measure(
    opts,
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
  return { unprotect, protect };
}

function benchWerift(opts: Options, profile: number): ImplResult {
  const keyLength = 16;
  const saltLength = profile === ProtectionProfileAeadAes128Gcm ? 12 : 14;
  const key = randomBytes(keyLength);
  const salt = randomBytes(saltLength);
  const config = { keys: { localMasterKey: key, localMasterSalt: salt, remoteMasterKey: key, remoteMasterSalt: salt }, profile };
  const plain = makePlainPackets(opts, 0x1234_5678);
  const parsed: { header: WeriftRtpHeader; payload: Buffer }[] = plain.map((b) => {
    const pkt = RtpPacket.deSerialize(b);
    return { header: pkt.header, payload: pkt.payload };
  });
  const sender = new WeriftSrtpSession(config);
  const protectedPackets = parsed.map((p) => sender.encrypt(p.payload, p.header));
  let rx = new WeriftSrtpSession(config);
  const unprotect = measure(
    opts,
    () => {
      rx = new WeriftSrtpSession(config);
    },
    (n) => {
      let acc = 0;
      for (let i = 0; i < n; i++) acc += rx.decrypt(protectedPackets[i] as Buffer).length;
      return acc;
    },
  );
  let tx = new WeriftSrtpSession(config);
  const protect = measure(
    opts,
    () => {
      tx = new WeriftSrtpSession(config);
    },
    (n) => {
      let acc = 0;
      for (let i = 0; i < n; i++) {
        const p = parsed[i] as { header: WeriftRtpHeader; payload: Buffer };
        acc += tx.encrypt(p.payload, p.header).length;
      }
      return acc;
    },
  );
  return { unprotect, protect };
}

/**
 * The brief's raw node:crypto ceiling: per packet one `createCipheriv('aes-128-ctr')` over the
 * payload and one `createHmac('sha1')` over header + payload + ROC; no parsing, no state, no
 * copies beyond what the API forces. Unprotect = MAC then decrypt, protect = encrypt then MAC.
 */
function benchCeiling(opts: Options): ImplResult {
  const key = randomBytes(16);
  const authKey = randomBytes(20);
  const iv = randomBytes(16);
  const roc = Buffer.alloc(4);
  const plain = makePlainPackets(opts, 1);
  const op = (n: number): number => {
    let acc = 0;
    for (let i = 0; i < n; i++) {
      const b = plain[i] as Buffer;
      iv.writeUInt16BE(i & 0xffff, 12);
      const ct = createCipheriv('aes-128-ctr', key, iv).update(b.subarray(12));
      const tag = createHmac('sha1', authKey).update(b.subarray(0, 12)).update(ct).update(roc).digest();
      acc += (tag[0] as number) + ct.length;
    }
    return acc;
  };
  const m = measure(opts, () => {}, op);
  return { unprotect: m, protect: m };
}

/** dst[12…] = src[12…] XOR ks, bytewise (a top-level function, as in srtp-cm.ts, so V8 optimises it alike). */
function xorBytes(src: Buffer, dst: Buffer, ks: Buffer, len: number): void {
  for (let j = 0; j < len; j++) dst[12 + j] = (src[12 + j] as number) ^ (ks[j] as number);
}

/** Same in 32-bit words through Int32Array views created per call over the three buffers. */
function xorWords(src: Buffer, dst: Buffer, ks: Buffer, len: number): void {
  const n4 = len >> 2;
  const s = new Int32Array(src.buffer, src.byteOffset + 12, n4);
  const d = new Int32Array(dst.buffer, dst.byteOffset + 12, n4);
  const k = new Int32Array(ks.buffer, ks.byteOffset, n4);
  for (let j = 0; j < n4; j++) d[j] = (s[j] as number) ^ (k[j] as number);
}

/**
 * srtp-cm.ts's way: copy the packet into a persistent aligned scratch buffer (the MAC needs it
 * there anyway), XOR in place through the scratch's persistent word view, copy the result out.
 */
function xorScratch(src: Buffer, dst: Buffer, scratch: Buffer, scratch32: Int32Array, ks32: Int32Array, len: number): void {
  src.copy(scratch, 0, 12, 12 + len);
  const n4 = len >> 2;
  for (let j = 0; j < n4; j++) scratch32[j] = (scratch32[j] as number) ^ (ks32[j] as number);
  scratch.copy(dst, 12, 0, len);
}

/** The building blocks srtp-cm.ts / srtp-gcm.ts chose between; µs per call on one packet. */
function benchStrategies(opts: Options): { name: string; m: Measurement }[] {
  const len = opts.size - 12;
  const key = randomBytes(16);
  const authKey = randomBytes(20);
  const authKeyObject = createSecretKey(authKey);
  const iv = randomBytes(16);
  const pkt = Buffer.allocUnsafeSlow(opts.size);
  randomBytes(opts.size).copy(pkt);
  const out = Buffer.allocUnsafeSlow(opts.size + 32);
  const roc = Buffer.alloc(4);
  const ecb: Cipher = createCipheriv('aes-128-ecb', key, null);
  ecb.setAutoPadding(false);
  const ctrAb = new ArrayBuffer(16 * 1024);
  const ctrs = Buffer.from(ctrAb);
  const ctr32 = new Int32Array(ctrAb);
  const blocks = (len + 15) >> 4;
  const scratchAb = new ArrayBuffer(opts.size + 16);
  const scratch = Buffer.from(scratchAb);
  const scratch32 = new Int32Array(scratchAb);
  const ecbKeystream = (i: number): Buffer => {
    for (let b = 0, o = 0; b < blocks; b++, o += 4) {
      ctr32[o] = 0x01020304;
      ctr32[o + 1] = i;
      ctr32[o + 2] = 0x05060708;
      ctr32[o + 3] = b << 24;
    }
    return ecb.update(ctrs.subarray(0, blocks << 4));
  };
  const ipad = Buffer.alloc(64 + opts.size + 4, 0x36);
  const opad = Buffer.alloc(84, 0x5c);
  for (let j = 0; j < 20; j++) {
    ipad[j] = (authKey[j] as number) ^ 0x36;
    opad[j] = (authKey[j] as number) ^ 0x5c;
  }
  const innerState = createHash('sha1').update(ipad.subarray(0, 64));
  const outerState = createHash('sha1').update(opad.subarray(0, 64));
  const macHash2 = (): Buffer => {
    pkt.copy(ipad, 64, 0, opts.size);
    roc.copy(ipad, 64 + opts.size);
    hash('sha1', ipad.subarray(0, 64 + opts.size + 4), 'buffer').copy(opad, 64);
    return hash('sha1', opad, 'buffer');
  };
  const cases: [string, (i: number) => number][] = [
    ['keystream: createCipheriv(aes-128-ctr) per packet', (i) => {
      iv.writeUInt16BE(i & 0xffff, 12);
      return createCipheriv('aes-128-ctr', key, iv).update(pkt.subarray(12))[0] as number;
    }],
    ['keystream: long-lived aes-128-ecb over counter blocks', (i) => ecbKeystream(i)[0] as number],
    ['keystream: ecb + XOR bytewise', (i) => (xorBytes(pkt, out, ecbKeystream(i), len), out[20] as number)],
    ['keystream: ecb + XOR 32-bit words, views per packet', (i) => (xorWords(pkt, out, ecbKeystream(i), len), out[20] as number)],
    ['keystream: ecb + copy in, XOR words in scratch, copy out', (i) => {
      const ks = ecbKeystream(i);
      xorScratch(pkt, out, scratch, scratch32, new Int32Array(ks.buffer, ks.byteOffset, ks.length >> 2), len);
      return out[20] as number;
    }],
    ['keystream: ecb over 8 packets per call (cost per packet)', (i) => {
      if ((i & 7) !== 0) return 0;
      for (let b = 0, o = 0; b < 8 * blocks; b++, o += 4) {
        ctr32[o] = 0x01020304;
        ctr32[o + 1] = i;
        ctr32[o + 2] = 0x05060708;
        ctr32[o + 3] = b << 24;
      }
      return ecb.update(ctrs.subarray(0, 8 * blocks * 16))[0] as number;
    }],
    ['mac: createHmac(sha1, Buffer key) per packet', () => createHmac('sha1', authKey).update(pkt).update(roc).digest()[0] as number],
    ['mac: createHmac(sha1, KeyObject) per packet', () => createHmac('sha1', authKeyObject).update(pkt).update(roc).digest()[0] as number],
    ['mac: Hash.copy() of precomputed ipad/opad states', () => {
      const inner = innerState.copy().update(pkt).update(roc).digest();
      return outerState.copy().update(inner).digest()[0] as number;
    }],
    ['mac: two one-shot crypto.hash over ipad|M|ROC, opad|inner', () => macHash2()[0] as number],
    ['mac: one crypto.hash of opad|inner alone (84 bytes)', () => hash('sha1', opad, 'buffer')[0] as number],
    ['aead: createCipheriv(aes-128-gcm) per packet, seal', (i) => {
      iv.writeUInt16BE(i & 0xffff, 10);
      const c = createCipheriv('aes-128-gcm', key, iv.subarray(0, 12));
      c.setAAD(pkt.subarray(0, 12));
      const ct = c.update(pkt.subarray(12));
      c.final();
      return (ct[0] as number) ^ (c.getAuthTag()[0] as number);
    }],
  ];
  return cases.map(([name, fn]) => ({
    name,
    m: measure(opts, () => {}, (n) => {
      let acc = 0;
      for (let i = 0; i < n; i++) acc += fn(i);
      return acc;
    }),
  }));
}

const fmt = (us: number): string => us.toFixed(2);

/** Entry point for bench/run.ts and the standalone script. Returns the process exit code. */
export async function run(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        size: { type: 'string', default: '1200' },
        packets: { type: 'string', default: '2000' },
        rounds: { type: 'string', default: '15' },
        strategies: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }).values;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
    return 1;
  }
  if (parsed.help) {
    process.stderr.write(USAGE);
    return 0;
  }
  const opts: Options = { size: Number(parsed.size), packets: Number(parsed.packets), rounds: Number(parsed.rounds) };
  if (!(opts.size >= 32 && opts.size <= 8000) || !(opts.packets >= 10) || !(opts.rounds >= 1)) {
    process.stderr.write(`bad --size/--packets/--rounds\n\n${USAGE}`);
    return 1;
  }
  const log = (line: string): void => {
    process.stderr.write(`${line}\n`);
  };
  log(`srtp bench: ${opts.size}-byte RTP packets, ${opts.packets} packets × ${opts.rounds} rounds, node ${process.version}`);

  const results = {
    cm: {
      ours: benchOurs(opts, SrtpProfile.AES128_CM_HMAC_SHA1_80),
      werift: benchWerift(opts, ProtectionProfileAes128CmHmacSha1_80),
      ceiling: benchCeiling(opts),
    },
    gcm: {
      ours: benchOurs(opts, SrtpProfile.AEAD_AES_128_GCM),
      werift: benchWerift(opts, ProtectionProfileAeadAes128Gcm),
    },
  };

  const both = (r: ImplResult): number => r.unprotect.minUs + r.protect.minUs;
  const oursCm = both(results.cm.ours);
  const rows: Row[] = [['implementation (µs/packet, min | median)', 'unprotect', 'protect', 'both (min)', 'vs ours']];
  const add = (label: string, r: ImplResult, base: number): void => {
    rows.push([
      label,
      `${fmt(r.unprotect.minUs)} | ${fmt(r.unprotect.medianUs)}`,
      `${fmt(r.protect.minUs)} | ${fmt(r.protect.medianUs)}`,
      fmt(both(r)),
      `${(both(r) / base).toFixed(2)}×`,
    ]);
  };
  add('ours AES_CM_128_HMAC_SHA1_80', results.cm.ours, oursCm);
  add('werift AES_CM_128_HMAC_SHA1_80', results.cm.werift, oursCm);
  add('node:crypto ctr+hmac per packet (ceiling)', results.cm.ceiling, oursCm);
  const oursGcm = both(results.gcm.ours);
  add('ours AEAD_AES_128_GCM', results.gcm.ours, oursGcm);
  add('werift AEAD_AES_128_GCM', results.gcm.werift, oursGcm);
  let table = renderTable(rows);

  let strategies: { name: string; m: Measurement }[] | undefined;
  if (parsed.strategies) {
    strategies = benchStrategies(opts);
    const srows: Row[] = [['node:crypto building block (one packet)', 'min µs', 'median µs']];
    for (const s of strategies) srows.push([s.name, fmt(s.m.minUs), fmt(s.m.medianUs)]);
    table += `\n\n${renderTable(srows)}`;
  }
  const budget = `per forwarded packet: 1 unprotect + 1 protect per receiver; ours AES-CM ≈ ${fmt(oursCm)} µs for one receiver (${Math.floor(1e6 / oursCm)} packets/s per core on crypto alone)`;
  table += `\n\n${budget}`;

  if (parsed.json) {
    log(`\n${table}`);
    const r2 = (m: Measurement) => ({ minUs: round(m.minUs, 3), medianUs: round(m.medianUs, 3) });
    const ir = (r: ImplResult) => ({ unprotect: r2(r.unprotect), protect: r2(r.protect), bothMinUs: round(both(r), 3) });
    const out = {
      bench: 'srtp',
      node: process.version,
      sizeBytes: opts.size,
      packets: opts.packets,
      rounds: opts.rounds,
      aesCmHmacSha1_80: { ours: ir(results.cm.ours), werift: ir(results.cm.werift), ceiling: ir(results.cm.ceiling) },
      aeadAes128Gcm: { ours: ir(results.gcm.ours), werift: ir(results.gcm.werift) },
      ...(strategies ? { strategies: strategies.map((s) => ({ name: s.name, ...r2(s.m) })) } : {}),
    };
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } else {
    process.stdout.write(`\n${table}\n`);
  }
  return 0;
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  run(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`srtp bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
