/**
 * STUN messages as ICE uses them (RFC 5389 format, RFC 8445 attributes): parse, verify
 * (MESSAGE-INTEGRITY with short-term credentials, FINGERPRINT) and build. Written here rather than
 * taken from werift-ice because the bridge demultiplexes every endpoint on one socket and needs the
 * USERNAME before it knows whose message it is (see ice.ts for the decision).
 *
 * Cost: ICE checks and consent run a few times per second per endpoint, not per media packet, so a
 * parsed {@link StunMessage} object per STUN datagram is fine. Parsing never throws: malformed input
 * yields `undefined`.
 *
 * References:
 * - RFC 5389 §6 (header, magic cookie, transaction id), §15 (attributes: §15.2 XOR-MAPPED-ADDRESS,
 *   §15.3 USERNAME, §15.4 MESSAGE-INTEGRITY, §15.5 FINGERPRINT, §15.6 ERROR-CODE), §10.1.2 (the
 *   short-term credential key is the password): https://www.rfc-editor.org/rfc/rfc5389
 * - RFC 8445 §7.1.1 (PRIORITY, USE-CANDIDATE, ICE-CONTROLLED, ICE-CONTROLLING), §16.1 (attribute
 *   codepoints): https://www.rfc-editor.org/rfc/rfc8445#section-16.1
 * - RFC 5769 (test vectors used in stun.test.ts): https://www.rfc-editor.org/rfc/rfc5769
 * - RFC 1952 §8 / ISO 3309 (the CRC-32 polynomial 0xEDB88320, reflected).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';

/** Size of the fixed STUN header in bytes. */
export const STUN_HEADER_SIZE = 20;
/** The magic cookie in bytes 4–7 of every RFC 5389 message. */
export const STUN_MAGIC_COOKIE = 0x2112a442;
/** XORed into the CRC-32 of the message for FINGERPRINT (RFC 5389 §15.5). */
export const STUN_FINGERPRINT_XOR = 0x5354554e;
/** Length of a STUN transaction id in bytes. */
export const STUN_TRANSACTION_ID_SIZE = 12;
/** HMAC-SHA1 output length (MESSAGE-INTEGRITY value). */
const INTEGRITY_SIZE = 20;

/** Message classes, already spread into the type bits (C1 = 0x0100, C0 = 0x0010). */
export const StunClass = {
  Request: 0x0000,
  Indication: 0x0010,
  SuccessResponse: 0x0100,
  ErrorResponse: 0x0110,
} as const;
/** One of the {@link StunClass} values. */
export type StunClass = (typeof StunClass)[keyof typeof StunClass];

/** STUN methods (only Binding is used by ICE). */
export const StunMethod = { Binding: 0x0001 } as const;

/** Message types used by ICE (method | class). */
export const StunType = {
  BindingRequest: 0x0001,
  BindingIndication: 0x0011,
  BindingSuccess: 0x0101,
  BindingError: 0x0111,
} as const;

/** Attribute codepoints this module knows (RFC 5389 §18.2, RFC 8445 §16.1). */
export const StunAttr = {
  MappedAddress: 0x0001,
  Username: 0x0006,
  MessageIntegrity: 0x0008,
  ErrorCode: 0x0009,
  UnknownAttributes: 0x000a,
  XorMappedAddress: 0x0020,
  Priority: 0x0024,
  UseCandidate: 0x0025,
  Software: 0x8022,
  Fingerprint: 0x8028,
  IceControlled: 0x8029,
  IceControlling: 0x802a,
} as const;

/** A transport address (IPv4 dotted quad or IPv6 text) and port. */
export interface StunAddress {
  /** IP address as text. */
  address: string;
  /** UDP port. */
  port: number;
  /** Address family. */
  family: 4 | 6;
}

