/**
 * Bench dispatcher: `npm run bench -- <name> [flags]` (tsx bench/run.ts).
 *
 * The first argument selects a bench from BENCHES (name -> lazily imported module exporting
 * `description` and `run(args): Promise<exitCode>`); the remaining arguments are passed to it
 * and parsed there with node:util parseArgs. Child processes and temp dirs registered through
 * bench/lib/cleanup.ts are cleaned up on exit, error and SIGINT/SIGTERM.
 */
import { installCleanupHandlers, runCleanups } from './lib/cleanup.js';

export interface BenchModule {
  description: string;
  run(args: string[]): Promise<number>;
}

const BENCHES: Record<string, () => Promise<BenchModule>> = {
  bridge: () => import('./bridge/index.js'),
  muc: () => import('./muc/index.js'),
  join: () => import('./join/index.js'),
  browser: () => import('./browser/index.js'),
  srtp: () => import('./srtp/srtp.js'),
  fuzz: () => import('./fuzz/fuzz.js'),
  soak: () => import('./soak/index.js'),
};

function listBenches(): string {
  return `usage: npm run bench -- <bench> [options]   (<bench> --help for its options)\n\navailable benches:\n${Object.keys(
    BENCHES,
  )
    .map((n) => `  ${n}`)
    .join('\n')}\n`;
}

async function main(): Promise<number> {
  const [name, ...rest] = process.argv.slice(2);
  if (name === undefined || name === '-h' || name === '--help' || name === 'list') {
    process.stderr.write(listBenches());
    return name === undefined ? 1 : 0;
  }
  const load = BENCHES[name];
  if (!load) {
    process.stderr.write(`unknown bench: ${name}\n\n${listBenches()}`);
    return 1;
  }
  installCleanupHandlers();
  const bench = await load();
  try {
    return await bench.run(rest);
  } finally {
    await runCleanups();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  async (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    await runCleanups();
    process.exitCode = 1;
  },
);
