/**
 * Everything the client keeps in the browser, in local storage only (no cookies, no other storage): a random user
 * id (the conference IQ's `machine-uid`), the display name, the join options, and recent meeting names, which the
 * user can forget one by one or all at once. Keys are prefixed `jitsi-one.`; the full list is {@link STORAGE_KEYS}.
 *
 * TODO(#6): a server setting that disables recent rooms; device choice.
 */

/** The subset of the Web Storage API used (so the class runs on a fake in unit tests). */
export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** Every key this client writes. */
export const STORAGE_KEYS = {
  userId: 'jitsi-one.userId',
  displayName: 'jitsi-one.displayName',
  joinOptions: 'jitsi-one.joinOptions',
  recentRooms: 'jitsi-one.recentRooms',
} as const;

/** How many recent meetings are remembered. */
export const MAX_RECENT_ROOMS = 10;

export interface RecentRoom {
  name: string;
  /** When last joined (ms since epoch). */
  joinedAt: number;
}

export interface JoinOptions {
  audioMuted: boolean;
  videoMuted: boolean;
}

export class LocalSettings {
  readonly #store: StorageLike | undefined;

  /** `store` undefined (storage blocked): nothing is remembered. */
  constructor(store: StorageLike | undefined) {
    this.#store = store;
  }

  /** A random id for this browser, created on first use. */
  get userId(): string {
    let id = this.#get(STORAGE_KEYS.userId);
    if (id === undefined || !/^[0-9a-f]{32}$/.test(id)) {
      const bytes = new Uint8Array(16);
      crypto.getRandomValues(bytes);
      id = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
      this.#set(STORAGE_KEYS.userId, id);
    }
    return id;
  }

  get displayName(): string {
    return this.#get(STORAGE_KEYS.displayName) ?? '';
  }

  set displayName(name: string) {
    if (name === '') this.#store?.removeItem(STORAGE_KEYS.displayName);
    else this.#set(STORAGE_KEYS.displayName, name);
  }

  get joinOptions(): JoinOptions {
    const v = this.#json(STORAGE_KEYS.joinOptions) as Partial<JoinOptions> | undefined;
    return { audioMuted: v?.audioMuted === true, videoMuted: v?.videoMuted === true };
  }

  set joinOptions(o: JoinOptions) {
    this.#set(STORAGE_KEYS.joinOptions, JSON.stringify({ audioMuted: o.audioMuted, videoMuted: o.videoMuted }));
  }

  /** Recent meetings, most recent first. */
  get recentRooms(): RecentRoom[] {
    const v = this.#json(STORAGE_KEYS.recentRooms);
    if (!Array.isArray(v)) return [];
    return v
      .filter((r): r is RecentRoom => typeof r === 'object' && r !== null && typeof r.name === 'string' && typeof r.joinedAt === 'number')
      .slice(0, MAX_RECENT_ROOMS);
  }

  /** Puts a meeting first in the recent list. */
  rememberRoom(name: string, now = Date.now()): void {
    const rooms = [{ name, joinedAt: now }, ...this.recentRooms.filter((r) => r.name !== name)].slice(0, MAX_RECENT_ROOMS);
    this.#set(STORAGE_KEYS.recentRooms, JSON.stringify(rooms));
  }

  forgetRoom(name: string): void {
    const rooms = this.recentRooms.filter((r) => r.name !== name);
    if (rooms.length === 0) this.#store?.removeItem(STORAGE_KEYS.recentRooms);
    else this.#set(STORAGE_KEYS.recentRooms, JSON.stringify(rooms));
  }

  forgetAllRooms(): void {
    this.#store?.removeItem(STORAGE_KEYS.recentRooms);
  }

  #get(key: string): string | undefined {
    try {
      return this.#store?.getItem(key) ?? undefined;
    } catch {
      return undefined;
    }
  }

  #set(key: string, value: string): void {
    try {
      this.#store?.setItem(key, value);
    } catch {
      // Storage full or blocked: the setting is simply not remembered.
    }
  }

  #json(key: string): unknown {
    const s = this.#get(key);
    if (s === undefined) return undefined;
    try {
      return JSON.parse(s) as unknown;
    } catch {
      return undefined;
    }
  }
}
