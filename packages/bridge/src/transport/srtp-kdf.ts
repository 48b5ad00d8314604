/**
 * SRTP key derivation: session keys from the master key and salt with the AES-CM PRF.
 * Runs once per SrtpSession (key_derivation_rate 0, as DTLS-SRTP mandates), never per packet.
 *
 * References:
 * - RFC 3711 §4.3.1 (key_id = label || r, x = key_id XOR master_salt, PRF_n(k_master, x) =
 *   first n bits of AES-CM(k_master, IV = x · 2^16)), §4.3.2 (labels 0x00–0x05), §4.3.3
 *   (AES-CM PRF): https://www.rfc-editor.org/rfc/rfc3711#section-4.3
 * - RFC 5764 §4.1.2 (DTLS-SRTP uses kdr 0): https://www.rfc-editor.org/rfc/rfc5764#section-4.1.2
 * - RFC 6188 §5 (AES-192/256 CM PRF for the 256-bit key of AEAD_AES_256_GCM):
 *   https://www.rfc-editor.org/rfc/rfc6188#section-5
 * - RFC 7714 §11 (AEAD profiles derive with the same KDF from a 96-bit master salt; like libsrtp
 *   we pad it with two zero octets to the KDF's 112 bits): https://www.rfc-editor.org/rfc/rfc7714#section-11
 */
import { createCipheriv } from 'node:crypto';

/** KDF labels (RFC 3711 §4.3.2). */
export const SrtpKdfLabel = {
  RtpEncryption: 0x00,
  RtpAuthentication: 0x01,
  RtpSalt: 0x02,
  RtcpEncryption: 0x03,
  RtcpAuthentication: 0x04,
  RtcpSalt: 0x05,
} as const;

/**
 * PRF_n(k_master, x) of RFC 3711 §4.3.1 with kdr 0 (so r = 0 and x = master_salt XOR label · 2^48):
 * `length` bytes of AES-CM keystream with IV = x · 2^16, where `masterSalt` is 14 bytes (shorter
 * salts are right-padded with zeros) and the cipher is AES-128 or AES-256 by key length.
 */
export function deriveSrtpKey(masterKey: Buffer, masterSalt: Buffer, label: number, length: number): Buffer {
  if (masterKey.length !== 16 && masterKey.length !== 32) throw new TypeError('SRTP master key must be 16 or 32 bytes');
  if (masterSalt.length > 14) throw new TypeError('SRTP master salt must be at most 14 bytes');
  const blocks = Math.ceil(length / 16);
  const input = Buffer.alloc(blocks * 16);
  for (let b = 0; b < blocks; b++) {
    const off = b * 16;
    masterSalt.copy(input, off);
    // key_id = label (8 bits) || r (48 bits, 0) is right-aligned on the 112-bit salt: the label
    // lands on byte 7 (§4.3.1).
    input[off + 7] = (input[off + 7] as number) ^ label;
    input.writeUInt16BE(b, off + 14);
  }
  const ecb = createCipheriv(masterKey.length === 32 ? 'aes-256-ecb' : 'aes-128-ecb', masterKey, null);
  ecb.setAutoPadding(false);
  const out = Buffer.concat([ecb.update(input), ecb.final()]);
  return out.subarray(0, length);
}
