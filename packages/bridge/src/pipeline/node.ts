/**
 * Packet pipeline nodes (JVB `Node`/`PipelineDsl`, pion interceptors bound once per stream).
 *
 * A pipeline is built once per endpoint; per packet it is a chain of synchronous `process()` calls with no
 * allocation. Ownership: a node that receives a {@link PacketInfo} owns it and must do exactly one of: hand it
 * to the next node, drop it (counted, released to the pool), or keep it (a consumer that stores it, e.g. the NACK
 * cache). Nothing on this path throws: an exception inside a node is counted as the drop reason `exception` and
 * the packet is released. Nodes therefore forward or drop as their last action.
 *
 * References: STYLE.md §3.4 (node kinds, per-node drop counters, `stats()` walking the tree); JVB
 * `jitsi-media-transform/.../node/Node.kt`, `PipelineBuilder.kt`.
 */
import type { PacketInfo } from '../rtp/packet-info.js';

/** Counters of one node (and of its sub-pipelines for a demux / of its nodes for a pipeline). */
export interface NodeStats {
  name: string;
  /** Packets that entered the node. */
  packetsIn: number;
  /** Packets handed on (for a consumer: consumed). */
  packetsOut: number;
  /** Packets dropped, all reasons. */
  dropped: number;
  /** Drops by reason. */
  drops: Record<string, number>;
  children?: NodeStats[];
}

/** Where dropped or fully handled packets go (normally `pool.release`). */
export type PacketSink = (p: PacketInfo) => void;

/** One step of a pipeline. */
export interface Node {
  readonly name: string;
  /** Takes ownership of `p`. Never throws. */
  process(p: PacketInfo): void;
  stats(): NodeStats;
  /** Forget per-SSRC state (pion `Unbind*`). */
  unbindSsrc?(ssrc: number): void;
}

const noRelease: PacketSink = () => {};

/**
 * Base of every node: counters, `forward`/`drop`, and the exception guard. Subclasses implement
 * {@link PipelineNode.handle} and end it with `forward(p)`, `drop(p, reason)` or by keeping `p`.
 */
export abstract class PipelineNode implements Node {
  readonly name: string;
  /** Next node; set by the builder. None: forwarded packets are released (end of the line). */
  next: Node | undefined = undefined;
  /** Drop sink; set by the builder. */
  release: PacketSink = noRelease;
  protected packetsIn = 0;
  protected packetsOut = 0;
  protected dropped = 0;
  readonly #drops = new Map<string, number>();

  constructor(name: string) {
    this.name = name;
  }

  process(p: PacketInfo): void {
    this.packetsIn++;
    try {
      this.handle(p);
    } catch {
      // A bug or an unforeseen input: count it, free the packet, keep the pipeline alive.
      this.count('exception');
      this.release(p);
    }
  }

  /** The node's work; see the class comment. */
  protected abstract handle(p: PacketInfo): void;

  /** Hands `p` to the next node. */
  protected forward(p: PacketInfo): void {
    this.packetsOut++;
    const next = this.next;
    if (next === undefined) this.release(p);
    else next.process(p);
  }

  /** Drops `p` (counted under `reason`, a constant string) and releases it. */
  protected drop(p: PacketInfo, reason: string): void {
    this.count(reason);
    this.release(p);
  }

  /** Counts a drop without releasing (for packets the node handled some other way). */
  protected count(reason: string): void {
    this.dropped++;
    this.#drops.set(reason, (this.#drops.get(reason) ?? 0) + 1);
  }

