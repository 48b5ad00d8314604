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
export { metricsConfigSchema, healthConfigSchema, logFileConfigSchema } from './config.js';
export type { MetricsConfig, HealthConfig } from './config.js';
export { Drain } from './drain.js';
export type { DrainCause, DrainStatus, DrainOptions } from './drain.js';
export { evaluateHealth, isMediaPortBound } from './health.js';
export type { HealthProbes, HealthLimits } from './health.js';
export { EventLoopLagMonitor } from './loop-lag.js';
export type { EventLoopLagMonitorOptions, LagScheduler } from './loop-lag.js';
export { DailyLogFile, utcDay } from './log-file.js';
export type { DailyLogFileOptions, LogFileScheduler } from './log-file.js';
export { Metrics, createMetrics, METRICS_PREFIX } from './metrics.js';
export type { MetricsSources } from './metrics.js';
export { startOpsServer, isLoopbackAddress } from './ops-server.js';
export type { OpsServer, OpsServerOptions } from './ops-server.js';
