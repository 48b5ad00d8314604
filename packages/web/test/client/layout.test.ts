/** Tile grid and receive heights (client/src/ui/layout.ts). */
import { describe, expect, it } from 'vitest';
import { gridFor, receiveHeightFor, stageLayoutFor } from '../../client/src/ui/layout.js';

describe('gridFor()', () => {
  it.each([
    [1, 1000, 560, 1, 1],
    [2, 1000, 560, 2, 1],
    [3, 1000, 560, 2, 2],
    [4, 1000, 560, 2, 2],
    [9, 1600, 900, 3, 3],
    [3, 1800, 400, 3, 1], // a wide window: side by side
    [3, 380, 700, 1, 3], // a phone held upright: stacked
  ])('%i tiles in %i×%i: %i columns, %i rows', (n, w, hgt, cols, rows) => {
    expect(gridFor(n, w, hgt)).toMatchObject({ cols, rows });
  });

  it('tiles are 16:9 and fit the area', () => {
    const g = gridFor(5, 1200, 700);
    expect(g.tileWidth / g.tileHeight).toBeCloseTo(16 / 9);
    expect(g.cols * g.tileWidth).toBeLessThanOrEqual(1200);
    expect(g.rows * g.tileHeight).toBeLessThanOrEqual(700);
  });
});

describe('receiveHeightFor()', () => {
  it('asks for the smallest simulcast layer that fills the tile', () => {
    expect([0, 120, 200, 201, 400, 401, 1080].map(receiveHeightFor)).toEqual([0, 180, 180, 360, 360, 720, 720]);
  });
});

describe('stageLayoutFor()', () => {
  it('puts one large 16:9 tile above a filmstrip of small ones', () => {
    const s = stageLayoutFor(2, 1000, 560);
    expect(s.thumbHeight).toBe(112);
    expect(s.stageHeight).toBeCloseTo(560 - 112 - 8);
    expect(s.stageWidth / s.stageHeight).toBeCloseTo(16 / 9);
    expect(receiveHeightFor(s.stageHeight)).toBe(720);
    expect(receiveHeightFor(s.thumbHeight)).toBe(180);
  });

  it('fits a phone held upright, and needs no filmstrip for a single tile', () => {
    const s = stageLayoutFor(3, 370, 600);
    expect(s.stageWidth).toBe(370);
    expect(s.thumbHeight).toBe(120);
    expect(stageLayoutFor(0, 800, 450)).toMatchObject({ stageWidth: 800, stageHeight: 450, thumbHeight: 0 });
  });
});
