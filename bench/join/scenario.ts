/**
 * The join bench's phases, all against one running server (see server.ts), all participants in this process:
 *
 *  1. warm-up: one conference of three (join, everyone gets everyone's key frames, all leave), so neither the
 *     server's nor this process's JIT and lazy set-up is measured; then the idle RSS is sampled until it settles.
 *  2. big room: `size − 1` participants join one room and exchange media; then `joins` times the size-th joins
 *     (measured), the room settles (everyone has everyone's key frame, plus a short pause) and the server's RSS is
 *     sampled, and it leaves again (until the others have seen it go). After the first of these joins the full room
 *     is kept for `steadyMs` and sampled again: the steady-state RSS (the bridge's NACK caches take seconds to fill),
 *     taken before any join/leave churn.
 *  3. small rooms: `rooms` times a fresh room: the 1st joins (unmeasured), the 2nd joins (measured), once the two
 *     exchange media the 3rd joins (measured), then all leave.
 *
 * The 3rd and the size-th join after a random pause (0..jitterMs): the synthetic senders send a key frame only every
 * 30 frames, so a join right after the previous one got its media would always land just after a key frame.
 *
 * Every wait polls a condition with a deadline; nothing sleeps to let things happen except the fixed settle pauses
 * before RSS samples. A join that does not get media in time is recorded as a failure and the bench goes on.
 */
import { performance } from 'node:perf_hooks';
import { readCpuMs, readPeakRssKb, readRssKb } from '../lib/proc.js';
import { JoinProbe, Member, type JoinTarget, type JoinTimeline } from './probe.js';

export interface ScenarioOptions {
  /** Fresh rooms for the 2nd/3rd participant measurements. */
  rooms: number;
  /** Joins of the last participant into the big room. */
  joins: number;
  /** Size of the big room (the measured participant is the size-th). */
  size: number;
  /** Deadline for one join to get key frames from everyone (ms). */
  mediaTimeoutMs: number;
  /** Pause after a room is stable before sampling RSS (ms). */
  settleMs: number;
  /**
   * Time the full big room is kept after the first size-th join before the steady-state RSS sample (ms): long enough for the
   * bridge's per-stream NACK caches to fill (256 packets at 30 fps ≈ 8.5 s).
   */
  steadyMs: number;
  /**
   * Upper bound of a uniformly random pause before each measured join of the 3rd and the size-th participant (ms),
   * so that joins fall at a random point of the senders' 1 s key frame cycle instead of a fixed one.
   */
  jitterMs: number;
  log: (line: string) => void;
}

export interface PhaseStats {
  wallMs: number;
  /** CPU time of this (bench) process: every participant's XMPP, werift ICE/DTLS/SRTP and synthetic media. */
  benchCpuMs: number;
  serverCpuMs: number | undefined;
}

export interface ScenarioResult {
  /** Measured joins by position in the room (2, 3, size). */
  joins: Map<number, JoinTimeline[]>;
  rss: {
    /** Right after the server reported ready. */
    startKb: number | undefined;
    /** After the warm-up conference ended, once RSS settled. */
    idleKb: number | undefined;
    /** With size − 1 participants in the big room, `settleMs` after it was stable. */
    beforeLastKb: number | undefined;
    /** With `size` participants in the big room, `settleMs` after it was stable: one sample per join. */
    fullKb: number[];
    /** With `size` participants, `steadyMs` after the first size-th join was stable (bridge caches full). */
    steadyKb: number | undefined;
    /** VmHWM at the end of the run. */
    peakKb: number | undefined;
  };
  /** With --gc only: the server's V8 heap in use right after a forced full GC (KiB), at the same points as `rss`. */
  heap: { idleKb: number | undefined; beforeLastKb: number | undefined; fullKb: number[]; steadyKb: number | undefined };
  phases: Record<'warmup' | 'big' | 'small', PhaseStats | undefined>;
  failures: string[];
}

class JoinTimeout extends Error {}

