/**
 * Settles as `work` does, or with `onTimeout()`'s value (or its throw) once `ms` have
 * passed, whichever comes first. The timer is cleared either way, so a finished race
 * never keeps the process alive. `work` itself is not cancelled.
 */
export function withTimeout<T>(work: Promise<T>, ms: number, onTimeout: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<T>((resolve, reject) => {
    timer = setTimeout(() => {
      try {
        resolve(onTimeout());
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    }, ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/** For onTimeout: fail with the usual message. */
export function noAnswerWithin(ms: number): () => never {
  return () => {
    throw new Error(`no answer within ${ms} ms`);
  };
}
