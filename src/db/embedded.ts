/**
 * The embedded database's folder: the lock that keeps a second process out (two writers would lose
 * each other's work), and `startEmbedded`, which takes it and starts PostgreSQL on its worker thread
 * at once. The server calls it before it loads the rest of the app, so that PGlite opens its folder
 * (about a second) while the app's modules load (about as long): a restart in `npm run dev` takes
 * the longer of the two, not their sum. This module stays light for that reason.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { ConfigError, type DatabaseConfig } from "../config.js";
import { PGliteThread } from "./pglite-thread.js";

export interface FolderLock {
  unlock(): void;
  /** Writes the server's URL into the lock, so that a command can ask it instead of opening the folder. */
  announce(url: string): void;
}

/** The folder locked and PostgreSQL starting on its thread: `openDatabase` takes both over. */
export interface EmbeddedStart {
  thread: PGliteThread;
  lock?: FolderLock;
}

/** Locks the folder (refusing with one line when another process holds it) and starts PGlite on its thread. */
export function startEmbedded(config: Extract<DatabaseConfig, { kind: "pglite" }>): EmbeddedStart {
  if (config.dataDir) mkdirSync(config.dataDir, { recursive: true });
  const lock = config.dataDir ? lockFolder(config.dataDir) : undefined;
  try {
    return { thread: new PGliteThread(config.dataDir), lock };
  } catch (error) {
    lock?.unlock();
    throw error;
  }
}

/**
 * The embedded database is in use by another process: two writers would lose each other's work.
 * `url` is the GraphQL endpoint of the server that holds it, when it has said (see `announce`).
 */
export class DatabaseInUse extends ConfigError {
  override name = "DatabaseInUse";
  constructor(
    message: string,
    readonly url?: string,
  ) {
    super(message);
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * When a process started, as Linux counts it (clock ticks since boot: field 22 of /proc/<pid>/stat),
 * or undefined where there is no /proc or no such process.
 */
function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 2, the command name, is in parentheses and may itself hold spaces and parentheses.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

/**
 * Takes the folder's lock file, or refuses naming the process that holds it. The file names the
 * holder's PID and, on Linux, its start time: a lock left by a process that no longer runs (killed,
 * crashed) is taken over, and so is one whose PID now belongs to another process (PIDs are reused,
 * after a reboot in a container all the more). A lock of the older form, the PID alone, is read too.
 */
export function lockFolder(dir: string): FolderLock {
  // Beside the folder, not in it: the folder is PostgreSQL's own data directory.
  const file = `${dir.replace(/\/+$/, "")}.lock`;
  const mine = `${process.pid} ${startTimeOf(process.pid) ?? "-"}`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, mine, { flag: "wx" });
      return {
        unlock: () => rmSync(file, { force: true }),
        // The server that holds it says where it answers, so that a command can ask it instead.
        announce: (url) => writeFileSync(file, `${mine} ${url}`),
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const [pid = "", recorded, url] = readFileSync(file, "utf8").trim().split(/\s+/);
      const started = recorded === "-" ? undefined : recorded;
      // Only a positive PID names a holder: `kill` reads 0 and -n as process groups.
      const holder = /^\d+$/.test(pid) ? Number(pid) : 0;
      const running = holder > 0 && holder !== process.pid && isRunning(holder);
      const now = running ? startTimeOf(holder) : undefined;
      const reused = started !== undefined && now !== undefined && now !== started;
      if (running && !reused) {
        throw new DatabaseInUse(
          `The embedded database in ${dir} is in use by process ${holder} (a running server?); stop it first, or use PostgreSQL for more than one process.`,
          url,
        );
      }
      rmSync(file, { force: true });
    }
  }
  throw new DatabaseInUse(`The embedded database in ${dir} could not be locked.`);
}
