import type { Response } from 'express';
import type { CachedRead } from '../cache/read-through';

/**
 * Performance (docs/benchmark.md, "Cached pages as stored"): answers with a read's JSON
 * text when it kept one, so a cache hit is sent as the bytes stored instead of parsed and
 * serialised again. The headers are res.json's: it is JSON.stringify, then exactly this
 * (the app sets no "json spaces", "json replacer" or "json escape" that would change the text).
 */
export function sendRead<T>(res: Response, read: CachedRead<T>): void {
  if (read.text === undefined) {
    res.json(read.value);
    return;
  }
  if (!res.get('Content-Type')) res.set('Content-Type', 'application/json');
  res.send(read.text);
}
