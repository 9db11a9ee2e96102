/**
 * `npm test`'s first step (package.json's pretest): stops at once, with one line, when the
 * Postgres or Redis the tests need does not answer, instead of a suite of ECONNREFUSED traces.
 */
import { missingServicesMessage, missingTestServices } from './helpers/services';

missingTestServices().then(
  (missing) => {
    if (missing.length > 0) process.stderr.write(`${missingServicesMessage(missing)}\n`);
    process.exit(missing.length > 0 ? 1 : 0);
  },
  (err: unknown) => {
    process.stderr.write(`npm test could not check for Postgres and Redis: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
