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

/** Stage view geometry: one large 16:9 tile above a row of thumbnails (the filmstrip). */
export interface StageLayout {
  stageWidth: number;
  stageHeight: number;
  thumbWidth: number;
  thumbHeight: number;
}

/**
 * Stage view in a `width` × `height` area with `thumbs` thumbnails below the stage: thumbnails are about a fifth of
 * the height (72–140 px; none when there are no thumbnails), the stage takes the rest at 16:9. The filmstrip scrolls
 * sideways when the thumbnails do not fit.
 */
export function stageLayoutFor(thumbs: number, width: number, height: number, gap = 8): StageLayout {
  const thumbHeight = thumbs === 0 ? 0 : Math.round(Math.min(140, Math.max(72, height * 0.2)));
  const areaHeight = Math.max(0, height - (thumbs === 0 ? 0 : thumbHeight + gap));
  const stageWidth = Math.max(0, Math.min(width, areaHeight * ASPECT));
  return { stageWidth, stageHeight: stageWidth / ASPECT, thumbWidth: thumbHeight * ASPECT, thumbHeight };
}
