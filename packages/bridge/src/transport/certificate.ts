/**
 * The bridge's DTLS certificate: ECDSA P-256, self-signed, generated once per bridge process and
 * shared by every endpoint (as JVB does). Its SHA-256 fingerprint goes into the offer
 * (`<fingerprint hash="sha-256" setup="actpass">`, PROTOCOL.md §4.3.3).
 *
 * References:
 * - RFC 8122 §5 (fingerprint attribute: hash function name, upper-case hex pairs separated by
 *   colons): https://www.rfc-editor.org/rfc/rfc8122#section-5
 * - RFC 8827 §6.5 (WebRTC: self-signed certificates, authenticated by the signalled fingerprint):
 *   https://www.rfc-editor.org/rfc/rfc8827#section-6.5
 */
import { X509Certificate, createHash, randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

/** A DTLS fingerprint as signalled (Jingle `<fingerprint hash=…>`, SDP `a=fingerprint`). */
export interface DtlsFingerprint {
  /** Hash function name as in the IANA "Hash Function Textual Names" registry, e.g. `sha-256`. */
  hash: string;
  /** Upper-case hex pairs separated by colons. */
  value: string;
}

/** The bridge's certificate and key, in the forms werift-dtls and the signalling need. */
export interface BridgeCertificate {
  /** Certificate, PEM. */
  readonly certPem: string;
  /** PKCS#8 private key, PEM. */
  readonly keyPem: string;
  /** Certificate, DER. */
  readonly der: Buffer;
  /** SHA-256 fingerprint of `der`, for the offer. */
  readonly fingerprint: { readonly hash: 'sha-256'; readonly value: string };
}

/** Options of {@link createBridgeCertificate}. */
export interface CertificateOptions {
  /** Validity in days from now (default 365). Browsers don't check it; some stacks do. */
  validityDays?: number;
  /** Subject common name (default `jitsi-one-bridge-<random>`). */
  commonName?: string;
}

type CryptoKeyPairLike = Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0]['keys'];
type CryptoLike = NonNullable<Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[1]>;

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** Generates an ECDSA P-256 self-signed certificate. Call once per bridge; takes a few ms. */
export async function createBridgeCertificate(options: CertificateOptions = {}): Promise<BridgeCertificate> {
  const subtle = webcrypto.subtle;
  const keys = (await subtle.generateKey(ALG, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const now = Date.now();
  const cn = options.commonName ?? `jitsi-one-bridge-${randomBytes(4).toString('hex')}`;
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomBytes(8).toString('hex').replace(/^[89a-f]/, '1'), // positive INTEGER
      name: `CN=${cn}`,
      // A day of slack for peers whose clocks are behind.
      notBefore: new Date(now - 24 * 3600_000),
      notAfter: new Date(now + (options.validityDays ?? 365) * 24 * 3600_000),
      signingAlgorithm: ALG,
      keys: keys as unknown as CryptoKeyPairLike,
    },
    webcrypto as unknown as CryptoLike,
  );
  const der = Buffer.from(cert.rawData);
  const pkcs8 = Buffer.from(await subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END PRIVATE KEY-----\n`;
  const certPem = new X509Certificate(der).toString();
  return { certPem, keyPem, der, fingerprint: { hash: 'sha-256', value: certificateFingerprint(der, 'sha-256') as string } };
}

/** node:crypto digest names for the fingerprint hash names we accept. */
const HASHES: Readonly<Record<string, string>> = {
  'sha-1': 'sha1',
  'sha-224': 'sha224',
  'sha-256': 'sha256',
  'sha-384': 'sha384',
  'sha-512': 'sha512',
};

/**
 * Fingerprint of a DER certificate with the signalled hash name (`sha-256`, …, case-insensitive),
 * as upper-case colon-separated hex; `undefined` for an unsupported hash (md5/md2 are refused,
 * RFC 8122 §5).
 */
export function certificateFingerprint(der: Uint8Array, hash: string): string | undefined {
  const alg = HASHES[hash.toLowerCase()];
  if (alg === undefined) return undefined;
  return formatFingerprint(createHash(alg).update(der).digest());
}

/** Formats digest bytes as upper-case hex pairs separated by colons. */
export function formatFingerprint(digest: Uint8Array): string {
  return Buffer.from(digest.buffer, digest.byteOffset, digest.length).toString('hex').toUpperCase().replace(/(..)(?!$)/g, '$1:');
}

/** Normalizes a signalled fingerprint value for comparison: upper-case hex without separators. */
export function normalizeFingerprint(value: string): string {
  return value.replace(/[^0-9a-fA-F]/g, '').toUpperCase();
}

/**
 * True when `der` matches at least one of `fingerprints` with a supported hash. Fingerprints with
 * unsupported hashes are skipped; if none is usable the result is false (no verification → no media).
 */
export function matchesFingerprint(der: Uint8Array, fingerprints: readonly DtlsFingerprint[]): boolean {
  for (const fp of fingerprints) {
    const actual = certificateFingerprint(der, fp.hash);
    if (actual !== undefined && normalizeFingerprint(actual) === normalizeFingerprint(fp.value)) return true;
  }
  return false;
}
