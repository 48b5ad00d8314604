/**
 * XML fuzzing (issue 7: "XML and RTP/RTCP/STUN fuzzing: at least 100,000 cases in the test suite … the process never
 * crashes or leaks"). The RTP/RTCP/STUN side is packages/bridge/test/fuzz-port.test.ts; this is the XML side, on the
 * same engine (seeded per-case PRNG, failure reports with seed, case and input hex, hang watchdog):
 *
 * - 100,000 mutated stanzas, stream headers, BOSH bodies and SASL/Jingle/LJM presences through XmlStreamParser in
 *   random chunk sizes, stream and framed mode, default and small limits (invariants: fuzz/families.ts);
 * - the parser stays linear on pathological inputs fed in tiny chunks;
 * - 5,000 fuzzed WebSocket connections into a live XmppServer, each followed by a ping from a separate healthy
 *   session, with process-wide uncaughtException/unhandledRejection traps and a session-leak check.
 *
 * FUZZ_SEED=<n> picks another seed; FUZZ_SCALE=<x> scales the case counts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatFailures, runFamily } from '../../bridge/test/fuzz/engine.js';
import { exposeGc, heapUsedAfterGc } from '../../bridge/test/fuzz/gc.js';
import { seedFromEnv } from '../../bridge/test/fuzz/prng.js';
import { Watchdog } from '../../bridge/test/fuzz/watchdog.js';
import { XmlStreamParser } from '../src/index.js';
import { type XmlSessionFamily, createXmlParserFamily, createXmlSessionFamily } from './fuzz/families.js';

const SEED = seedFromEnv('FUZZ_SEED', 0x00c0ffee);
const SCALE = Number(process.env.FUZZ_SCALE ?? 1) || 1;
const PARSER_CASES = Math.round(100_000 * SCALE);
const SESSION_CASES = Math.round(5_000 * SCALE);
/** Family numbers (as in bench/fuzz/fuzz.ts). */
const XML = 7;
const XML_SESSION = 8;

const asyncErrors: string[] = [];
const onUncaught = (err: unknown): void => void asyncErrors.push(`uncaughtException: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
const onRejection = (err: unknown): void => void asyncErrors.push(`unhandledRejection: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);

let watchdog: Watchdog;
beforeAll(() => {
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onRejection);
  watchdog = new Watchdog({ [XML]: 'xml', [XML_SESSION]: 'xml-session', 207: 'xml-warm-up' });
});
afterAll(async () => {
  process.off('uncaughtException', onUncaught);
  process.off('unhandledRejection', onRejection);
  await watchdog?.stop();
});

