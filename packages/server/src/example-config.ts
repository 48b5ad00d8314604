/**
 * Prints the full default config as JSON. Regenerate the example after changing any schema:
 *   npx tsx packages/server/src/example-config.ts > config.example.json
 */
import { defaultConfig } from './config.js';

process.stdout.write(`${JSON.stringify(defaultConfig(), null, 2)}\n`);
