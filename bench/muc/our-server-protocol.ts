/**
 * Wire contract between bench/muc/targets.ts (parent) and bench/muc/our-server.ts (child):
 * the child prints one stdout line `READY_MARKER + JSON.stringify(OurServerReady)`; any other
 * stdout/stderr output (e.g. server logs) is ignored by the parent except for diagnostics.
 */
export const READY_MARKER = '@@bench-our-server ';

export type OurServerReady =
  | { ok: true; wsUrl: string; domain: string; mucDomain: string; pid: number }
  /** unavailable: @jitsi-one/server (or its startServer export) does not exist yet. */
  | { ok: false; unavailable: boolean; reason: string };