  stats(): NodeStats {
    return {
      name: this.name,
      packetsIn: this.packetsIn,
      packetsOut: this.packetsOut,
      dropped: this.dropped,
      drops: Object.fromEntries(this.#drops),
    };
  }
}

/** Result of a transformer function: the packet to forward, a drop reason, or undefined (drop as `dropped`). */
export type TransformResult = PacketInfo | string | undefined;

class TransformerNode extends PipelineNode {
  readonly #fn: (p: PacketInfo) => TransformResult;
  readonly #unbind: ((ssrc: number) => void) | undefined;
  constructor(name: string, fn: (p: PacketInfo) => TransformResult, unbind?: (ssrc: number) => void) {
    super(name);
    this.#fn = fn;
    this.#unbind = unbind;
  }
  protected handle(p: PacketInfo): void {
    const r = this.#fn(p);
    if (typeof r === 'object') this.forward(r);
    else this.drop(p, r ?? 'dropped');
  }
  unbindSsrc(ssrc: number): void {
    this.#unbind?.(ssrc);
  }
}

/**
 * A node that may rewrite the packet: `fn` returns the packet to forward (usually `p` itself), a drop reason, or
 * undefined to drop it as `dropped`. `unbind` forgets per-SSRC state.
 */
export function transformer(name: string, fn: (p: PacketInfo) => TransformResult, unbind?: (ssrc: number) => void): PipelineNode {
  return new TransformerNode(name, fn, unbind);
}

class FilterNode extends PipelineNode {
  readonly #pred: (p: PacketInfo) => boolean;
  readonly #reason: string;
  constructor(name: string, pred: (p: PacketInfo) => boolean, reason: string) {
    super(name);
    this.#pred = pred;
    this.#reason = reason;
  }
  protected handle(p: PacketInfo): void {
    if (this.#pred(p)) this.forward(p);
    else this.drop(p, this.#reason);
  }
}

/** Forwards packets for which `pred` is true, drops the others as `reason`. */
export function filter(name: string, pred: (p: PacketInfo) => boolean, reason = 'filtered'): PipelineNode {
  return new FilterNode(name, pred, reason);
}

class ObserverNode extends PipelineNode {
  readonly #fn: (p: PacketInfo) => void;
  readonly #unbind: ((ssrc: number) => void) | undefined;
  constructor(name: string, fn: (p: PacketInfo) => void, unbind?: (ssrc: number) => void) {
    super(name);
    this.#fn = fn;
    this.#unbind = unbind;
  }
  protected handle(p: PacketInfo): void {
    this.#fn(p);
    this.forward(p);
  }
  unbindSsrc(ssrc: number): void {
    this.#unbind?.(ssrc);
  }
}

/** Looks at every packet and forwards it (stats, audio levels, …). */
export function observer(name: string, fn: (p: PacketInfo) => void, unbind?: (ssrc: number) => void): PipelineNode {
  return new ObserverNode(name, fn, unbind);
}

class ConsumerNode extends PipelineNode {
  readonly #fn: (p: PacketInfo) => void;
  constructor(name: string, fn: (p: PacketInfo) => void) {
    super(name);
    this.#fn = fn;
  }
  protected handle(p: PacketInfo): void {
    this.packetsOut++;
    this.#fn(p);
  }
}

/** The end of a pipeline: `fn` takes ownership of the packet (sends, stores or releases it). */
export function consumer(name: string, fn: (p: PacketInfo) => void): PipelineNode {
  return new ConsumerNode(name, fn);
}

/** One branch of a {@link demux}. */
export interface DemuxPath {
  readonly name: string;
  readonly predicate: (p: PacketInfo) => boolean;
  /** First node of the branch. */
  readonly head: Node;
  /** The branch's nodes, for stats and unbinding. */
  readonly nodes: readonly Node[];
}

class DemuxNode extends PipelineNode {
  readonly #paths: readonly DemuxPath[];
  constructor(name: string, paths: readonly DemuxPath[]) {
    super(name);
    this.#paths = paths;
  }
  protected handle(p: PacketInfo): void {
    const paths = this.#paths;
    for (let i = 0; i < paths.length; i++) {
      const path = paths[i] as DemuxPath;
      if (path.predicate(p)) {
        this.packetsOut++;
        path.head.process(p);
        return;
      }
    }
    this.drop(p, 'no-path');
  }
  override stats(): NodeStats {
    const s = super.stats();
    s.children = this.#paths.map((path) => sequenceStats(path.name, path.nodes));
    return s;
  }
  unbindSsrc(ssrc: number): void {
    for (const path of this.#paths) for (const n of path.nodes) n.unbindSsrc?.(ssrc);
  }
}

/** Sends each packet down the first path whose predicate matches; none: dropped as `no-path`. */
export function demux(name: string, paths: readonly DemuxPath[]): PipelineNode {
  return new DemuxNode(name, paths);
}

/** Stats of a node sequence as one entry (in = first node's in, out = last node's out). */
function sequenceStats(name: string, nodes: readonly Node[]): NodeStats {
  const children = nodes.map((n) => n.stats());
  const first = children[0];
  const last = children[children.length - 1];
  let dropped = 0;
  for (const c of children) dropped += c.dropped;
  return {
    name,
    packetsIn: first?.packetsIn ?? 0,
    packetsOut: last?.packetsOut ?? 0,
    dropped,
    drops: {},
    children,
  };
}

/** Builds a node sequence; see {@link pipeline}. */
export class PipelineBuilder {
  readonly #release: PacketSink;
  readonly nodes: Node[] = [];

  constructor(release: PacketSink) {
    this.#release = release;
  }

  /** Appends a node. */
  node(n: PipelineNode): this {
    n.release = this.#release;
    const prev = this.nodes[this.nodes.length - 1];
    if (prev instanceof PipelineNode) prev.next = n;
    this.nodes.push(n);
    return this;
  }

  /** Appends a demux whose paths are built by `fn`. Nothing can follow a demux. */
  demux(name: string, fn: (d: DemuxBuilder) => void): this {
    const d = new DemuxBuilder(this.#release);
    fn(d);
    return this.node(demux(name, d.paths));
  }

  /** The first node (throws if empty: a programming error at build time). */
  head(): Node {
    const h = this.nodes[0];
    if (h === undefined) throw new TypeError('empty pipeline');
    return h;
  }
}

/** Collects the paths of a demux. */
export class DemuxBuilder {
  readonly #release: PacketSink;
  readonly paths: DemuxPath[] = [];

  constructor(release: PacketSink) {
    this.#release = release;
  }

  /** Adds a branch taken when `predicate` matches. */
  path(name: string, predicate: (p: PacketInfo) => boolean, fn: (b: PipelineBuilder) => void): this {
    const b = new PipelineBuilder(this.#release);
    fn(b);
    this.paths.push({ name, predicate, head: b.head(), nodes: b.nodes });
    return this;
  }
}

/** A built pipeline. */
export interface Pipeline {
  readonly name: string;
  /** Enters the pipeline; takes ownership of `p`. */
  process(p: PacketInfo): void;
  /** The node tree's counters. */
  stats(): NodeStats;
  /** Forgets per-SSRC state in every node. */
  unbindSsrc(ssrc: number): void;
}

/**
 * Builds a pipeline once (JVB `pipeline { node(…); demux(…) { path(…) } }`). `release` receives dropped packets
 * and packets that run off the end.
 */
export function pipeline(name: string, release: PacketSink, fn: (b: PipelineBuilder) => void): Pipeline {
  const b = new PipelineBuilder(release);
  fn(b);
  const head = b.head();
  const nodes = b.nodes;
  return {
    name,
    process: (p) => head.process(p),
    stats: () => sequenceStats(name, nodes),
    unbindSsrc(ssrc) {
      for (const n of nodes) n.unbindSsrc?.(ssrc);
    },
  };
}
