/**
 * Plain-text table rendering for bench reports (first row is the header; first column left
 * aligned, the others right aligned).
 */
export type Row = readonly string[];

export function renderTable(rows: readonly Row[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  const line = (row: Row): string =>
    row
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const [header, ...body] = rows;
  if (!header) return '';
  const sep = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(header), sep, ...body.map(line)].join('\n');
}
