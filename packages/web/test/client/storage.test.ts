/** Local settings (client/src/storage.ts): only the documented keys, recent rooms that can be forgotten. */
import { describe, expect, it } from 'vitest';
import { LocalSettings, MAX_RECENT_ROOMS, STORAGE_KEYS, type StorageLike } from '../../client/src/storage.js';

function fakeStorage(): StorageLike & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return { data, getItem: (k) => data.get(k) ?? null, setItem: (k, v) => void data.set(k, v), removeItem: (k) => void data.delete(k) };
}

describe('LocalSettings', () => {
  it('creates one random user id and keeps it', () => {
    const store = fakeStorage();
    const id = new LocalSettings(store).userId;
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(new LocalSettings(store).userId).toBe(id);
  });

  it('remembers recent rooms most recent first, at most MAX_RECENT_ROOMS, and forgets one or all', () => {
    const store = fakeStorage();
    const s = new LocalSettings(store);
    for (let i = 0; i < MAX_RECENT_ROOMS + 2; i++) s.rememberRoom(`room${i}`, i);
    s.rememberRoom('room5', 100);
    expect(s.recentRooms.map((r) => r.name)).toEqual(['room5', 'room11', 'room10', 'room9', 'room8', 'room7', 'room6', 'room4', 'room3', 'room2']);
    s.forgetRoom('room11');
    expect(s.recentRooms.map((r) => r.name)).not.toContain('room11');
    s.forgetAllRooms();
    expect(s.recentRooms).toEqual([]);
    expect(store.data.has(STORAGE_KEYS.recentRooms)).toBe(false);
  });

  it('writes only the documented keys, survives garbage, and works without storage', () => {
    const store = fakeStorage();
    const s = new LocalSettings(store);
    s.displayName = 'Ada';
    s.joinOptions = { audioMuted: true, videoMuted: false };
    s.rememberRoom('r');
    s.setDevice('videoInput', 'cam-2');
    s.ui = { view: 'stage' };
    void s.userId;
    expect([...store.data.keys()].sort()).toEqual(Object.values(STORAGE_KEYS).sort());
    store.data.set(STORAGE_KEYS.recentRooms, '{not json');
    store.data.set(STORAGE_KEYS.joinOptions, '[1]');
    expect(s.recentRooms).toEqual([]);
    expect(s.joinOptions).toEqual({ audioMuted: false, videoMuted: false });
    s.displayName = '';
    expect(store.data.has(STORAGE_KEYS.displayName)).toBe(false);
    const none = new LocalSettings(undefined);
    none.rememberRoom('x');
    expect(none.recentRooms).toEqual([]);
    expect(none.userId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('keeps the chosen devices and the view mode; an empty device id returns to the default', () => {
    const store = fakeStorage();
    const s = new LocalSettings(store);
    expect(s.devices).toEqual({});
    expect(s.ui).toEqual({ view: 'tile' });
    s.setDevice('audioInput', 'mic-1');
    s.setDevice('videoInput', 'cam-2');
    s.ui = { view: 'stage' };
    expect(new LocalSettings(store).devices).toEqual({ audioInput: 'mic-1', videoInput: 'cam-2' });
    expect(new LocalSettings(store).ui).toEqual({ view: 'stage' });
    s.setDevice('audioInput', '');
    s.setDevice('videoInput', '');
    expect(store.data.has(STORAGE_KEYS.devices)).toBe(false);
    store.data.set(STORAGE_KEYS.devices, '{"audioInput":5}');
    store.data.set(STORAGE_KEYS.ui, '{"view":"sideways"}');
    expect(s.devices).toEqual({});
    expect(s.ui).toEqual({ view: 'tile' });
  });

  it('with recent rooms disabled by the server stores no room name and forgets those stored before', () => {
    const store = fakeStorage();
    new LocalSettings(store).rememberRoom('before');
    const s = new LocalSettings(store, { recentRooms: false });
    expect(s.recentRoomsEnabled).toBe(false);
    expect(store.data.has(STORAGE_KEYS.recentRooms)).toBe(false);
    s.rememberRoom('secret-room');
    expect(s.recentRooms).toEqual([]);
    expect([...store.data.values()].join()).not.toContain('secret-room');
  });
});
