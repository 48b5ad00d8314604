/**
 * @jitsi-one/server: the composition root. `startServer()` runs the whole stack in this process; `main.ts` is the
 * CLI around it.
 */
export { startServer, stunAdvertisedHost } from './server.js';
export type { StartServerOptions, RunningServer } from './server.js';
export {
  loadConfig,
  readConfigFile,
  defaultConfig,
  deepStrict,
  appConfigSchema,
  httpConfigSchema,
  tlsConfigSchema,
  logConfigSchema,
  stunConfigSchema,
  LOG_LEVELS,
} from './config.js';
export type { AppConfig, AppConfigInput, HttpConfig, LogConfig, StunConfig, LoadConfigOptions } from './config.js';
export { ConfigError, formatConfigIssue } from './errors.js';
export type { ConfigIssue } from './errors.js';
export { createLogger } from './logger.js';
export type { Logger } from './logger.js';
export { parseCliArgs, USAGE } from './args.js';
export type { CliArgs } from './args.js';
export { loadTlsMaterial, generateSelfSigned } from './tls.js';
export type { TlsMaterial } from './tls.js';
