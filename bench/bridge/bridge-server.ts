/**
 * Child-process entry of the bridge bench: `node --import tsx bench/bridge/bridge-server.ts`, so the
 * bridge has its own process and event loop (and its own /proc CPU and RSS), apart from the load
 * generator.
 *
 * Assembles what a deployment would: one DTLS certificate, one UdpMux on 127.0.0.1 (any free port),
 * and a Bridge whose transport factory puts a real EndpointTransport (ICE + DTLS + SRTP) on that mux
 * per endpoint. It is then driven over the JSON-lines control channel of protocol.ts (stdin →
 * requests, stdout → `ready` and replies): Colibri2 conference-modify, ReceiverVideoConstraints and
 * audio subscriptions per endpoint, counters, an optional in-process CPU profile, exit.
 *
 * Exits when asked to, on SIGTERM/SIGINT, or when stdin closes (the parent went away).
 * BENCH_BRIDGE_LOG=<level> sends the bridge's pino logs to stderr (default: silent).
 * BENCH_BRIDGE_TIME_SENDS=1 times every UdpMux.send (the sendto syscall) with process.hrtime, to tell
 * the kernel's share of the per-packet cost without a profiler (adds ~0.1 µs per packet).
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { createInterface } from 'node:readline';
import { pino, type Logger } from 'pino';
import {
  Bridge,
  EndpointTransport,
  UdpMux,
  createBridgeCertificate,
  silentLogger,
  type NodeStats,
} from '@jitsi-one/bridge';
import { CONTROL_PREFIX, type BridgeCounters, type ControlMessage, type ControlRequest } from './protocol.js';

function send(msg: ControlMessage): void {
  process.stdout.write(`${CONTROL_PREFIX}${JSON.stringify(msg)}\n`);
}

function addDrops(into: Record<string, number>, prefix: string, s: NodeStats): void {
  for (const [reason, n] of Object.entries(s.drops)) {
    if (n > 0) into[`${prefix}${s.name}/${reason}`] = (into[`${prefix}${s.name}/${reason}`] ?? 0) + n;
  }
  for (const c of s.children ?? []) addDrops(into, prefix, c);
}

async function main(): Promise<void> {
  const level = process.env.BENCH_BRIDGE_LOG;
  const log: Logger = level ? pino({ level }, pino.destination(2)) : silentLogger();
  const certificate = await createBridgeCertificate();
  const mux = await UdpMux.create({
    port: 0,
    bindAddress: '127.0.0.1',
    hostAddresses: ['127.0.0.1'],
    receiveBufferBytes: 4 << 20,
    sendBufferBytes: 4 << 20,
    log,
  });
  const sendTiming = { count: 0, ns: 0n };
  if (process.env.BENCH_BRIDGE_TIME_SENDS) {
    const send = mux.send.bind(mux);
    mux.send = (buf: Buffer, len: number, ip: string, port: number): boolean => {
      const t0 = process.hrtime.bigint();
      const queued = send(buf, len, ip, port);
      sendTiming.ns += process.hrtime.bigint() - t0;
      sendTiming.count++;
      return queued;
    };
  }
  const transports = new Map<string, EndpointTransport>();
  const bridge = new Bridge({
    transportFactory: (id) => {
      const t = new EndpointTransport({ mux, certificate, log: log.child({ epId: id }) });
      transports.set(id, t);
      return t;
    },
    // No REMB/transport-cc comes back from the generator's receivers, so the estimator would not
    // limit anything anyway; switched off so that the allocation depends on the constraints only. The per-endpoint
    // receive limit is off too: the rate search sends up to ~20 Mbit/s per sender to find the forwarding ceiling.
    config: { bwe: { enabled: false }, limits: { maxReceiveBitrateBps: 0 } },
    log,
  });

  let profiler: Session | undefined;
  let exiting = false;
  const shutdown = (code: number): void => {
    if (exiting) return;
    exiting = true;
    try {
      bridge.close();
    } catch {
      /* best effort */
    }
    const force = setTimeout(() => process.exit(code), 2000);
    force.unref();
    void mux.close().finally(() => process.exit(code));
  };

  const conference = (meetingId: string) => {
    const c = bridge.getConferenceByMeetingId(meetingId);
    if (c === undefined) throw new Error(`no conference ${meetingId}`);
    return c;
  };
  const endpoint = (meetingId: string, endpointId: string) => {
    const e = conference(meetingId).endpoints.get(endpointId);
    if (e === undefined) throw new Error(`no endpoint ${endpointId}`);
    return e;
  };

  const counters = (meetingId: string): BridgeCounters => {
    const s = bridge.stats();
    const transportDrops: Record<string, number> = {};
    for (const t of transports.values()) {
      for (const [k, v] of Object.entries(t.stats().dropped)) if (v > 0) transportDrops[k] = (transportDrops[k] ?? 0) + v;
    }
    const pipelineDrops: Record<string, number> = {};
    const layerHistogram: Record<string, number> = {};
    let keyframeRequests = 0;
    for (const c of s.conferenceList) {
      if (c.meetingId !== meetingId) continue;
      for (const e of c.endpoints) {
        keyframeRequests += e.keyframeRequestsSent;
        addDrops(pipelineDrops, 'receive:', e.pipelines.receive);
        addDrops(pipelineDrops, 'rtcp:', e.pipelines.rtcp);
        addDrops(pipelineDrops, 'send:', e.pipelines.send);
        for (const l of e.layers) layerHistogram[String(l.encoding)] = (layerHistogram[String(l.encoding)] ?? 0) + 1;
      }
    }
    const muxDrops: Record<string, number> = {};
    for (const [k, v] of Object.entries(mux.counters.dropped)) if (v > 0) muxDrops[k] = v;
    return {
      atMs: performance.now(),
      rtpReceived: s.packetsReceived,
      rtpSent: s.packetsSent,
      bytesSent: s.bytesSent,
      muxIn: mux.counters.datagramsIn,
      muxOut: mux.counters.datagramsOut,
      muxSendsQueued: mux.counters.sendsQueued,
      muxDrops,
      transportDrops,
      pipelineDrops,
      keyframeRequests,
      pool: bridge.poolStats(),
      layerHistogram,
      heapUsed: process.memoryUsage().heapUsed,
      ...(process.env.BENCH_BRIDGE_TIME_SENDS ? { sends: { count: sendTiming.count, us: Number(sendTiming.ns / 1000n) } } : {}),
    };
  };

  const handle = async (r: ControlRequest): Promise<unknown> => {
    switch (r.op) {
      case 'conferenceModify':
        return bridge.conferenceModify(r.req);
      case 'setReceiverConstraints':
        endpoint(r.meetingId, r.endpointId).setReceiverConstraints(r.constraints);
        return undefined;
      case 'setReceiverAudioSubscription':
        endpoint(r.meetingId, r.endpointId).setReceiverAudioSubscription({ all: r.all });
        return undefined;
      case 'transportStates': {
        const out: Record<string, string> = {};
        for (const [id, e] of conference(r.meetingId).endpoints) out[id] = e.transport.state;
        return out;
      }
      case 'stats':
        return counters(r.meetingId);
      case 'profileStart':
        if (profiler === undefined) {
          profiler = new Session();
          profiler.connect();
          await profiler.post('Profiler.enable');
          await profiler.post('Profiler.setSamplingInterval', { interval: 250 });
          await profiler.post('Profiler.start');
        }
        return undefined;
      case 'profileStop': {
        if (profiler === undefined) throw new Error('profiler not started');
        const { profile } = await profiler.post('Profiler.stop');
        profiler.disconnect();
        profiler = undefined;
        writeFileSync(r.path, JSON.stringify(profile));
        return { path: r.path };
      }
      case 'exit':
        setImmediate(() => shutdown(0));
        return undefined;
    }
  };

  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
  rl.on('line', (line) => {
    if (line.trim() === '') return;
    let req: ControlRequest;
    try {
      req = JSON.parse(line) as ControlRequest;
    } catch {
      process.stderr.write(`bridge-server: bad control line: ${line.slice(0, 200)}\n`);
      return;
    }
    handle(req).then(
      (result) => send({ type: 'reply', id: req.id, ok: true, result }),
      (err: unknown) => send({ type: 'reply', id: req.id, ok: false, error: err instanceof Error ? err.message : String(err) }),
    );
  });
  rl.on('close', () => shutdown(0));
  process.on('SIGTERM', () => shutdown(0));
  process.on('SIGINT', () => shutdown(0));

  send({ type: 'ready', pid: process.pid, port: mux.port });
}

main().catch((err: unknown) => {
  send({ type: 'fatal', error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  process.exit(1);
});
