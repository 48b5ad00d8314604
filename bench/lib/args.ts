/** Command-line flags of the benches: parsing with usage/help handling and integer flags with ranges. */

/** A bad flag value: the bench prints the message and its usage and exits 1. */
export class UsageError extends Error {}

/** An integer flag in `min..max`, `def` when absent; UsageError otherwise. */
export function intFlag(value: string | undefined, name: string, def: number, min: number, max: number): number {
  if (value === undefined) return def;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer in ${min}..${max}`);
  return n;
}

/**
 * Runs a bench's flag parser (node:util parseArgs with a `help` flag): the parsed values, or the exit code after
 * printing the usage — 0 for `--help`, 1 (with the parser's message) for unknown or malformed flags.
 */
export function parseOrUsage<T extends { help?: boolean | undefined }>(parse: () => T, usage: string): T | number {
  let values: T;
  try {
    values = parse();
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${usage}`);
    return 1;
  }
  if (values.help === true) {
    process.stderr.write(usage);
    return 0;
  }
  return values;
}
