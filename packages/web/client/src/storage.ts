/**
 * Everything the client keeps in the browser, in local storage only (no cookies, no other storage): a random user
 * id (the conference IQ's `machine-uid`), the display name, the join options, the chosen camera and microphone, UI
 * settings (tile or stage view), and recent meeting names, which the user can forget one by one or all at once and
 * the server can switch off (`web.recentRooms: false` → `doNotStoreRoom` in `/config.js`). Keys are prefixed
 * `jitsi-one.`; the full list is {@link STORAGE_KEYS}.
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
  devices: 'jitsi-one.devices',
  ui: 'jitsi-one.ui',
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

/** The chosen devices (`deviceId`s from enumerateDevices); absent = the browser's default. */
export interface DeviceChoice {
  audioInput?: string;
  videoInput?: string;
}

/** Meeting layout: all tiles in a grid, or one large (active speaker, screen share) with a filmstrip. */
export type ViewMode = 'tile' | 'stage';

export interface UiSettings {
  view: ViewMode;
}

export class LocalSettings {
  readonly #store: StorageLike | undefined;
  readonly #recentRoomsEnabled: boolean;

  /**
   * `store` undefined (storage blocked): nothing is remembered. With `recentRooms: false` (the server's
   * `doNotStoreRoom`) no meeting name is stored, and any stored earlier is forgotten now.
   */
  constructor(store: StorageLike | undefined, opts: { recentRooms?: boolean } = {}) {
    this.#store = store;
    this.#recentRoomsEnabled = opts.recentRooms ?? true;
    if (!this.#recentRoomsEnabled) this.forgetAllRooms();
  }

  /** Whether recent meetings are kept (the server may switch it off). */
  get recentRoomsEnabled(): boolean {
    return this.#recentRoomsEnabled;
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
    if (name === '') this.#remove(STORAGE_KEYS.displayName);
    else this.#set(STORAGE_KEYS.displayName, name);
  }

  get joinOptions(): JoinOptions {
    const v = this.#json(STORAGE_KEYS.joinOptions) as Partial<JoinOptions> | undefined;
    return { audioMuted: v?.audioMuted === true, videoMuted: v?.videoMuted === true };
  }

  set joinOptions(o: JoinOptions) {
    this.#set(STORAGE_KEYS.joinOptions, JSON.stringify({ audioMuted: o.audioMuted, videoMuted: o.videoMuted }));
  }

  get devices(): DeviceChoice {
    const v = this.#json(STORAGE_KEYS.devices) as Record<string, unknown> | undefined;
    const out: DeviceChoice = {};
    if (typeof v?.audioInput === 'string' && v.audioInput !== '') out.audioInput = v.audioInput;
    if (typeof v?.videoInput === 'string' && v.videoInput !== '') out.videoInput = v.videoInput;
    return out;
  }

  /** Remembers the chosen camera / microphone (merged with the stored choice; `''` returns to the default). */
  setDevice(kind: keyof DeviceChoice, deviceId: string): void {
    const next: DeviceChoice = { ...this.devices, [kind]: deviceId };
    if (deviceId === '') delete next[kind];
    if (next.audioInput === undefined && next.videoInput === undefined) this.#remove(STORAGE_KEYS.devices);
    else this.#set(STORAGE_KEYS.devices, JSON.stringify(next));
  }

  get ui(): UiSettings {
    const v = this.#json(STORAGE_KEYS.ui) as Record<string, unknown> | undefined;
    return { view: v?.view === 'stage' ? 'stage' : 'tile' };
  }

  set ui(u: UiSettings) {
    this.#set(STORAGE_KEYS.ui, JSON.stringify({ view: u.view }));
  }

  /** Recent meetings, most recent first (none when the server disabled them). */
  get recentRooms(): RecentRoom[] {
    if (!this.#recentRoomsEnabled) return [];
    const v = this.#json(STORAGE_KEYS.recentRooms);
    if (!Array.isArray(v)) return [];
    return v
      .filter((r): r is RecentRoom => typeof r === 'object' && r !== null && typeof r.name === 'string' && typeof r.joinedAt === 'number')
      .slice(0, MAX_RECENT_ROOMS);
  }

  /** Puts a meeting first in the recent list. */
  rememberRoom(name: string, now = Date.now()): void {
    if (!this.#recentRoomsEnabled) return;
    const rooms = [{ name, joinedAt: now }, ...this.recentRooms.filter((r) => r.name !== name)].slice(0, MAX_RECENT_ROOMS);
    this.#set(STORAGE_KEYS.recentRooms, JSON.stringify(rooms));
  }

  forgetRoom(name: string): void {
    const rooms = this.recentRooms.filter((r) => r.name !== name);
    if (rooms.length === 0) this.#remove(STORAGE_KEYS.recentRooms);
    else this.#set(STORAGE_KEYS.recentRooms, JSON.stringify(rooms));
  }

  forgetAllRooms(): void {
    this.#remove(STORAGE_KEYS.recentRooms);
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

  #remove(key: string): void {
    try {
      this.#store?.removeItem(key);
    } catch {
      // Storage blocked: nothing to forget.
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
