/** A logger whose lines a test reads: each JSON line parsed into `lines`, and handed to `onLine` as it comes. */
import { Writable } from "node:stream";
import pino from "pino";
import type { Logger } from "../../src/logging.js";

export type LogLine = Record<string, any>;

export function capturedLog(
  level: "info" | "warn" = "info",
  onLine?: (line: LogLine) => void,
): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const text of String(chunk).split("\n").filter(Boolean)) {
        const line = JSON.parse(text) as LogLine;
        lines.push(line);
        onLine?.(line);
      }
      done();
    },
  });
  return { logger: pino({ level }, sink), lines };
}
