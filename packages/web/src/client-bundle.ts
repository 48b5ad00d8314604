/**
 * The browser client (`packages/web/client/`), bundled with esbuild in memory when the web app is created: no build
 * step before `npm start`, nothing written to disk. The result is two assets, `/static/app.js` and
 * `/static/app.css`, each with a content-hash ETag.
 *
 * The bundle targets browsers: `@jitsi-one/xmpp` and `@jitsi-one/focus` resolve to their `browser` entries (the
 * XML toolkit and the Jingle codec, no Node APIs), and `ltx` to the element/escape part only (`client/vendor/ltx.js`),
 * because the client parses XML with the browser's DOMParser.
 */
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

/** URL prefix of the client's assets. */
export const CLIENT_ASSET_PREFIX = '/static/';

/** One built file. */
export interface ClientAsset {
  /** Its URL path, e.g. `/static/app.js`. */
  path: string;
  /** `Content-Type`. */
  type: string;
  body: Buffer;
  /** Strong ETag (quoted), from the content hash. */
  etag: string;
}

/** The built client: assets by URL path. */
export type ClientBundle = ReadonlyMap<string, ClientAsset>;

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/** Options for {@link buildClientBundle}. */
export interface BuildClientOptions {
  /** Minify (default true). Tests and debugging may turn it off. */
  minify?: boolean;
}

/** Bundles the client. Rejects with esbuild's error when the client does not compile. */
export async function buildClientBundle(opts: BuildClientOptions = {}): Promise<ClientBundle> {
  const clientDir = fileURLToPath(new URL('../client/', import.meta.url));
  const ltxShim = `${clientDir}vendor/ltx.js`;
  const result = await esbuild.build({
    absWorkingDir: clientDir,
    entryPoints: { app: `${clientDir}src/main.ts` },
    outdir: `${clientDir}.virtual-out`, // never written (write: false); only names the outputs
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: ['es2022', 'chrome109', 'firefox115', 'safari16'],
    minify: opts.minify ?? true,
    sourcemap: false,
    charset: 'utf8',
    legalComments: 'eof',
    tsconfig: `${clientDir}tsconfig.json`,
    logLevel: 'silent',
    plugins: [
      {
        name: 'ltx-browser',
        setup(build) {
          build.onResolve({ filter: /^ltx$/ }, () => ({ path: ltxShim }));
        },
      },
    ],
  });
  const assets = new Map<string, ClientAsset>();
  for (const file of result.outputFiles) {
    const name = file.path.slice(file.path.lastIndexOf('/') + 1);
    const ext = name.slice(name.lastIndexOf('.'));
    const type = CONTENT_TYPES[ext];
    if (type === undefined) continue;
    const body = Buffer.from(file.contents);
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    const path = `${CLIENT_ASSET_PREFIX}${name}`;
    assets.set(path, { path, type, body, etag });
  }
  return assets;
}
