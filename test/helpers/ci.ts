/**
 * Whether this is a CI run, where a missing tool fails its test instead of skipping it.
 * Read one way everywhere: any non-empty CI other than "false" or "0" counts, since runners
 * set it to "true", "1" or their own name.
 */
export function underCI(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = (env.CI ?? '').trim().toLowerCase();
  return value !== '' && value !== 'false' && value !== '0';
}
