/**
 * XEP-0198 stream management counters and the unacknowledged outbound queue of one session.
 *
 * References:
 * - https://xmpp.org/extensions/xep-0198.html#acking (h counts stanzas: iq, message, presence)
 * - https://xmpp.org/extensions/xep-0198.html#resumption
 */
export class StreamManagement {
  /** Secret resumption id (undefined when the client did not ask for resumption). */
  readonly resumptionId: string | undefined;
  /** Stanzas received from the client (h we report in <a/>), mod 2^32. */
  handledInbound = 0;
  /** Stanzas sent to the client and acknowledged, mod 2^32. */
  ackedOutbound = 0;
  /** Sent but not yet acknowledged, oldest first. */
  readonly unacked: string[] = [];
  /** Most unacked stanzas kept; beyond that the oldest are dropped and resumption will fail. */
  readonly maxQueue: number;
  overflowed = false;

  constructor(resumptionId: string | undefined, maxQueue = 1000) {
    this.resumptionId = resumptionId;
    this.maxQueue = maxQueue;
  }

  inbound(): void {
    this.handledInbound = (this.handledInbound + 1) >>> 0;
  }

  outbound(data: string): void {
    this.unacked.push(data);
    if (this.unacked.length > this.maxQueue) {
      this.unacked.shift();
      this.overflowed = true;
    }
  }

  /** The client acknowledged h stanzas in total. False if h is impossible (more than we sent). */
  acknowledge(h: number): boolean {
    const newly = (h - this.ackedOutbound) >>> 0;
    if (newly > this.unacked.length) return false;
    this.unacked.splice(0, newly);
    this.ackedOutbound = h >>> 0;
    return true;
  }
}
