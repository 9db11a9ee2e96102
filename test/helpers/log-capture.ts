import type { DestinationStream } from 'pino';

/** A pino destination that keeps every JSON line, for tests that check what was logged. */
export class LogCapture implements DestinationStream {
  readonly lines: Record<string, unknown>[] = [];

  write(msg: string): void {
    for (const line of msg.split('\n')) if (line.trim()) this.lines.push(JSON.parse(line) as Record<string, unknown>);
  }

  find(pred: (l: Record<string, unknown>) => boolean): Record<string, unknown> | undefined {
    return this.lines.find(pred);
  }
}
