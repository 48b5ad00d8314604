/**
 * Bridge: the root of the domain tree (Bridge → Conference → Endpoint → source → encodings). Holds the
 * conferences (by bridge-local id and by meeting id), answers Colibri2-shaped requests in process, gives the
 * stats snapshot, and closes everything.
 *
 * `conferenceModify()` is synchronous: validation, application and the reply happen in one call, so requests
 * for one conference can never interleave. (An XMPP or async facade can wrap it; see colibri/handler.ts.)
 *
 * References: STYLE.md §3.3/§3.4 (colibri2-shaped API, lifecycle cascades), §3.8 (logging context); PROTOCOL.md §5.
 */
import type { Logger } from 'pino';
import { handleConferenceModify } from './colibri/handler.js';
import type { ConferenceModified, ConferenceModify } from './colibri/types.js';
import { Conference } from './conference.js';
import { type BridgeConfig, type BridgeConfigInput, parseBridgeConfig } from './config.js';
import type { Endpoint } from './endpoint.js';
import { InvalidStateError } from './errors.js';
import { PacketInfoPool } from './rtp/packet-info.js';
import {
  type BridgeEvents,
  type BridgeStatsSnapshot,
  type Clock,
  SafeEmitter,
  type Scheduler,
  silentLogger,
  systemClock,
  systemScheduler,
  type TransportFactory,
} from './types.js';

/** Options of a {@link Bridge}. */
export interface BridgeOptions {
  /** Creates each endpoint's media transport. */
  transportFactory: TransportFactory;
  /** The `bridge` config section (validated here; omitted keys take their defaults). */
  config?: BridgeConfigInput;
  /** Parent logger; the bridge logs under `{ component: 'bridge' }`. Default: silent. */
  log?: Logger;
  /** Monotonic clock. Default `performance.now()`. */
  clock?: Clock;
  /** Timers. Default Node timers (unref'd). */
  scheduler?: Scheduler;
}

/** The SFU core. See the module comment. */
export class Bridge extends SafeEmitter<BridgeEvents> {
  readonly config: BridgeConfig;
  readonly log: Logger;
  readonly #transportFactory: TransportFactory;
  readonly #clock: Clock;
  readonly #scheduler: Scheduler;
  readonly #pool = new PacketInfoPool();
  readonly #wallOffsetMs: number;
  readonly #byId = new Map<string, Conference>();
  readonly #byMeetingId = new Map<string, Conference>();
  #closed = false;

  constructor(options: BridgeOptions) {
    super();
    this.config = parseBridgeConfig(options.config ?? {});
    this.log = (options.log ?? silentLogger()).child({ component: 'bridge' });
    this.#transportFactory = options.transportFactory;
    this.#clock = options.clock ?? systemClock;
    this.#scheduler = options.scheduler ?? systemScheduler;
    this.#wallOffsetMs = Date.now() - this.#clock.nowMs();
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Conferences by bridge-local id. */
  get conferences(): ReadonlyMap<string, Conference> {
    return this.#byId;
  }

  /** Handles a Colibri2 `conference-modify` (see colibri/handler.ts). Throws {@link ColibriError}s. */
  conferenceModify(req: ConferenceModify): ConferenceModified {
    return handleConferenceModify(this, req);
  }

  /** A conference by bridge-local id (the colibri-ws path segment). */
  getConference(id: string): Conference | undefined {
    return this.#byId.get(id);
  }

  /** A conference by meeting id. */
  getConferenceByMeetingId(meetingId: string): Conference | undefined {
    return this.#byMeetingId.get(meetingId);
  }

  /** An endpoint by conference id and endpoint id (what the colibri-ws path names). */
  getEndpoint(conferenceId: string, endpointId: string): Endpoint | undefined {
    return this.#byId.get(conferenceId)?.endpoints.get(endpointId);
  }

  /** Creates an empty conference. Internal (colibri handler); use {@link conferenceModify}. */
  createConference(meetingId: string, name: string | undefined): Conference {
    if (this.#closed) throw new InvalidStateError('bridge closed');
    const conf = new Conference({
      meetingId,
      name,
      config: this.config,
      clock: this.#clock,
      scheduler: this.#scheduler,
      pool: this.#pool,
      transportFactory: this.#transportFactory,
      log: this.log,
      wallClockOffsetMs: this.#wallOffsetMs,
      onExpired: (c) => this.#conferenceExpired(c),
    });
    this.#byId.set(conf.id, conf);
    this.#byMeetingId.set(meetingId, conf);
    this.safeEmit('conferenceCreated', conf.id, meetingId);
    return conf;
  }

  /** Snapshot of every conference and endpoint. */
  stats(): BridgeStatsSnapshot {
    const conferenceList = [...this.#byId.values()].map((c) => c.stats());
    const s: BridgeStatsSnapshot = {
      conferences: conferenceList.length,
      endpoints: 0,
      packetsReceived: 0,
      packetsSent: 0,
      bytesReceived: 0,
      bytesSent: 0,
      conferenceList,
    };
    for (const c of conferenceList) {
      for (const e of c.endpoints) {
        s.endpoints++;
        s.packetsReceived += e.received.packets;
        s.bytesReceived += e.received.bytes;
        s.packetsSent += e.sent.packets;
        s.bytesSent += e.sent.bytes;
      }
    }
    return s;
  }

  /** Packet pool counters (debugging: `created` should stay bounded under steady load). */
  poolStats(): { created: number; pooled: number; reused: number } {
    return this.#pool.stats();
  }

  /** Expires every conference and refuses further requests (`graceful_shutdown`). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const c of [...this.#byId.values()]) c.expire();
    this.log.info('bridge closed');
    this.safeEmit('closed');
    this.removeAllListeners();
  }

  protected override listenerError(event: keyof BridgeEvents, err: unknown): void {
    this.log.error({ err, event }, 'bridge event listener threw');
  }

  #conferenceExpired(c: Conference): void {
    if (this.#byId.get(c.id) === c) this.#byId.delete(c.id);
    if (this.#byMeetingId.get(c.meetingId) === c) this.#byMeetingId.delete(c.meetingId);
    this.safeEmit('conferenceExpired', c.id, c.meetingId);
  }
}
