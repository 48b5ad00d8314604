/**
 * Tile-grid geometry and receive resolution. Pure (unit-tested).
 */

/** Tiles are laid out for 16:9 video. */
const ASPECT = 16 / 9;

export interface Grid {
  cols: number;
  rows: number;
  /** Size of one tile in CSS pixels. */
  tileWidth: number;
  tileHeight: number;
}

/**
 * The grid for `n` tiles in a `width` × `height` area (minus `gap` between tiles) that makes the 16:9 tiles as large
 * as possible: on a wide window three people sit side by side, on a phone held upright they stack.
 */
export function gridFor(n: number, width: number, height: number, gap = 8): Grid {
  const count = Math.max(1, n);
  let best: Grid = { cols: 1, rows: count, tileWidth: 0, tileHeight: 0 };
  for (let cols = 1; cols <= count; cols++) {
    const rows = Math.ceil(count / cols);
    const cellW = (width - gap * (cols - 1)) / cols;
    const cellH = (height - gap * (rows - 1)) / rows;
    if (cellW <= 0 || cellH <= 0) continue;
    const tileWidth = Math.min(cellW, cellH * ASPECT);
    if (tileWidth > best.tileWidth) best = { cols, rows, tileWidth, tileHeight: tileWidth / ASPECT };
  }
  return best;
}

/**
 * The height to ask the bridge for, given a tile's height in device pixels: the smallest simulcast layer (180, 360,
 * 720) that fills it, so small tiles never pull high layers (PROTOCOL §6.2, §7.3).
 */
export function receiveHeightFor(devicePixels: number): number {
  if (devicePixels <= 0) return 0;
  if (devicePixels <= 200) return 180;
  if (devicePixels <= 400) return 360;
  return 720;
}
