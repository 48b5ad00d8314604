/** The README's configuration table documents every key of the app config schema (STYLE §3.9). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { appConfigSchema } from '../src/index.js';

function leafKeys(schema: z.ZodType, prefix: string): string[] {
  let s = schema;
  while (s instanceof z.ZodDefault || s instanceof z.ZodPrefault || s instanceof z.ZodOptional || s instanceof z.ZodNullable) {
    s = s._zod.def.innerType as z.ZodType;
  }
  if (!(s instanceof z.ZodObject)) return [prefix];
  return Object.entries(s.shape).flatMap(([k, v]) => leafKeys(v as z.ZodType, prefix ? `${prefix}.${k}` : k));
}

describe('README.md', () => {
  it('has a configuration table row for every config key', () => {
    const readme = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');
    const documented = new Set([...readme.matchAll(/^\| `([A-Za-z0-9.]+)` \|/gm)].map((m) => m[1]));
    const missing = leafKeys(appConfigSchema, '').filter((k) => !documented.has(k));
    expect(missing, 'add these keys to the README configuration table').toEqual([]);
  });
});
