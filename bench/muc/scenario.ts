/**
 * The MUC load scenario, run identically against every target:
 *
 *  1. connect:  N clients connect + SASL ANONYMOUS + bind, at most `connectConcurrency` in flight.
 *  2. join:     client 0 joins (creating the room; if the server answers with status 201 "room
 *               created", an instant-room configuration is submitted, as Jicofo does, so servers
 *               that lock new rooms work too), then all others join at once (or, with
 *               joinWindow > 0, with at most that many joins awaiting their self-presence).
 *               Join time runs from the first join presence sent until every client has seen
 *               available presence for all N occupants, its own self-presence (status 110)
 *               included. This is O(N²) stanzas for the server.
 *  3. fan-out:  `senders` occupants send groupchat messages round-robin; every occupant (sender
 *               included, via MUC reflection) receives each one, i.e. N deliveries per message.
 *               Pacing: a global window of at most `window` messages is "in flight"; a message
 *               leaves the window only once all N occupants have received it, and only then is the
 *               next one sent. So the server always has work queued (no idle gaps between
 *               messages) but never more than window × N deliveries, i.e. deliveries/s is a
 *               sustainable throughput rather than the rate of filling a queue, and latency =
 *               the time one message takes to reach all N occupants plus at most window-1
 *               messages queued ahead of it. A short unmeasured warm-up round (one message per
 *               sender) runs first so JIT warm-up is not measured.
 *               Latency = receive time − send timestamp carried in the body (performance.now(),
 *               all clients live in this process), so it includes client-side event-loop delay.
 *  4. leave:    every client sends unavailable presence; leave time runs until every client has
 *               received its own unavailable self-presence. Then <close/> and socket close.
 *
 * Every phase has a deadline; a missed deadline or a stream error fails the run (with the
 * metrics gathered so far) instead of hanging.
 */
import { performance } from 'node:perf_hooks';
import { percentiles, round } from '../lib/stats.js';
import { LoadClient, attr, hasStatusCode, type FrameHandler } from './load-client.js';

export interface MucEndpoint {
  wsUrl: string;
  domain: string;
  mucDomain: string;
}

export interface MucLoadOptions {
  occupants: number;
  senders: number;
  messagesPerSender: number;
  window: number;
  /** Max joins awaiting their self-presence at once; 0 = all remaining joins sent at once. */
  joinWindow: number;
  connectConcurrency: number;
  room: string;
  timeouts: { connectMs: number; joinMs: number; fanoutMs: number; leaveMs: number };
  log: (line: string) => void;
}

export interface MucLoadMetrics {
  occupants: number;
  connectMs?: number;
  joinAllMs?: number;
  messages?: number;
  deliveries?: number;
  fanoutMs?: number;
  deliveriesPerSec?: number;
  p50Ms?: number;
  p99Ms?: number;
  maxMs?: number;
  /** Load-client CPU use during join, % of one core (≈100 means the client is the bottleneck). */
  joinClientCpuPct?: number;
  /** Load-client CPU use during fan-out, % of one core. */
  clientCpuPct?: number;
  leaveAllMs?: number;
}

export interface MucLoadResult {
  metrics: MucLoadMetrics;
  error?: string;
  warnings: string[];
}

const NS_MUC = 'http://jabber.org/protocol/muc';
const NS_MUC_OWNER = 'http://jabber.org/protocol/muc#owner';

class PhaseError extends Error {}

/**
 * Runs a phase: `start(done, fail)` kicks it off; resolves when done() is called, rejects on
 * fail(), on a fatal stream error of any client, or after timeoutMs (with `progress()` in the message).
 */
function runPhase(
  name: string,
  clients: readonly LoadClient[],
  timeoutMs: number,
  progress: () => string,
  start: (done: () => void, fail: (reason: string) => void) => void,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const finish = (err?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      for (const c of clients) c.onFatal = null;
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(
      () => finish(new PhaseError(`${name} did not complete within ${timeoutMs} ms (${progress()})`)),
      timeoutMs,
    );
    for (const c of clients) {
      c.onFatal = (client, reason) => finish(new PhaseError(`${name}: client ${client.index}: ${reason}`));
    }
    try {
      start(
        () => finish(),
        (reason) => finish(new PhaseError(`${name}: ${reason}`)),
      );
    } catch (err) {
      finish(err as Error);
    }
  });
}

