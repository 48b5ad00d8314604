/**
 * TLS material for HTTPS (and XMPP STARTTLS): the configured PEM files, or a self-signed certificate generated in
 * memory at start. Nothing is written to disk; a generated key lives only as long as the process.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { createSecureContext } from 'node:tls';
import { generate } from 'selfsigned';
import type { HttpConfig } from './config.js';
import { ConfigError } from './errors.js';

export interface TlsMaterial {
  key: string | Buffer;
  cert: string | Buffer;
  /** True when generated at start (browsers will warn; fine for trying things out on a LAN). */
  selfSigned: boolean;
  /** SHA-256 fingerprint of a generated certificate (`AA:BB:...`), for users who want to check it. */
  fingerprint?: string;
}

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '']);

/**
 * Reads `http.tls.certFile`/`keyFile` if set, otherwise generates a self-signed certificate for `names`
 * (DNS names and IP addresses), plus `localhost`, `127.0.0.1` and `::1`.
 * @throws ConfigError when a file cannot be read or key and certificate do not match.
 */
export async function loadTlsMaterial(http: HttpConfig, names: readonly string[]): Promise<TlsMaterial> {
  const { certFile, keyFile } = http.tls;
  if (certFile !== undefined && keyFile !== undefined) {
    const cert = readPem(certFile, 'http.tls.certFile');
    const key = readPem(keyFile, 'http.tls.keyFile');
    try {
      createSecureContext({ key, cert });
    } catch (err) {
      throw new ConfigError([{ path: 'http.tls', message: `unusable certificate or key: ${(err as Error).message}` }], {
        cause: err,
      });
    }
    return { key, cert, selfSigned: false };
  }
  const all = [...names, http.host, 'localhost', '127.0.0.1', '::1'].filter((n) => !WILDCARD_HOSTS.has(n));
  return generateSelfSigned([...new Set(all.map((n) => n.toLowerCase()))]);
}

function readPem(file: string, path: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : String(code ?? err);
    throw new ConfigError([{ path, message: `cannot read ${file}: ${why}` }], { cause: err });
  }
}

/** An EC P-256 self-signed server certificate valid for one year, for the given DNS names and IPs (first = CN). */
export async function generateSelfSigned(names: readonly string[]): Promise<TlsMaterial> {
  const cn = names.find((n) => isIP(n) === 0) ?? 'localhost';
  const now = Date.now();
  const pems = await generate([{ name: 'commonName', value: cn }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(now - 60 * 60 * 1000),
    notAfterDate: new Date(now + 365 * 24 * 60 * 60 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: names.map((n) => (isIP(n) === 0 ? { type: 2 as const, value: n } : { type: 7 as const, ip: n })),
      },
    ],
  });
  const fingerprint = new X509Certificate(pems.cert).fingerprint256;
  return { key: pems.private, cert: pems.cert, selfSigned: true, fingerprint };
}
