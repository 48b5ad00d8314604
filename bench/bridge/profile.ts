/**
 * Summarises a V8 CPU profile (.cpuprofile, as written by the inspector's Profiler.stop): self time
 * per function and per file, idle time excluded from the percentages.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface ProfileEntry {
  name: string;
  where: string;
  selfMs: number;
  /** Share of the non-idle time, %. */
  percent: number;
}

export interface ProfileSummary {
  path: string;
  /** Profiled wall time, ms. */
  wallMs: number;
  /** Non-idle sampled time, ms. */
  busyMs: number;
  functions: ProfileEntry[];
  files: ProfileEntry[];
}

function shortUrl(url: string): string {
  if (url === '') return '(native)';
  const clean = url.replace(/^file:\/\//, '');
  const pk = clean.indexOf('/packages/');
  if (pk >= 0) return clean.slice(pk + 1);
  const nm = clean.lastIndexOf('/node_modules/');
  if (nm >= 0) return clean.slice(nm + '/node_modules/'.length);
  return clean.replace(/^.*\/(?=[^/]+\/[^/]+$)/, '');
}

export function summarizeProfile(path: string, top = 15): ProfileSummary {
  const p = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  for (const n of p.nodes) byId.set(n.id, n);
  const selfUs = new Map<number, number>();
  const samples = p.samples ?? [];
  const deltas = p.timeDeltas ?? [];
  // timeDeltas[i] is the time *before* sample i; attribute the gap after a sample to it.
  for (let i = 0; i < samples.length; i++) {
    const id = samples[i] as number;
    const dt = (deltas[i + 1] as number | undefined) ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, dt));
  }
  const fn = new Map<string, { name: string; where: string; us: number }>();
  const files = new Map<string, number>();
  let busy = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id);
    if (n === undefined) continue;
    const name = n.callFrame.functionName || '(anonymous)';
    if (name === '(idle)') continue;
    busy += us;
    const file = shortUrl(n.callFrame.url);
    // tsx-transpiled modules report line 0 for everything: show a line only when there is one.
    const where = n.callFrame.url === '' ? '' : n.callFrame.lineNumber > 0 ? `${file}:${n.callFrame.lineNumber + 1}` : file;
    const key = `${name}@${where}`;
    const e = fn.get(key) ?? { name, where, us: 0 };
    e.us += us;
    fn.set(key, e);
    const fk = n.callFrame.url === '' ? name.startsWith('(') ? name : '(native)' : file;
    files.set(fk, (files.get(fk) ?? 0) + us);
  }
  const pct = (us: number): number => (busy > 0 ? (100 * us) / busy : 0);
  return {
    path,
    wallMs: (p.endTime - p.startTime) / 1000,
    busyMs: busy / 1000,
    functions: [...fn.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((e) => ({ name: e.name, where: e.where, selfMs: e.us / 1000, percent: pct(e.us) })),
    files: [...files.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([where, us]) => ({ name: where, where, selfMs: us / 1000, percent: pct(us) })),
  };
}
