/**
 * Issue 7: the README's "Privacy" section lists each promise with the tests that prove it (`file` › "test name").
 * This keeps the list honest: every file named exists and has a test of that exact name.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function privacySection(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Privacy\n');
  if (start === -1) throw new Error('README.md has no "## Privacy" section');
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end === -1 ? undefined : end);
}

/** [file, test name] pairs from the table rows, in order: a name belongs to the file named last before it. */
function references(section: string): Array<[string, string | undefined]> {
  const out: Array<[string, string | undefined]> = [];
  let file: string | undefined;
  const table = section
    .split('\n')
    .filter((l) => l.startsWith('| '))
    .join('\n');
  for (const m of table.matchAll(/`([\w./-]+\.test\.ts)`|›\s*"([^"]+)"/g)) {
    if (m[1] !== undefined) {
      file = m[1];
      out.push([file, undefined]);
    } else if (m[2] !== undefined) {
      if (file === undefined) throw new Error(`test name "${m[2]}" before any file`);
      out.push([file, m[2]]);
    }
  }
  return out;
}

describe('README.md Privacy section', () => {
  it('names only tests that exist, and names one for every promise not marked pending', () => {
    const section = privacySection();
    const refs = references(section);
    expect(refs.filter(([, name]) => name !== undefined).length).toBeGreaterThan(10);
    const missing: string[] = [];
    for (const [file, name] of refs) {
      const path = join(ROOT, file);
      if (!existsSync(path)) {
        missing.push(`${file} does not exist`);
        continue;
      }
      if (name === undefined) continue;
      const source = readFileSync(path, 'utf8').replace(/\\(['"`])/g, '$1');
      if (!source.includes(name)) missing.push(`${file} has no test "${name}"`);
    }
    expect(missing).toEqual([]);
    // Each table row names a test or says that it is pending.
    const rows = section.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| Promise') && !l.startsWith('| ---'));
    expect(rows.length).toBeGreaterThanOrEqual(10);
    for (const row of rows) expect(/›\s*"/.test(row) || /pending \(issue \d+\)/.test(row), row).toBe(true);
  });
});
