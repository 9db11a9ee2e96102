import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** The service's sources, which the style and config tests read as text. */
export const srcDir = path.join(__dirname, '..', '..', 'src');

/** Every .ts file under dir (src/ by default), depth first. */
export function tsFiles(dir = srcDir): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return tsFiles(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}