async function until(cond: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) throw new JoinTimeout(`timed out after ${timeoutMs} ms: ${what()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Everyone in `members` has a key frame from everyone else. */
function allToAll(members: readonly Member[]): boolean {
  return members.every((m) => m.hasKeyFramesFrom(members));
}

function describeMissing(members: readonly Member[]): string {
  const lines = members
    .filter((m) => !m.hasKeyFramesFrom(members))
    .map((m) => {
      const lacking = members.filter((o) => o !== m && !m.p.firstKeyFrameAt.has(o.ssrcs.video)).length;
      const problems = m.p.problems.length ? `, ${m.p.problems.join('; ')}` : '';
      return `${m.nick} lacks ${lacking} (offer ${m.p.offer !== undefined}, connected ${m.p.connected()}${problems})`;
    });
  return lines.join('; ');
}

async function leaveAll(members: readonly Member[]): Promise<void> {
  // Participant.leave() sends unavailable presence, closes the peer connection and waits for the XMPP link to close.
  await Promise.all(members.map((m) => m.leave().catch(() => undefined)));
}

/** Samples RSS every 250 ms until four samples in a row are within 1 MiB (at most `maxMs`); returns the last. */
async function settledRssKb(pid: number, maxMs = 6000): Promise<number | undefined> {
  const samples: number[] = [];
  const deadline = performance.now() + maxMs;
  for (;;) {
    const kb = readRssKb(pid);
    if (kb === undefined) return undefined;
    samples.push(kb);
    const last = samples.slice(-4);
    if (last.length === 4 && Math.max(...last) - Math.min(...last) <= 1024) return kb;
    if (performance.now() > deadline) return kb;
    await sleep(250);
  }
}

async function phase<T>(pid: number, fn: () => Promise<T>): Promise<{ value: T; stats: PhaseStats }> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const s0 = readCpuMs(pid);
  const value = await fn();
  const c = process.cpuUsage(c0);
  const s1 = readCpuMs(pid);
  return {
    value,
    stats: {
      wallMs: performance.now() - t0,
      benchCpuMs: (c.user + c.system) / 1000,
      serverCpuMs: s0 !== undefined && s1 !== undefined ? s1 - s0 : undefined,
    },
  };
}

export async function runJoinScenario(
  target: JoinTarget,
  server: { pid: number; mucDomain: string; exited(): boolean; collectGarbage(): Promise<number | undefined> },
  opts: ScenarioOptions,
): Promise<ScenarioResult> {
  const { log } = opts;
  const runId = Date.now().toString(36);
  let roomSeq = 0;
  const newRoom = (kind: string): string => `bench-join-${runId}-${kind}-${roomSeq++}@${server.mucDomain}`;
  const result: ScenarioResult = {
    joins: new Map(),
    rss: {
      startKb: readRssKb(server.pid),
      idleKb: undefined,
      beforeLastKb: undefined,
      fullKb: [],
      steadyKb: undefined,
      peakKb: undefined,
    },
    heap: { idleKb: undefined, beforeLastKb: undefined, fullKb: [], steadyKb: undefined },
    phases: { warmup: undefined, big: undefined, small: undefined },
    failures: [],
  };
  const record = (position: number, t: JoinTimeline): void => {
    const list = result.joins.get(position) ?? [];
    list.push(t);
    result.joins.set(position, list);
  };
  const fail = (what: string, err: unknown): void => {
    const msg = `${what}: ${err instanceof Error ? err.message : String(err)}`;
    log(`FAILED ${msg}`);
    result.failures.push(msg);
    if (!(err instanceof JoinTimeout)) throw err;
  };
  const checkServer = (): void => {
    if (server.exited()) throw new Error('the server process exited');
  };

  // 1. Warm-up conference of three, then idle RSS.
  log('warm-up: one conference of 3, then idle RSS');
  const warm = await phase(server.pid, async () => {
    const room = newRoom('warmup');
    const members: Member[] = [];
    try {
      for (let i = 0; i < 3; i++) members.push(await Member.join(target, room));
      await until(() => allToAll(members), opts.mediaTimeoutMs * 2, () => describeMissing(members));
    } finally {
      await leaveAll(members);
    }
  });
  result.phases.warmup = warm.stats;
  result.heap.idleKb = await server.collectGarbage();
  result.rss.idleKb = await settledRssKb(server.pid);
  log(`idle RSS ${kbToMb(result.rss.idleKb)} MB`);

  // 2. Big room: size − 1 present, the size-th joins and leaves `joins` times.
  const size = opts.size;
  log(`big room: ${size - 1} present, participant #${size} joins ${opts.joins}×`);
  const big = await phase(server.pid, async () => {
    const room = newRoom('big');
    const members: Member[] = [];
    try {
      for (let i = 0; i < size - 1; i++) members.push(await Member.join(target, room));
      await until(() => allToAll(members), opts.mediaTimeoutMs * 3, () => describeMissing(members));
      await sleep(opts.settleMs);
      result.heap.beforeLastKb = await server.collectGarbage();
      result.rss.beforeLastKb = readRssKb(server.pid);
      for (let r = 0; r < opts.joins; r++) {
        checkServer();
        let probe: JoinProbe | undefined;
        try {
          await sleep(Math.random() * opts.jitterMs);
          probe = await JoinProbe.join(target, room, members);
          const pr = probe;
          await until(() => pr.done(), opts.mediaTimeoutMs, () => pr.missing());
          record(size, pr.timeline());
          // Stable: the others also have the newcomer's key frame; then a pause and an RSS sample.
          const all = [...members, pr.member];
          await until(() => allToAll(all), opts.mediaTimeoutMs, () => describeMissing(all));
          await sleep(opts.settleMs);
          const heapKb = await server.collectGarbage();
          if (heapKb !== undefined) result.heap.fullKb.push(heapKb);
          const kb = readRssKb(server.pid);
          if (kb !== undefined) result.rss.fullKb.push(kb);
          if (r === 0) {
            log(`  keeping ${size} in the room for ${opts.steadyMs / 1000} s for the steady-state RSS`);
            await sleep(opts.steadyMs);
            if (!allToAll(all)) throw new JoinTimeout(`media stopped in the full room: ${describeMissing(all)}`);
            result.heap.steadyKb = await server.collectGarbage();
            result.rss.steadyKb = readRssKb(server.pid);
          }
        } catch (err) {
          fail(`big room, join ${r + 1}`, err);
        } finally {
          if (probe) {
            probe.stop();
            const leaver = probe.member;
            await leaver.leave().catch(() => undefined);
            // The others have seen it leave (its sources dropped: unavailable presence or source-remove).
            await until(
              () => members.every((m) => !m.p.remote.has(leaver.nick)),
              10_000,
              () => `others still list ${leaver.nick}`,
            ).catch((err: unknown) => fail(`big room, leave ${r + 1}`, err));
          }
        }
        if (opts.joins >= 5 && (r + 1) % Math.ceil(opts.joins / 4) === 0) log(`  ${r + 1}/${opts.joins} joins`);
      }
    } catch (err) {
      if (err instanceof JoinTimeout) fail('big room set-up', err);
      else throw err;
    } finally {
      await leaveAll(members);
    }
  });
  result.phases.big = big.stats;

  // 3. Small rooms: the 2nd and the 3rd participant of a fresh room.
  log(`small rooms: ${opts.rooms} fresh rooms, participants #2 and #3 measured`);
  const small = await phase(server.pid, async () => {
    for (let r = 0; r < opts.rooms; r++) {
      checkServer();
      const room = newRoom('small');
      const members: Member[] = [];
      try {
        members.push(await Member.join(target, room));
        for (const position of [2, 3]) {
          // Before the 2nd nobody sends (the focus starts sessions at two participants): no pause needed.
          if (position === 3) await sleep(Math.random() * opts.jitterMs);
          const probe = await JoinProbe.join(target, room, [...members]);
          members.push(probe.member);
          try {
            await until(() => probe.done(), opts.mediaTimeoutMs, () => probe.missing());
          } finally {
            probe.stop();
          }
          record(position, probe.timeline());
          await until(() => allToAll(members), opts.mediaTimeoutMs, () => describeMissing(members));
        }
      } catch (err) {
        fail(`small room ${r + 1}`, err);
      } finally {
        await leaveAll(members);
      }
      if (opts.rooms >= 5 && (r + 1) % Math.ceil(opts.rooms / 4) === 0) log(`  ${r + 1}/${opts.rooms} rooms`);
    }
  });
  result.phases.small = small.stats;
  result.rss.peakKb = readPeakRssKb(server.pid);
  return result;
}

export function kbToMb(kb: number | undefined): string {
  return kb === undefined ? '?' : ((kb * 1024) / 1e6).toFixed(1);
}
