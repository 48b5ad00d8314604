/**
 * Helpers shared by the browser system tests (test/web-client*.test.ts): the pages of one test by person name, their
 * collected console/page errors, and a poll loop for conditions read from the pages (never fixed sleeps).
 */

export interface PagePerson {
  name: string;
  /** Console errors and page errors of this person's page. */
  errors: string[];
}

export function personIn<P extends PagePerson>(people: ReadonlyMap<string, P>, name: string): P {
  const p = people.get(name);
  if (p === undefined) throw new Error(`${name} has not joined`);
  return p;
}

export function othersIn<P extends PagePerson>(people: ReadonlyMap<string, P>, name: string): P[] {
  return [...people.values()].filter((p) => p.name !== name);
}

export function pageErrorsIn(people: ReadonlyMap<string, PagePerson>): string {
  return [...people.values()].flatMap((p) => p.errors.map((e) => `${p.name}: ${e}`)).join('\n');
}

/** Polls `check` (async) every 100 ms until it returns undefined; on timeout fails with its reason and `context()`. */
export async function pollUntil(check: () => Promise<string | undefined>, context: () => string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reason = await check();
    if (reason === undefined) return;
    if (Date.now() > deadline) throw new Error(`timed out: ${reason}\n${context()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
