/**
 * The first module `npm start` loads (`--require ./dist/tuning/relaunch.js`, before the
 * telemetry bootstrap): executes the process again with glibc's malloc tunable when the
 * service wants it and its environment does not set it (malloc.ts). A bad configuration is
 * left to server.ts, which names the variable.
 */
// First, like both entry points: on too old a Node.js, stop with one line.
import '../require-node';
import { ConfigError, loadConfig, type Config } from '../config';
import { relaunchReturningLargeAllocations } from './malloc';

let config: Config | undefined;
try {
  config = loadConfig();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
}
if (config) relaunchReturningLargeAllocations(config);