function setHandlers(clients: readonly LoadClient[], handler: FrameHandler | null): void {
  for (const c of clients) c.setHandler(handler);
}

function nickOf(i: number): string {
  return `nick${i}`;
}

function joinPresence(roomJid: string, i: number): string {
  // A trimmed-down jitsi-meet join presence.
  return (
    `<presence to="${roomJid}/${nickOf(i)}" xmlns="jabber:client">` +
    `<x xmlns="${NS_MUC}"/>` +
    `<nick xmlns="http://jabber.org/protocol/nick">User ${i}</nick>` +
    `<SourceInfo>{}</SourceInfo>` +
    `<jitsi_participant_codecList>vp8</jitsi_participant_codecList>` +
    `</presence>`
  );
}

async function connectAll(endpoint: MucEndpoint, opts: MucLoadOptions, clients: LoadClient[]): Promise<void> {
  let next = 0;
  const deadline = Date.now() + opts.timeouts.connectMs;
  const worker = async (): Promise<void> => {
    while (next < opts.occupants) {
      const i = next++;
      const timeoutMs = Math.max(1, deadline - Date.now());
      clients[i] = await LoadClient.connect(i, { wsUrl: endpoint.wsUrl, domain: endpoint.domain, timeoutMs });
    }
  };
  const workers = Array.from({ length: Math.min(opts.connectConcurrency, opts.occupants) }, worker);
  const results = await Promise.allSettled(workers);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    const ok = clients.filter(Boolean).length;
    throw new PhaseError(`connect: ${(failed.reason as Error).message} (${ok}/${opts.occupants} connected)`);
  }
}