describe(`XML fuzzing (seed ${SEED})`, () => {
  it(`the parser survives ${PARSER_CASES.toLocaleString('en')} mutated inputs in random chunks, within its limits, without leaking`, async () => {
    const gc = exposeGc();
    await runFamily(createXmlParserFamily(), { seed: SEED ^ 1, cases: 2000, familyIndex: 207, watchdog });
    const heapBefore = gc !== undefined ? heapUsedAfterGc(gc) : 0;
    const r = await runFamily(createXmlParserFamily(), { seed: SEED, cases: PARSER_CASES, familyIndex: XML, watchdog });
    expect(r.failureCount, formatFailures([r])).toBe(0);
    // Every kind of outcome is reached, in both modes.
    if (SCALE >= 1) {
      for (const mode of ['framed', 'stream']) {
        for (const o of ['parsed', 'pending', 'not-well-formed', 'restricted-xml', 'policy-violation']) {
          expect(r.outcomes[`${mode}:${o}`] ?? 0, `${mode}:${o} never happened: ${JSON.stringify(r.outcomes)}`).toBeGreaterThan(0);
        }
      }
    }
    if (gc !== undefined) {
      const grownMb = (heapUsedAfterGc(gc) - heapBefore) / 1e6;
      expect(grownMb, `heap grew by ${grownMb.toFixed(1)} MB`).toBeLessThan(16);
    }
    expect(asyncErrors).toEqual([]);
  }, 60_000);

  it('the parser stays linear on pathological inputs arriving in tiny chunks', () => {
    const shapes: Record<string, (n: number) => string> = {
      'long attribute value': (n) => `<message to="${'a'.repeat(n)}"/>`,
      'long attribute value with quotes of the other kind': (n) => `<message to="${"'".repeat(n)}"/>`,
      'text of references': (n) => `<message><body>${'&amp;'.repeat(n / 5)}</body></message>`,
      'long text after a reference': (n) => `<message><body>&amp;${'x'.repeat(n)}&lt;</body></message>`,
      'long CDATA with near-terminators': (n) => `<message><body><![CDATA[${']]'.repeat(n / 2)}]]></body></message>`,
      'many siblings': (n) => `<message>${'<a/>'.repeat(n / 4)}</message>`,
      'many stanzas': (n) => '<a/>'.repeat(n / 4),
      'whitespace keepalives': (n) => ' '.repeat(n),
      'nesting open and close': (n) => `<m>${'<a></a>'.repeat(n / 7)}</m>`,
    };
    const limits = { maxStanzaSize: 10_000_000, maxDepth: 64, maxAttributes: 64 };
    const time = (doc: string): number => {
      let best = Number.POSITIVE_INFINITY;
      for (let rep = 0; rep < 3; rep++) {
        const p = new XmlStreamParser('framed', { element: () => {}, error: (e) => { throw e; } }, limits);
        const t0 = performance.now();
        for (let i = 0; i < doc.length; i += 1 + (i % 13)) p.write(doc.slice(i, i + 1 + (i % 13)));
        best = Math.min(best, performance.now() - t0);
      }
      return best;
    };
    for (const [name, make] of Object.entries(shapes)) {
      const small = time(make(40_000));
      const big = time(make(320_000));
      // 8× the input: linear ≈ 8×, quadratic ≈ 64×. Generous for timer noise on small times.
      expect(big, `${name}: ${small.toFixed(1)} ms for 40k, ${big.toFixed(1)} ms for 320k`).toBeLessThan(Math.max(small, 2) * 24);
    }
  }, 60_000);

  describe('a live server', () => {
    let family: XmlSessionFamily;
    beforeAll(async () => {
      family = await createXmlSessionFamily();
    });
    afterAll(async () => {
      await family?.close?.();
    });

    it(`survives ${SESSION_CASES.toLocaleString('en')} fuzzed WebSocket connections; a healthy session keeps getting answers`, async () => {
      const timersBefore = process.getActiveResourcesInfo().filter((x) => x === 'Timeout').length;
      const r = await runFamily(family, { seed: SEED, cases: SESSION_CASES, familyIndex: XML_SESSION, watchdog, yieldEvery: 64 });
      expect(r.failureCount, formatFailures([r])).toBe(0);
      await new Promise((res) => setTimeout(res, 50));
      expect(asyncErrors).toEqual([]);
      if (SCALE >= 1) {
        // Both ends of the range happen: connections ended by a stream error, and connections still usable.
        expect(r.outcomes['bound:usable'] ?? 0, JSON.stringify(r.outcomes)).toBeGreaterThan(0);
        expect(r.outcomes['bound:stream-error'] ?? 0, JSON.stringify(r.outcomes)).toBeGreaterThan(0);
        expect(r.outcomes['raw:stream-error'] ?? 0, JSON.stringify(r.outcomes)).toBeGreaterThan(0);
      }
      // No session kept alive by a closed connection (finish() asserts it); only XEP-0198 resumption timers
      // (unref'd, one per detached session) may remain.
      expect(family.liveFuzzSessions()).toBe(0);
      const timersAfter = process.getActiveResourcesInfo().filter((x) => x === 'Timeout').length;
      expect(timersAfter - timersBefore).toBeLessThanOrEqual(Math.max(0, family.srv.xmpp.allSessions.size));
    }, 60_000);
  });
});
