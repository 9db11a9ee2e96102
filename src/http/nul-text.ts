/**
 * Postgres cannot store U+0000 in text (it refuses with SQLSTATE 22021), and no text the
 * API accepts has a use for it, so one rule refuses it in every string and object key.
 */
export const NUL_MESSAGE = 'must not contain a NUL character (\\u0000)';

// A body full of NULs is answered with its first few, as one bad field would be.
const MAX_FOUND = 10;

interface Step {
  key: string;
  parent?: Step;
}

function pathOf(step: Step | undefined): string[] {
  const path: string[] = [];
  for (let s = step; s; s = s.parent) path.push(s.key);
  return path.reverse();
}

/**
 * The paths of the strings (or object keys) in `input` that hold a NUL. It walks with a
 * stack of its own and links each step to its parent, since a JSON body may nest deeper
 * than the call stack allows and copying paths would grow with the square of the depth.
 */
export function nulPaths(input: unknown): string[][] {
  const found: string[][] = [];
  const pending: [unknown, Step | undefined][] = [[input, undefined]];
  for (let next = pending.pop(); next && found.length < MAX_FOUND; next = pending.pop()) {
    const [value, at] = next;
    if (typeof value === 'string') {
      if (value.includes('\u0000')) found.push(pathOf(at));
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, item] of Object.entries(value)) {
        const step = { key, parent: at };
        if (key.includes('\u0000')) found.push(pathOf(step));
        pending.push([item, step]);
      }
    }
  }
  return found;
}
