/**
 * The root logger: pino, JSON lines on stdout. Libraries receive it (or a child) as an option and never create
 * their own. There is no HTTP access log anywhere.
 *
 * With `log.redact` (the default) personal data in fields is masked (see `redact.ts`), IP addresses inside error
 * messages/stacks and message strings are masked too, and pid/hostname are not logged.
 */
import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import type { LogConfig } from './config.js';
import { censor, maskIpsInText, redactPaths } from './redact.js';

export type { Logger } from 'pino';

function redactingErrSerializer(err: Error): pino.SerializedError {
  const s = pino.stdSerializers.err(err);
  s.message = maskIpsInText(s.message);
  s.stack = maskIpsInText(s.stack);
  return s;
}

/**
 * Creates the root logger.
 * @param config the `log` section.
 * @param destination where JSON lines go; default stdout (tests pass a memory stream).
 */
export function createLogger(config: Pick<LogConfig, 'level' | 'redact'>, destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    level: config.level,
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    serializers: { err: config.redact ? redactingErrSerializer : pino.stdSerializers.err },
  };
  if (config.redact) {
    options.redact = { paths: redactPaths(), censor };
    options.hooks = {
      // Messages should be constant strings; mask any IP that slipped into one anyway.
      logMethod(args, method) {
        for (let i = 0; i < args.length; i++) {
          const a = args[i];
          if (typeof a === 'string') args[i] = maskIpsInText(a);
        }
        method.apply(this, args);
      },
    };
  }
  return destination ? pino(options, destination) : pino(options);
}