/** A parsed STUN message. Offsets refer to the buffer it was parsed from. */
export interface StunMessage {
  /** Full 14-bit message type (method | class). */
  type: number;
  /** Method bits (type without the class bits). */
  method: number;
  /** Class bits, one of {@link StunClass}. */
  cls: StunClass;
  /** The 12-byte transaction id (a view into the parsed buffer). */
  transactionId: Buffer;
  /** Total message length in bytes (header + attributes). */
  length: number;
  /** USERNAME (UTF-8). */
  username?: string;
  /** PRIORITY (uint32). */
  priority?: number;
  /** USE-CANDIDATE present. */
  useCandidate: boolean;
  /** ICE-CONTROLLING tie-breaker. */
  iceControlling?: bigint;
  /** ICE-CONTROLLED tie-breaker. */
  iceControlled?: bigint;
  /** XOR-MAPPED-ADDRESS, decoded. */
  xorMappedAddress?: StunAddress;
  /** ERROR-CODE (class·100 + number) and reason phrase. */
  errorCode?: { code: number; reason: string };
  /** SOFTWARE. */
  software?: string;
  /** Offset of the MESSAGE-INTEGRITY attribute header, or -1. */
  integrityOffset: number;
  /** Offset of the FINGERPRINT attribute header, or -1. */
  fingerprintOffset: number;
  /** First comprehension-required attribute (type < 0x8000) this module does not know, or -1. */
  unknownRequiredAttribute: number;
}

/**
 * True when `buf[0, len)` has the shape of an RFC 5389 message: top two bits zero, magic cookie,
 * a length field that is a multiple of 4 and matches the datagram. Reads 8 bytes.
 */
export function isStunMessage(buf: Uint8Array, len: number = buf.length): boolean {
  if (len < STUN_HEADER_SIZE || len > buf.length) return false;
  if (((buf[0] as number) & 0xc0) !== 0) return false;
  const bodyLen = (((buf[2] as number) << 8) | (buf[3] as number)) >>> 0;
  if ((bodyLen & 3) !== 0 || bodyLen + STUN_HEADER_SIZE !== len) return false;
  return (
    buf[4] === 0x21 && buf[5] === 0x12 && buf[6] === 0xa4 && buf[7] === 0x42
  );
}

/**
 * Parses the STUN message in `buf[0, len)`. Returns `undefined` for anything malformed (bad header,
 * truncated attribute, FINGERPRINT not last, bad lengths of known attributes). Attributes after
 * MESSAGE-INTEGRITY other than FINGERPRINT are ignored (RFC 5389 §15.4).
 */
export function parseStunMessage(buf: Buffer, len: number = buf.length): StunMessage | undefined {
  if (!isStunMessage(buf, len)) return undefined;
  const type = buf.readUInt16BE(0);
  const msg: StunMessage = {
    type,
    method: type & ~0x0110,
    cls: (type & 0x0110) as StunClass,
    transactionId: buf.subarray(8, STUN_HEADER_SIZE),
    length: len,
    useCandidate: false,
    integrityOffset: -1,
    fingerprintOffset: -1,
    unknownRequiredAttribute: -1,
  };
  let off = STUN_HEADER_SIZE;
  while (off < len) {
    if (off + 4 > len) return undefined;
    const attrType = buf.readUInt16BE(off);
    const attrLen = buf.readUInt16BE(off + 2);
    const v = off + 4;
    const next = v + ((attrLen + 3) & ~3);
    if (next > len) return undefined;
    if (msg.fingerprintOffset >= 0) return undefined; // §15.5: FINGERPRINT is the last attribute
    if (attrType === StunAttr.Fingerprint) {
      if (attrLen !== 4) return undefined;
      msg.fingerprintOffset = off;
    } else if (msg.integrityOffset >= 0) {
      // §15.4: everything but FINGERPRINT after MESSAGE-INTEGRITY is ignored.
    } else {
      switch (attrType) {
        case StunAttr.MessageIntegrity:
          if (attrLen !== INTEGRITY_SIZE) return undefined;
          msg.integrityOffset = off;
          break;
        case StunAttr.Username:
          if (attrLen > 513) return undefined; // §15.3
          msg.username = buf.toString('utf8', v, v + attrLen);
          break;
        case StunAttr.Priority:
          if (attrLen !== 4) return undefined;
          msg.priority = buf.readUInt32BE(v);
          break;
        case StunAttr.UseCandidate:
          if (attrLen !== 0) return undefined;
          msg.useCandidate = true;
          break;
        case StunAttr.IceControlling:
          if (attrLen !== 8) return undefined;
          msg.iceControlling = buf.readBigUInt64BE(v);
          break;
        case StunAttr.IceControlled:
          if (attrLen !== 8) return undefined;
          msg.iceControlled = buf.readBigUInt64BE(v);
          break;
        case StunAttr.XorMappedAddress: {
          const a = decodeXorAddress(buf, v, attrLen);
          if (a === undefined) return undefined;
          msg.xorMappedAddress = a;
          break;
        }
        case StunAttr.ErrorCode: {
          if (attrLen < 4) return undefined;
          const cls = (buf[v + 2] as number) & 0x07;
          const num = buf[v + 3] as number;
          if (cls < 3 || num > 99) return undefined; // RFC 5389 §15.6: class 3–6, number 0–99
          msg.errorCode = { code: cls * 100 + num, reason: buf.toString('utf8', v + 4, v + attrLen) };
          break;
        }
        case StunAttr.Software:
          msg.software = buf.toString('utf8', v, v + attrLen);
          break;
        default:
          if (attrType < 0x8000 && msg.unknownRequiredAttribute < 0 && attrType !== StunAttr.MappedAddress && attrType !== StunAttr.UnknownAttributes) {
            msg.unknownRequiredAttribute = attrType;
          }
      }
    }
    off = next;
  }
  return msg;
}

