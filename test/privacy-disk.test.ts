/**
 * Issue 7, privacy: nothing is written to disk during operation. The server runs as a child process the way
 * `npm start` runs it (`node --import tsx packages/server/src/main.ts`, with `TSX_DISABLE_CACHE=1` as in the start
 * script: otherwise tsx, the TypeScript loader and not our server, keeps a transform cache in `$TMPDIR/tsx-<uid>`),
 * with HOME, TMPDIR and the working directory pointed at fresh empty folders and a minimal environment. A whole
 * meeting runs against it (three participants, display names, group and private chat, P2P then the bridge, a
 * moderator mute); then it is stopped with SIGTERM and the folders must still be empty. The folder holding the
 * config file must hold only that file.
 *
 * While the meeting runs, the child's open file descriptors (Linux /proc) are checked too: none may be a regular
 * file opened for writing, wherever it is.
 *
 * File logging (`log.file`, off by default) is the one intended exception; its retention is tested with its own
 * feature.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveDomains } from '@jitsi-one/xmpp';
import { loadConfig } from '../packages/server/src/index.js';
import { runMeeting, SERVER_ADDRESS } from './privacy-meeting.js';
import { waitFor } from './participant.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MAIN = join(ROOT, 'packages/server/src/main.ts');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

const base = mkdtempSync(join(tmpdir(), 'privacy-disk-'));
const dirs = { home: join(base, 'home'), tmp: join(base, 'tmp'), cwd: join(base, 'cwd'), config: join(base, 'config') };
for (const d of Object.values(dirs)) mkdirSync(d);
const configFile = join(dirs.config, 'config.json');

let child: ChildProcess | undefined;
afterAll(() => {
  child?.kill('SIGKILL');
  rmSync(base, { recursive: true, force: true });
});

/** Every path below `dir`, relative, recursively. */
function listAll(dir: string, prefix = ''): string[] {
  return readdirSync(dir).flatMap((name) => {
    const rel = join(prefix, name);
    const abs = join(dir, name);
    return statSync(abs).isDirectory() ? [`${rel}/`, ...listAll(abs, rel)] : [rel];
  });
}

/** Regular files the process has open for writing (O_WRONLY or O_RDWR), from /proc/<pid>/fd and fdinfo. */
function filesOpenForWriting(pid: number): string[] {
  const out: string[] = [];
  const fdDir = `/proc/${pid}/fd`;
  for (const fd of readdirSync(fdDir)) {
    let target: string;
    let flags: number;
    try {
      target = readlinkSync(join(fdDir, fd));
      flags = parseInt(/^flags:\s*([0-7]+)/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'))?.[1] ?? '0', 8);
    } catch {
      continue; // closed meanwhile
    }
    if (!target.startsWith('/') || target.startsWith('/dev/')) continue; // sockets, pipes, anon inodes, ttys
    if ((flags & 3) !== 0) out.push(`${target} (fd ${fd}, flags ${flags.toString(8)})`);
  }
  return out;
}

describe('issue 7: nothing written to disk', () => {
  it('a meeting on the server run as by npm start leaves HOME, TMPDIR and the working directory empty', async () => {
    // What this test runs is what `npm start` runs (npm itself, which keeps its own debug log in ~/.npm/_logs, aside).
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toBe('TSX_DISABLE_CACHE=1 node --import tsx packages/server/src/main.ts');
    writeFileSync(
      configFile,
      JSON.stringify({
        http: { host: SERVER_ADDRESS, port: 0, insecureHttp: true },
        xmpp: { c2s: { port: null } },
        bridge: { transport: { port: 0, bindAddress: SERVER_ADDRESS, hostAddresses: [SERVER_ADDRESS] } },
        stun: { port: 0, host: SERVER_ADDRESS },
        log: { level: 'debug' },
      }),
    );
    const config = loadConfig({ argv: ['--config', configFile] });
    const domains = resolveDomains(config.xmpp);

    const output: string[] = [];
    const errors: string[] = [];
    const proc = spawn(process.execPath, ['--import', TSX, MAIN, '--config', configFile], {
      cwd: dirs.cwd,
      // Nothing inherited: no NODE_OPTIONS, no XDG_* or cache settings from the test runner.
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dirs.home, TMPDIR: dirs.tmp, TSX_DISABLE_CACHE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    proc.stdout.setEncoding('utf8').on('data', (d: string) => output.push(d));
    proc.stderr.setEncoding('utf8').on('data', (d: string) => errors.push(d));
    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));

    let origin = '';
    await waitFor(() => {
      const m = /jitsi-one: open (http:\/\/[^/\s]+)\//.exec(output.join(''));
      if (m?.[1] !== undefined) origin = m[1];
      return origin !== '' ? undefined : `server not up; stdout ${output.join('').slice(-500)} stderr ${errors.join('').slice(-500)}`;
    }, 60_000);

    let writing: string[] | undefined;
    await runMeeting(
      {
        wsUrl: `${origin.replace(/^http/, 'ws')}/xmpp-websocket`,
        boshUrl: `${origin}/http-bind`,
        domain: domains.domain,
        focusDomain: domains.focusDomain,
        room: `diskcheck@${domains.mucDomain}`,
      },
      {
        whileThree: () => {
          if (existsSync(`/proc/${proc.pid}/fd`) && proc.pid !== undefined) writing = filesOpenForWriting(proc.pid);
        },
      },
    );
    // The meeting reached the server's logs (stdout), so it really ran there.
    expect(output.join('')).toContain('"msg":"endpoint transport connected"');

    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    child = undefined;

    if (process.platform === 'linux') expect(writing, 'regular files open for writing during the meeting').toEqual([]);
    expect(listAll(dirs.home), 'HOME').toEqual([]);
    expect(listAll(dirs.tmp), 'TMPDIR').toEqual([]);
    expect(listAll(dirs.cwd), 'working directory').toEqual([]);
    expect(listAll(dirs.config), 'config folder').toEqual(['config.json']);
  }, 120_000);
});
