/** Test helpers for the server package. */
import { request as httpsRequest } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';

/** Wait until `check` returns undefined/false (condition met) or fail with its last reason. Never a fixed sleep. */
export async function waitFor(check: () => string | undefined | false, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let reason: string | undefined | false = check();
  while (reason) {
    if (Date.now() > deadline) throw new Error(`waitFor timed out: ${reason}`);
    await new Promise((r) => setTimeout(r, 10));
    reason = check();
  }
}

export interface SimpleResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** GET over HTTPS trusting exactly `ca` (the server's self-signed certificate). */
export function httpsGet(url: string, ca: string | Buffer): Promise<SimpleResponse> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