export async function runMucLoad(endpoint: MucEndpoint, opts: MucLoadOptions): Promise<MucLoadResult> {
  const N = opts.occupants;
  const roomJid = `${opts.room}@${endpoint.mucDomain}`;
  const fromPrefix = `${roomJid}/nick`;
  const metrics: MucLoadMetrics = { occupants: N };
  const warnings: string[] = [];
  const clients: LoadClient[] = [];
  const { log } = opts;

  /** Occupant index encoded in a room presence's from attribute, or -1. */
  const occupantIndex = (from: string | undefined): number => {
    if (!from || !from.startsWith(fromPrefix)) return -1;
    const n = Number(from.slice(fromPrefix.length));
    return Number.isInteger(n) && n >= 0 && n < N ? n : -1;
  };

  try {
    // ---- 1. connect + auth + bind ---------------------------------------------------------
    log(`connect: ${N} clients (${opts.connectConcurrency} in flight)…`);
    let t0 = performance.now();
    await connectAll(endpoint, opts, clients);
    metrics.connectMs = round(performance.now() - t0);
    log(`connect: done in ${metrics.connectMs} ms`);

    // ---- 2. join ----------------------------------------------------------------------------
    const seen = clients.map(() => new Uint8Array(N));
    const seenCount = new Int32Array(N);
    const selfSeen = new Uint8Array(N);
    const complete = new Uint8Array(N);
    let completeCount = 0;
    let selfWithout110 = 0;
    let roomCreated = false;
    let onFirstSelf: ((frame: string) => void) | null = null;
    let onIq: ((frame: string) => void) | null = null;
    let sendMoreJoins: (() => void) | null = null;
    let pendingJoins = 0;

    log(`join: ${N} occupants into ${roomJid}…`);
    t0 = performance.now();
    const joinCpu0 = process.cpuUsage();
    await runPhase('join', clients, opts.timeouts.joinMs, () => `${completeCount}/${N} clients saw the full roster`, (done, fail) => {
      setHandlers(clients, (c, frame) => {
        if (frame.startsWith('<iq')) {
          onIq?.(frame);
          return;
        }
        if (!frame.startsWith('<presence')) return; // room subject / history etc.
        const type = attr(frame, 'type');
        if (type === 'error') {
          fail(`client ${c.index} got a presence error: ${frame.slice(0, 400)}`);
          return;
        }
        if (type === 'unavailable') return;
        const k = occupantIndex(attr(frame, 'from'));
        if (k < 0) return; // e.g. a focus/bot occupant, not one of ours
        const ci = c.index;
        const mine = seen[ci] as Uint8Array;
        if (mine[k] === 0) {
          mine[k] = 1;
          seenCount[ci]!++;
        }
        if (k === ci && selfSeen[ci] === 0) {
          selfSeen[ci] = 1;
          if (!hasStatusCode(frame, '110')) selfWithout110++;
          if (ci === 0) onFirstSelf?.(frame);
          else {
            pendingJoins--;
            sendMoreJoins?.();
          }
        }
        if (selfSeen[ci] === 1 && seenCount[ci] === N && complete[ci] === 0) {
          complete[ci] = 1;
          if (++completeCount === N) done();
        }
      });

      // All remaining joins at once, or (joinWindow > 0) at most joinWindow joins awaiting
      // their self-presence at any time.
      let nextJoin = 1;
      const joinOthers = (): void => {
        while (nextJoin < N && (opts.joinWindow <= 0 || pendingJoins < opts.joinWindow)) {
          pendingJoins++;
          clients[nextJoin]!.send(joinPresence(roomJid, nextJoin));
          nextJoin++;
        }
      };
      sendMoreJoins = joinOthers;
      onFirstSelf = (frame) => {
        onFirstSelf = null;
        // Status 201 = room created; servers with room locking hold it until configured,
        // so submit an instant-room configuration (XEP-0045 §10.1.2) before the others join.
        if (!hasStatusCode(frame, '201')) {
          joinOthers();
          return;
        }
        roomCreated = true;
        onIq = (iq) => {
          if (attr(iq, 'id') !== 'bench-instant-room') return;
          onIq = null;
          if (attr(iq, 'type') !== 'result') fail(`instant room configuration refused: ${iq.slice(0, 400)}`);
          else joinOthers();
        };
        clients[0]!.send(
          `<iq type="set" id="bench-instant-room" to="${roomJid}" xmlns="jabber:client">` +
            `<query xmlns="${NS_MUC_OWNER}"><x xmlns="jabber:x:data" type="submit"/></query></iq>`,
        );
      };
      clients[0]!.send(joinPresence(roomJid, 0));
    });
    metrics.joinAllMs = round(performance.now() - t0);
    const joinCpu = process.cpuUsage(joinCpu0);
    metrics.joinClientCpuPct = Math.round(((joinCpu.user + joinCpu.system) / 1000 / metrics.joinAllMs) * 100);
    log(
      `join: all ${N} joined in ${metrics.joinAllMs} ms (load client CPU ${metrics.joinClientCpuPct}%)` +
        (roomCreated ? ', room created with status 201, instant config submitted' : ''),
    );
    if (selfWithout110 > 0) warnings.push(`${selfWithout110} self-presences lacked status code 110`);

    // ---- 3. fan-out -------------------------------------------------------------------------
    const senders = Math.min(opts.senders, N);
    const fanout = async (marker: string, count: number, measure: boolean): Promise<void> => {
      const tag = `<body>${marker}:`;
      const sentAt = new Float64Array(count);
      const deliveredPerMsg = new Int32Array(count);
      const got = new Uint8Array(count * N); // (message, receiver) pairs, to detect duplicates
      const latencies = new Float64Array(measure ? count * N : 0);
      let nLat = 0;
      let deliveries = 0;
      let duplicates = 0;
      let nextMsg = 0;
      let inFlight = 0;
      let completed = 0;
      let lastDelivery = 0;
      const cpu0 = process.cpuUsage();
      const start = performance.now();

      await runPhase(
        `fan-out (${marker})`,
        clients,
        opts.timeouts.fanoutMs,
        () => `${completed}/${count} messages fully delivered, ${deliveries}/${count * N} deliveries`,
        (done, fail) => {
          const sendMore = (): void => {
            while (inFlight < opts.window && nextMsg < count) {
              const k = nextMsg++;
              const sender = clients[k % senders]!;
              const t = performance.now();
              sentAt[k] = t;
              inFlight++;
              sender.send(
                `<message type="groupchat" to="${roomJid}" id="${marker}${k}" xmlns="jabber:client">` +
                  `<body>${marker}:${k}:${t.toFixed(3)}: Hello from User ${sender.index}, this is chat message ${k}.</body>` +
                  `</message>`,
              );
            }
          };
          setHandlers(clients, (c, frame) => {
            if (frame.charCodeAt(1) !== 109 /* <message */) return;
            const b = frame.indexOf(tag);
            if (b < 0) {
              if (attr(frame, 'type') === 'error') fail(`client ${c.index} got a message error: ${frame.slice(0, 400)}`);
              return; // subject, other traffic
            }
            const now = performance.now();
            const p = b + tag.length;
            const q = frame.indexOf(':', p);
            const k = Number(frame.slice(p, q));
            if (!(k >= 0 && k < count)) return;
            const slot = k * N + c.index;
            if (got[slot] !== 0) {
              duplicates++;
              return;
            }
            got[slot] = 1;
            deliveries++;
            lastDelivery = now;
            if (measure) latencies[nLat++] = now - Number(frame.slice(q + 1, frame.indexOf(':', q + 1)));
            if (++deliveredPerMsg[k]! === N) {
              inFlight--;
              if (++completed === count) done();
              else sendMore();
            }
          });
          sendMore();
        },
      );

      if (duplicates > 0) warnings.push(`${marker}: ${duplicates} duplicate deliveries`);
      if (!measure) return;
      const elapsed = lastDelivery - start;
      const cpu = process.cpuUsage(cpu0);
      const [p50, p99, max] = percentiles(latencies, nLat, [50, 99, 100]);
      metrics.messages = count;
      metrics.deliveries = deliveries;
      metrics.fanoutMs = round(elapsed);
      metrics.deliveriesPerSec = Math.round((deliveries / elapsed) * 1000);
      metrics.p50Ms = round(p50 ?? Number.NaN, 2);
      metrics.p99Ms = round(p99 ?? Number.NaN, 2);
      metrics.maxMs = round(max ?? Number.NaN, 2);
      metrics.clientCpuPct = Math.round(((cpu.user + cpu.system) / 1000 / elapsed) * 100);
    };

    log(`fan-out: warm-up (${senders} messages)…`);
    await fanout('warm', senders, false);
    const total = senders * opts.messagesPerSender;
    log(`fan-out: ${senders} senders × ${opts.messagesPerSender} messages, window ${opts.window}, ${total * N} deliveries…`);
    await fanout('bench', total, true);
    log(
      `fan-out: ${metrics.deliveriesPerSec} deliveries/s, p50 ${metrics.p50Ms} ms, p99 ${metrics.p99Ms} ms ` +
        `(load client CPU ${metrics.clientCpuPct}%)`,
    );

    // ---- 4. leave ---------------------------------------------------------------------------
    const left = new Uint8Array(N);
    let leftCount = 0;
    t0 = performance.now();
    try {
      await runPhase('leave', clients, opts.timeouts.leaveMs, () => `${leftCount}/${N} clients left`, (done) => {
        setHandlers(clients, (c, frame) => {
          if (!frame.startsWith('<presence') || attr(frame, 'type') !== 'unavailable') return;
          if (occupantIndex(attr(frame, 'from')) !== c.index || left[c.index] === 1) return;
          left[c.index] = 1;
          if (++leftCount === N) done();
        });
        for (let i = 0; i < N; i++) {
          clients[i]!.send(`<presence type="unavailable" to="${roomJid}/${nickOf(i)}" xmlns="jabber:client"/>`);
        }
      });
      metrics.leaveAllMs = round(performance.now() - t0);
      log(`leave: all left in ${metrics.leaveAllMs} ms`);
    } catch (err) {
      warnings.push((err as Error).message); // not fatal for the measurements above
    }

    setHandlers(clients, null);
    const closeStart = performance.now();
    await Promise.all(clients.map((c) => c.close(5000)));
    log(`closed ${N} sockets in ${round(performance.now() - closeStart)} ms`);
    return { metrics, warnings };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { metrics, error: message, warnings };
  } finally {
    for (const c of clients) {
      if (c) {
        c.onFatal = null;
        c.setHandler(null);
        if (!c.closed) c.terminate();
      }
    }
  }
}
