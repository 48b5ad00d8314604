import { createSign, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { certificateFingerprint, createBridgeCertificate, matchesFingerprint, normalizeFingerprint } from './certificate.js';
import { dtlsRoleFor, verifyTlsSignature } from './dtls.js';

describe('dtlsRoleFor()', () => {
  it('maps the peer setup to our role (RFC 5763 §5)', () => {
    expect(dtlsRoleFor('active')).toBe('server');
    expect(dtlsRoleFor(undefined)).toBe('server');
    expect(dtlsRoleFor('passive')).toBe('client');
    expect(dtlsRoleFor('actpass')).toBe('client');
  });
});

describe('verifyTlsSignature()', () => {
  const data = Buffer.from('handshake transcript');
  it('verifies ECDSA P-256/SHA-256 (0x0403) and rejects tampering or a different key', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    const sig = createSign('sha256').update(data).sign(privateKey);
    expect(verifyTlsSignature(4, 3, data, sig, publicKey)).toBe(true);
    expect(verifyTlsSignature(4, 3, Buffer.from('other transcript'), sig, publicKey)).toBe(false);
    expect(verifyTlsSignature(4, 3, data, sig, other)).toBe(false);
    expect(verifyTlsSignature(4, 1, data, sig, publicKey)).toBe(false); // says RSA, key is EC
    expect(verifyTlsSignature(2, 3, data, sig, publicKey)).toBe(false); // SHA-1 not accepted
  });

  it('verifies RSA PKCS#1 (0x0401) and RSA-PSS (0x0804)', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pkcs1 = createSign('sha256').update(data).sign(privateKey);
    expect(verifyTlsSignature(4, 1, data, pkcs1, publicKey)).toBe(true);
    const pss = createSign('sha256').update(data).sign({ key: privateKey, padding: 6, saltLength: 32 });
    expect(verifyTlsSignature(8, 4, data, pss, publicKey)).toBe(true);
    expect(verifyTlsSignature(8, 4, data, pkcs1, publicKey)).toBe(false);
  });
});

describe('bridge certificate', () => {
  it('is ECDSA P-256 with a SHA-256 fingerprint in RFC 8122 form', async () => {
    const c = await createBridgeCertificate();
    expect(c.fingerprint.hash).toBe('sha-256');
    expect(c.fingerprint.value).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(c.certPem).toContain('BEGIN CERTIFICATE');
    expect(c.keyPem).toContain('BEGIN PRIVATE KEY');
    expect(certificateFingerprint(c.der, 'SHA-256')).toBe(c.fingerprint.value);
    expect(matchesFingerprint(c.der, [{ hash: 'sha-256', value: c.fingerprint.value.toLowerCase() }])).toBe(true);
    expect(matchesFingerprint(c.der, [{ hash: 'sha-1', value: certificateFingerprint(c.der, 'sha-1') as string }])).toBe(true);
    expect(matchesFingerprint(c.der, [{ hash: 'md5', value: 'AA' }])).toBe(false);
    expect(matchesFingerprint(c.der, [])).toBe(false);
    expect(normalizeFingerprint('ab:cd')).toBe('ABCD');
    const other = await createBridgeCertificate();
    expect(other.fingerprint.value).not.toBe(c.fingerprint.value);
  });
});
