/**
 * Event-named hook bus, after Prosody's util/events: handlers run in descending priority; the first handler that
 * returns something other than `undefined` stops propagation and its value is the result of `fire`.
 */
export type Handler<E> = (event: E) => unknown;

interface Entry<E> {
  handler: Handler<E>;
  priority: number;
}

export class HookBus<E> {
  readonly #handlers = new Map<string, Entry<E>[]>();

  /** Register a handler; higher priority runs first. Returns a function that removes it. */
  on(name: string, handler: Handler<E>, priority = 0): () => void {
    const list = this.#handlers.get(name) ?? [];
    const entry = { handler, priority };
    let i = 0;
    while (i < list.length && (list[i] as Entry<E>).priority >= priority) i++;
    list.splice(i, 0, entry);
    this.#handlers.set(name, list);
    return () => {
      const l = this.#handlers.get(name);
      if (!l) return;
      const idx = l.indexOf(entry);
      if (idx !== -1) l.splice(idx, 1);
      if (l.length === 0) this.#handlers.delete(name);
    };
  }

  has(name: string): boolean {
    return this.#handlers.has(name);
  }

  /** Run handlers for `name`; returns the first non-undefined result (or undefined if none handled it). */
  fire(name: string, event: E): unknown {
    const list = this.#handlers.get(name);
    if (!list) return undefined;
    if (list.length === 1) return (list[0] as Entry<E>).handler(event);
    for (const entry of list.slice()) {
      const r = entry.handler(event);
      if (r !== undefined) return r;
    }
    return undefined;
  }
}
