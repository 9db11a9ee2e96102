/** Infrastructure, not traffic: exact paths, or a prefix ending in `/*`. */
export const UNTRACKED_PATHS: readonly string[] = Object.freeze(['/metrics', '/health', '/health/*']);

/** Whether a request path is one of `patterns` (exact, or under a `/prefix/*`). */
export function isUntrackedPath(path: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => (p.endsWith('/*') ? path.startsWith(p.slice(0, -1)) : path === p));
}
