// One writer at a time: a lock per home (a file created exclusively, holding who took it) and, for a lake outside the
// home (ADLS), a lease per lake scope. A second writer waits up to C360_LOCK_WAIT_SECONDS (default 0) and is then
// refused with a message naming the holder; the refusal is transient (exit 75): retrying later can succeed. A lock
// left by a process that died (kill -9, power loss) is taken over: its pid is gone on this host, or its lease expired.
import { open, readFile, rename, rm, stat } from 'node:fs/promises';
import { unlinkSync, readFileSync, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TransientError } from './errors.ts';
import { pidAlive as alive } from './tmp.ts';

export interface Holder {
  pid: number;
  host: string;
  command: string;
  since: string;
}

export interface Release {
  (): Promise<void>;
}

export function holderOf(command: string): Holder {
  return { pid: process.pid, host: hostname(), command, since: new Date().toISOString() };
}

export function lockWaitMs(): number {
  const s = Number(process.env.C360_LOCK_WAIT_SECONDS ?? 0);
  return Number.isFinite(s) && s > 0 ? s * 1000 : 0;
}

export function describeHolder(h: Partial<Holder> | undefined): string {
  if (!h?.pid) return 'another process';
  return `pid ${h.pid} on ${h.host} (\`${h.command}\`, since ${h.since})`;
}

/** Takes the lock file exclusively; waits up to waitMs for a live holder, takes over a dead one's. */
export async function lockFile(file: string, holder: Holder, what: string, waitMs = lockWaitMs()): Promise<Release> {
  mkdirSync(dirname(file), { recursive: true });
  const deadline = Date.now() + waitMs;
  const body = JSON.stringify(holder);
  for (;;) {
    try {
      const fh = await open(file, 'wx');
      try {
        await fh.writeFile(body);
      } finally {
        await fh.close();
      }
      const onExit = () => releaseSync(file, body);
      process.once('exit', onExit);
      return async () => {
        process.removeListener('exit', onExit);
        releaseSync(file, body);
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const current = await readFile(file, 'utf8').catch(() => '');
    let h: Partial<Holder> | undefined;
    try {
      h = JSON.parse(current) as Holder;
    } catch {
      h = undefined;
    }
    // Dead holder on this host, or a lock file never filled in (its writer died between create and write).
    const age = await stat(file).then((s) => Date.now() - s.mtimeMs, () => 0);
    const stale = h?.pid ? h.host === hostname() && !alive(h.pid) : age > 10_000;
    if (stale) {
      // Rename first: of two processes taking over at once, only one rename succeeds; both then race on 'wx'.
      const aside = `${file}.stale-${process.pid}`;
      if (await rename(file, aside).then(() => true, () => false)) await rm(aside, { force: true });
      continue;
    }
    if (Date.now() >= deadline) {
      throw new TransientError(
        `${what} is in use by ${describeHolder(h)}: one writer at a time. Wait for it to finish (or set C360_LOCK_WAIT_SECONDS to wait), then run again`,
      );
    }
    await sleep(Math.min(500, Math.max(50, deadline - Date.now())));
  }
}

function releaseSync(file: string, body: string): void {
  try {
    if (readFileSync(file, 'utf8') === body) unlinkSync(file);
  } catch {
    // already gone
  }
}

/** The home's lock file. */
export function homeLockFile(home: string): string {
  return join(home, 'lock');
}
