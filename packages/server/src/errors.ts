/** Errors of the composition root. */

/** One problem with the configuration, located by its key path (e.g. `http.port`, `xmpp.accounts[0].jid`). */
export interface ConfigIssue {
  /** Dotted key path; empty for problems not tied to a key (e.g. an unknown command-line option). */
  readonly path: string;
  /** What was expected and what was found, e.g. `expected number ≤ 65535, got 70000`. */
  readonly message: string;
  /** Where the offending value came from, e.g. `env PORT`, `--port`, `file ./config.yaml`. */
  readonly source?: string | undefined;
}

/** Formats an issue as one line: `config error: http.port: expected number ≤ 65535, got 70000 (from --port)`. */
export function formatConfigIssue(issue: ConfigIssue): string {
  const where = issue.path ? `${issue.path}: ` : '';
  const from = issue.source ? ` (from ${issue.source})` : '';
  return `config error: ${where}${issue.message}${from}`;
}

/**
 * The configuration is unusable. `message` is one line per issue, ready to print without a stack trace.
 * Thrown by `loadConfig()` and by start-up steps that read configured files (TLS certificate and key).
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'ERR_CONFIG';
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[], options?: { cause?: unknown }) {
    super(issues.map(formatConfigIssue).join('\n'), options);
    this.issues = issues;
  }
}
