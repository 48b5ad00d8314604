/**
 * Where the tiles go: tile view (a grid sized by {@link gridFor}) or stage view (one tile large, the others in a
 * filmstrip below, {@link stageLayoutFor}). On stage is, in this order: the tile the user pinned, the newest remote
 * screen share, the active speaker (the bridge's DominantSpeakerEndpointChangeEvent, PROTOCOL §6.3; our own
 * speaking leaves the last remote speaker on stage, as Jitsi Meet does), the first remote participant, ourselves.
 *
 * After every layout the receive height of each remote video follows its tile's real size in device pixels (on stage
 * high, thumbnails low) and the on-stage source is named, for the bridge's ReceiverVideoConstraints (§6.2).
 *
 * Tiles are keyed: `local`, `local:screen`, `<id>` (camera) and `<id>:screen` (screen share, source `<id>-v1`).
 */
import type { ViewMode } from '../storage.js';
import { ICONS, h, icon } from './dom.js';
import { gridFor, receiveHeightFor, stageLayoutFor } from './layout.js';
import type { Tile } from './tile.js';

/** Tile-key suffix of a screen-share tile (`<id>:screen`, `local:screen`). */
export const SCREEN_SUFFIX = ':screen';

/** The bridge source name shown by a remote tile key (camera `-v0`, screen `-v1`); undefined for local tiles. */
export function sourceOfTileKey(key: string): string | undefined {
  if (key === 'local' || key.startsWith('local:')) return undefined;
  return key.endsWith(SCREEN_SUFFIX) ? `${key.slice(0, -SCREEN_SUFFIX.length)}-v1` : `${key}-v0`;
}

/** What a layout means for the bridge (ReceiverVideoConstraints). */
export interface TilesLayoutResult {
  /** Receive height per remote video source name. */
  heights: Record<string, number>;
  /** Sources on stage (empty in tile view). */
  onStage: string[];
}

/** The tiles area (`section.tiles`): owns the tiles, places them for the current view, reports receive heights. */
export class TilesView {
  readonly el: HTMLElement;
  readonly tiles = new Map<string, Tile>();
  readonly #stage: HTMLElement;
  readonly #strip: HTMLElement;
  readonly #onLayout: (r: TilesLayoutResult) => void;
  readonly #onModeChange: (mode: ViewMode) => void;
  #mode: ViewMode;
  #pinned: string | undefined;
  /** Remote endpoint ids in the order they last became the dominant speaker (most recent last). */
  #speakers: string[] = [];
  #dominant: string | undefined;
  /** Remote screen-share keys, most recent last. */
  #screens: string[] = [];
  #scheduled = false;

  constructor(opts: { mode: ViewMode; onLayout: (r: TilesLayoutResult) => void; onModeChange?: (mode: ViewMode) => void }) {
    this.#mode = opts.mode;
    this.#onLayout = opts.onLayout;
    this.#onModeChange = opts.onModeChange ?? (() => undefined);
    this.el = h('section', { class: 'tiles', 'aria-label': 'Participants' });
    this.#stage = h('div', { class: 'stage' });
    this.#strip = h('div', { class: 'filmstrip', role: 'group', 'aria-label': 'Filmstrip' });
    new ResizeObserver(() => this.relayout()).observe(this.el);
  }

  get mode(): ViewMode {
    return this.#mode;
  }

  /** The key of the tile on stage (stage view), else undefined. */
  get stageKey(): string | undefined {
    return this.#mode === 'stage' ? this.#stageKey() : undefined;
  }

  get pinned(): string | undefined {
    return this.#pinned;
  }

  add(key: string, tile: Tile): void {
    this.tiles.set(key, tile);
    if (key.endsWith(SCREEN_SUFFIX) && !key.startsWith('local')) this.#screens.push(key);
    this.#addPinButton(key, tile);
    this.relayout();
  }