/** Copy of a header with its length field rewritten, for the MESSAGE-INTEGRITY input (sync use only). */
const headerScratch = Buffer.alloc(STUN_HEADER_SIZE);

/**
 * Checks MESSAGE-INTEGRITY (RFC 5389 §15.4): HMAC-SHA1 keyed with `key` (for ICE, the UTF-8 bytes of
 * the password of the agent that receives the request, §10.1.2) over the message up to the attribute,
 * with the header length counting up to the end of MESSAGE-INTEGRITY. Constant-time comparison.
 */
export function verifyMessageIntegrity(buf: Buffer, msg: StunMessage, key: Buffer): boolean {
  const mi = msg.integrityOffset;
  if (mi < 0) return false;
  buf.copy(headerScratch, 0, 0, STUN_HEADER_SIZE);
  headerScratch.writeUInt16BE(mi + 4 + INTEGRITY_SIZE - STUN_HEADER_SIZE, 2);
  const mac = createHmac('sha1', key).update(headerScratch).update(buf.subarray(STUN_HEADER_SIZE, mi)).digest();
  return timingSafeEqual(mac, buf.subarray(mi + 4, mi + 4 + INTEGRITY_SIZE));
}

/** Checks FINGERPRINT (RFC 5389 §15.5): CRC-32 of the message up to the attribute, XOR 0x5354554e. */
export function verifyFingerprint(buf: Buffer, msg: StunMessage): boolean {
  const fp = msg.fingerprintOffset;
  if (fp < 0) return false;
  return ((crc32(buf, 0, fp) ^ STUN_FINGERPRINT_XOR) >>> 0) === buf.readUInt32BE(fp + 4);
}

