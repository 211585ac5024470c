/**
 * How the command-line programs end: a mistake in the arguments prints one line and the usage and
 * exits 2; a refusal (configuration, a database in use, nothing to do) prints one line and exits 1;
 * anything else is a bug and prints its stack.
 */
import { fileURLToPath } from "node:url";
import { ConfigError } from "../config.js";

/** A mistake in the command line. */
export class UsageError extends Error {}

/** True when the module at `url` is the program node was started with (not imported by a test). */
export function isMain(url: string): boolean {
  return process.argv[1] !== undefined && fileURLToPath(url) === process.argv[1];
}

/** Runs a program's `main` when its module is the one started, with the exits described above. */
export function runCli(url: string, usage: string, main: () => Promise<void>): void {
  if (!isMain(url)) return;
  main().catch((error: unknown) => {
    if (error instanceof UsageError) {
      console.error(`${error.message}\n${usage}`);
      process.exit(2);
    }
    console.error(error instanceof ConfigError ? error.message : error);
    process.exit(1);
  });
}

/** A parseArgs failure, as the one line a person needs. */
export function usageErrorOf(error: unknown, args: string[]): UsageError {
  const code = (error as { code?: string }).code;
  if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") {
    const stray = args.find((arg) => !arg.startsWith("--"));
    return new UsageError(`Unexpected argument ${JSON.stringify(stray)}: put -- between the npm script and the options.`);
  }
  return new UsageError((error as Error).message.split("\n")[0]!);
}