  remove(key: string): void {
    this.tiles.get(key)?.remove();
    this.tiles.delete(key);
    this.#screens = this.#screens.filter((k) => k !== key);
    if (this.#pinned === key) this.#pinned = undefined;
    this.relayout();
  }

  /** Remote screen shares currently shown. */
  get screenCount(): number {
    return this.#screens.length;
  }

  setMode(mode: ViewMode): void {
    if (mode === this.#mode) return;
    this.#mode = mode;
    this.#onModeChange(mode);
    this.relayout();
  }

  /** Pins a tile on stage (switching to stage view), or unpins with undefined. */
  pin(key: string | undefined): void {
    this.#pinned = key !== undefined && this.tiles.has(key) ? key : undefined;
    if (this.#pinned !== undefined) this.setMode('stage');
    this.relayout();
  }

  /** The bridge's dominant speaker (an endpoint id, possibly ours). */
  setDominantSpeaker(id: string | undefined, localId: string): void {
    this.#dominant = id;
    if (id !== undefined && id !== localId && this.tiles.has(id)) this.#speakers = [...this.#speakers.filter((s) => s !== id), id];
    for (const [key, tile] of this.tiles) tile.setSpeaking(id !== undefined && (key === id || (key === 'local' && id === localId)));
    this.relayout();
  }

  /**
   * Lays out on the next frame (several changes in one task cost one layout), or after 100 ms in a background tab,
   * where frames do not come but the receive heights should still follow.
   */
  relayout(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    const run = (): void => {
      if (!this.#scheduled) return;
      this.#scheduled = false;
      this.#layout();
    };
    requestAnimationFrame(run);
    window.setTimeout(run, 100);
  }

  #stageKey(): string | undefined {
    if (this.#pinned !== undefined && this.tiles.has(this.#pinned)) return this.#pinned;
    const screen = this.#screens.at(-1);
    if (screen !== undefined) return screen;
    const speaker = [...this.#speakers].reverse().find((id) => this.tiles.has(id));
    if (speaker !== undefined) return speaker;
    const remote = [...this.tiles.keys()].find((k) => !k.startsWith('local') && !k.endsWith(SCREEN_SUFFIX));
    return remote ?? (this.tiles.has('local:screen') ? 'local:screen' : 'local');
  }

  #layout(): void {
    const rect = this.el.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    const heights: Record<string, number> = {};
    const onStage: string[] = [];
    this.el.classList.toggle('stage-view', this.#mode === 'stage');
    this.el.dataset.view = this.#mode;
    if (this.#mode === 'tile') {
      placeChildren(this.el, [...this.tiles.values()].map((t) => t.el));
      const g = gridFor(this.tiles.size, rect.width, rect.height);
      this.el.style.setProperty('--cols', String(g.cols));
      this.el.style.setProperty('--rows', String(g.rows));
      this.el.style.setProperty('--tile-width', `${Math.floor(g.tileWidth)}px`);
      for (const [key, tile] of this.tiles) {
        tile.el.classList.remove('on-stage');
        const source = sourceOfTileKey(key);
        if (source !== undefined) heights[source] = receiveHeightFor(g.tileHeight * dpr);
      }
    } else {
      const stageKey = this.#stageKey();
      const others = [...this.tiles.entries()].filter(([k]) => k !== stageKey);
      const s = stageLayoutFor(others.length, rect.width, rect.height);
      this.el.style.setProperty('--stage-width', `${Math.floor(s.stageWidth)}px`);
      this.el.style.setProperty('--thumb-width', `${Math.floor(s.thumbWidth)}px`);
      this.el.style.setProperty('--thumb-height', `${Math.floor(s.thumbHeight)}px`);
      const stageTile = stageKey === undefined ? undefined : this.tiles.get(stageKey);
      placeChildren(this.#stage, stageTile !== undefined ? [stageTile.el] : []);
      placeChildren(this.#strip, others.map(([, t]) => t.el));
      placeChildren(this.el, [this.#stage, ...(others.length > 0 ? [this.#strip] : [])]);
      for (const [key, tile] of this.tiles) {
        const on = key === stageKey;
        tile.el.classList.toggle('on-stage', on);
        const source = sourceOfTileKey(key);
        if (source === undefined) continue;
        heights[source] = receiveHeightFor((on ? s.stageHeight : s.thumbHeight) * dpr);
        if (on) onStage.push(source);
      }
    }
    for (const [key, tile] of this.tiles) this.#updatePinButton(key, tile);
    this.#onLayout({ heights, onStage });
  }

  #addPinButton(key: string, tile: Tile): void {
    const button = h('button', { type: 'button', class: 'tile-pin', 'data-pin': key, onclick: () => this.pin(this.#pinned === key ? undefined : key) }, icon(ICONS.pin));
    tile.actions.append(button);
    this.#updatePinButton(key, tile);
  }

  #updatePinButton(key: string, tile: Tile): void {
    const button = tile.actions.querySelector<HTMLButtonElement>('.tile-pin');
    if (button === null) return;
    const what = tile.el.querySelector('.name')?.textContent ?? '';
    const pinned = this.#pinned === key;
    button.setAttribute('aria-pressed', String(pinned));
    button.setAttribute('aria-label', pinned ? `Unpin ${what}` : `Show ${what} large`);
    button.title = pinned ? 'Unpin' : 'Show large';
  }
}

/**
 * Makes `parent`'s element children exactly `children`, in order, moving only what is out of place: a moved element
 * loses focus, and a focused control (a pin button) should keep it across layouts.
 */
function placeChildren(parent: HTMLElement, children: readonly HTMLElement[]): void {
  children.forEach((c, i) => {
    const at = parent.children[i] ?? null;
    if (at !== c) parent.insertBefore(c, at);
  });
  while (parent.children.length > children.length) parent.lastElementChild?.remove();
}