const CRC_TABLE = ((): Uint32Array => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (ISO 3309 / zlib polynomial) of `buf[start, end)`. Node 20 has no zlib.crc32. */
export function crc32(buf: Uint8Array, start = 0, end: number = buf.length): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = (CRC_TABLE[(c ^ (buf[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function decodeXorAddress(buf: Buffer, v: number, attrLen: number): StunAddress | undefined {
  if (attrLen < 4) return undefined;
  const family = buf[v + 1];
  const port = buf.readUInt16BE(v + 2) ^ (STUN_MAGIC_COOKIE >>> 16);
  if (family === 0x01) {
    if (attrLen !== 8) return undefined;
    const a = (buf.readUInt32BE(v + 4) ^ STUN_MAGIC_COOKIE) >>> 0;
    return { address: `${a >>> 24}.${(a >>> 16) & 0xff}.${(a >>> 8) & 0xff}.${a & 0xff}`, port, family: 4 };
  }
  if (family === 0x02) {
    if (attrLen !== 20) return undefined;
    const bytes = Buffer.allocUnsafe(16);
    // XOR with magic cookie ‖ transaction id, which are bytes 4–19 of the header.
    for (let i = 0; i < 16; i++) bytes[i] = (buf[v + 4 + i] as number) ^ (buf[4 + i] as number);
    return { address: formatIpv6(bytes), port, family: 6 };
  }
  return undefined;
}

/** Parses IPv4 text into 4 bytes; undefined when not a dotted quad. */
export function parseIpv4(ip: string): Buffer | undefined {
  if (!isIPv4(ip)) return undefined;
  const out = Buffer.allocUnsafe(4);
  const parts = ip.split('.');
  for (let i = 0; i < 4; i++) out[i] = Number(parts[i]);
  return out;
}

/** Parses IPv6 text (with `::` and an optional embedded IPv4 tail) into 16 bytes. */
export function parseIpv6(ip: string): Buffer | undefined {
  if (!isIPv6(ip)) return undefined;
  const zone = ip.indexOf('%');
  let s = zone >= 0 ? ip.slice(0, zone) : ip;
  const out = Buffer.alloc(16);
  let tail: Buffer | undefined;
  const lastColon = s.lastIndexOf(':');
  if (s.indexOf('.', lastColon) >= 0) {
    tail = parseIpv4(s.slice(lastColon + 1));
    if (tail === undefined) return undefined;
    s = `${s.slice(0, lastColon + 1)}0:0`;
  }
  const halves = s.split('::');
  const head = halves[0] === '' ? [] : (halves[0] as string).split(':');
  const rest = halves.length > 1 ? (halves[1] === '' ? [] : (halves[1] as string).split(':')) : [];
  const groups = halves.length > 1 ? [...head, ...new Array<string>(8 - head.length - rest.length).fill('0'), ...rest] : head;
  if (groups.length !== 8) return undefined;
  for (let i = 0; i < 8; i++) out.writeUInt16BE(parseInt(groups[i] as string, 16), i * 2);
  if (tail !== undefined) tail.copy(out, 12);
  return out;
}

/** Formats 16 bytes as compressed IPv6 text (RFC 5952: longest zero run of ≥ 2 groups becomes `::`). */
export function formatIpv6(b: Uint8Array): string {
  const g: number[] = [];
  for (let i = 0; i < 16; i += 2) g.push(((b[i] as number) << 8) | (b[i + 1] as number));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (x: number[]): string => x.map((n) => n.toString(16)).join(':');
  if (bestStart < 0) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
}

/** Options of {@link StunMessageBuilder.build}. */
export interface StunBuildOptions {
  /** Append MESSAGE-INTEGRITY keyed with this (ICE: the UTF-8 password of the peer's side, §10.1.2). */
  integrityKey?: Buffer;
  /** Append FINGERPRINT (ICE agents always do, RFC 8445 §7). */
  fingerprint?: boolean;
}

/**
 * Builds one STUN message: header, attributes in the order added, then optional
 * MESSAGE-INTEGRITY and FINGERPRINT. Padding bytes are zero.
 *
 * ```ts
 * const req = new StunMessageBuilder(StunType.BindingRequest, txId)
 *   .addUsername(`${remoteUfrag}:${localUfrag}`).addPriority(p).addIceControlling(tieBreaker)
 *   .build({ integrityKey: remotePwdKey, fingerprint: true });
 * ```
 */
export class StunMessageBuilder {
  readonly #type: number;
  readonly #transactionId: Buffer;
  readonly #attrs: Buffer[] = [];
  #length = 0;

  /** `transactionId` must be 12 bytes; it is copied into the message. */
  constructor(type: number, transactionId: Uint8Array) {
    if (transactionId.length !== STUN_TRANSACTION_ID_SIZE) throw new TypeError('STUN transaction id must be 12 bytes');
    this.#type = type;
    this.#transactionId = Buffer.from(transactionId);
  }

  /** Adds an attribute with a raw value (padded to 4 bytes with zeros). */
  addAttribute(type: number, value: Uint8Array): this {
    if (value.length > 0xffff) throw new TypeError('STUN attribute too long');
    const a = Buffer.alloc(4 + ((value.length + 3) & ~3));
    a.writeUInt16BE(type, 0);
    a.writeUInt16BE(value.length, 2);
    a.set(value, 4);
    this.#attrs.push(a);
    this.#length += a.length;
    return this;
  }

  /** USERNAME (RFC 5389 §15.3). */
  addUsername(username: string): this {
    return this.addAttribute(StunAttr.Username, Buffer.from(username, 'utf8'));
  }

  /** SOFTWARE (RFC 5389 §15.10). */
  addSoftware(software: string): this {
    return this.addAttribute(StunAttr.Software, Buffer.from(software, 'utf8'));
  }

  /** PRIORITY (RFC 8445 §7.1.1). */
  addPriority(priority: number): this {
    const v = Buffer.allocUnsafe(4);
    v.writeUInt32BE(priority >>> 0, 0);
    return this.addAttribute(StunAttr.Priority, v);
  }

  /** USE-CANDIDATE (RFC 8445 §7.1.2). */
  addUseCandidate(): this {
    return this.addAttribute(StunAttr.UseCandidate, Buffer.alloc(0));
  }

  /** ICE-CONTROLLING with a 64-bit tie-breaker (RFC 8445 §7.1.3). */
  addIceControlling(tieBreaker: bigint): this {
    const v = Buffer.allocUnsafe(8);
    v.writeBigUInt64BE(tieBreaker, 0);
    return this.addAttribute(StunAttr.IceControlling, v);
  }

  /** ICE-CONTROLLED with a 64-bit tie-breaker (RFC 8445 §7.1.3). */
  addIceControlled(tieBreaker: bigint): this {
    const v = Buffer.allocUnsafe(8);
    v.writeBigUInt64BE(tieBreaker, 0);
    return this.addAttribute(StunAttr.IceControlled, v);
  }

  /** XOR-MAPPED-ADDRESS (RFC 5389 §15.2); throws TypeError for an unparsable address. */
  addXorMappedAddress(address: string, port: number): this {
    const v4 = parseIpv4(address);
    const bytes = v4 ?? parseIpv6(address);
    if (bytes === undefined) throw new TypeError('XOR-MAPPED-ADDRESS needs an IP address');
    const v = Buffer.allocUnsafe(4 + bytes.length);
    v[0] = 0;
    v[1] = v4 !== undefined ? 0x01 : 0x02;
    v.writeUInt16BE((port ^ (STUN_MAGIC_COOKIE >>> 16)) & 0xffff, 2);
    if (v4 !== undefined) {
      v.writeUInt32BE((v4.readUInt32BE(0) ^ STUN_MAGIC_COOKIE) >>> 0, 4);
    } else {
      const mask = Buffer.allocUnsafe(16);
      mask.writeUInt32BE(STUN_MAGIC_COOKIE, 0);
      this.#transactionId.copy(mask, 4);
      for (let i = 0; i < 16; i++) v[4 + i] = (bytes[i] as number) ^ (mask[i] as number);
    }
    return this.addAttribute(StunAttr.XorMappedAddress, v);
  }

  /** ERROR-CODE (RFC 5389 §15.6), e.g. 487 'Role Conflict'. */
  addErrorCode(code: number, reason: string): this {
    const r = Buffer.from(reason, 'utf8');
    const v = Buffer.alloc(4 + r.length);
    v[2] = Math.floor(code / 100) & 0x07;
    v[3] = code % 100;
    r.copy(v, 4);
    return this.addAttribute(StunAttr.ErrorCode, v);
  }

  /** Serializes the message (see {@link StunBuildOptions}). */
  build(options: StunBuildOptions = {}): Buffer {
    const miLen = options.integrityKey !== undefined ? 4 + INTEGRITY_SIZE : 0;
    const fpLen = options.fingerprint === true ? 8 : 0;
    const total = STUN_HEADER_SIZE + this.#length + miLen + fpLen;
    const out = Buffer.allocUnsafe(total);
    out.writeUInt16BE(this.#type, 0);
    out.writeUInt32BE(STUN_MAGIC_COOKIE, 4);
    this.#transactionId.copy(out, 8);
    let off = STUN_HEADER_SIZE;
    for (const a of this.#attrs) {
      a.copy(out, off);
      off += a.length;
    }
    if (options.integrityKey !== undefined) {
      // §15.4: the length covers up to and including MESSAGE-INTEGRITY while computing the HMAC.
      out.writeUInt16BE(off + miLen - STUN_HEADER_SIZE, 2);
      const mac = createHmac('sha1', options.integrityKey).update(out.subarray(0, off)).digest();
      out.writeUInt16BE(StunAttr.MessageIntegrity, off);
      out.writeUInt16BE(INTEGRITY_SIZE, off + 2);
      mac.copy(out, off + 4);
      off += miLen;
    }
    if (fpLen > 0) {
      // §15.5: the length includes FINGERPRINT while computing the CRC.
      out.writeUInt16BE(off + fpLen - STUN_HEADER_SIZE, 2);
      const crc = (crc32(out, 0, off) ^ STUN_FINGERPRINT_XOR) >>> 0;
      out.writeUInt16BE(StunAttr.Fingerprint, off);
      out.writeUInt16BE(4, off + 2);
      out.writeUInt32BE(crc, off + 4);
      off += fpLen;
    }
    out.writeUInt16BE(off - STUN_HEADER_SIZE, 2);
    return out;
  }
}
