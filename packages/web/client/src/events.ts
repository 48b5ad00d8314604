/**
 * A small typed event emitter for the client's domain objects (connection, conference, sessions). Listeners are
 * called synchronously in registration order; a throwing listener is reported and does not stop the others
 * (STYLE §3.7 `safeEmit`).
 */
export type Listener<T> = (payload: T) => void;

export class Emitter<Events extends object> {
  #listeners = new Map<keyof Events, Set<Listener<never>>>();

  /** Subscribes; returns the unsubscribe function. */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    let set = this.#listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener as Listener<never>);
    return () => set.delete(listener as Listener<never>);
  }

  protected emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    for (const l of [...(this.#listeners.get(event) ?? [])]) {
      try {
        (l as Listener<Events[K]>)(payload);
      } catch (err) {
        console.error(`listener for ${String(event)} failed`, err);
      }
    }
  }

  /** Drops every listener (on close). */
  protected removeAllListeners(): void {
    this.#listeners.clear();
  }
}
