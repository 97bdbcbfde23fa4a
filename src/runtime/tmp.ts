// Scratch files under HOME/tmp belong to the process that made them: every temp file or folder name starts with its
// pid (`pid<N>-...`, see owned()). A process removes its own on success and on failure (finally blocks); what a killed
// process left (SIGKILL, OOM, power loss) is removed by the next command in that home (sweepStaleTmp), which can tell
// a dead owner from a live one by the pid. Only names of that form are touched, and never a live process's.
import { readdir, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';

/** A temp name owned by this process: `pid<N>-<rest>` (a marker no date or uuid starts with). */
export function owned(rest: string): string {
  return `pid${process.pid}-${rest}`;
}

/** Whether a process with this pid runs on this machine (EPERM: it does, as another user). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function ownerOf(name: string): number | undefined {
  const m = /^pid(\d+)-/.exec(name);
  const pid = m ? Number(m[1]) : NaN;
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * Removes, under `dir` (HOME/tmp) and its area folders up to `depth` levels down, the entries whose owner pid is gone,
 * then the area folders left empty. Returns the entries removed. A missing folder is nothing to do.
 */
export async function sweepStaleTmp(dir: string, depth = 3): Promise<string[]> {
  const removed: string[] = [];
  const walk = async (d: string, level: number): Promise<boolean> => {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return false;
    }
    let left = entries.length;
    for (const e of entries) {
      const full = join(d, e.name);
      const pid = ownerOf(e.name);
      if (pid !== undefined) {
        if (pid !== process.pid && !pidAlive(pid)) {
          await rm(full, { recursive: true, force: true });
          removed.push(full);
          left--;
        }
      } else if (e.isDirectory() && level < depth && (await walk(full, level + 1))) {
        left--;
      }
    }
    // An area folder (tmp/silver, tmp/duckdb, ...) with nothing left goes too; HOME/tmp itself stays.
    if (left === 0 && level > 0) return rmdir(d).then(() => true, () => false);
    return false;
  };
  await walk(dir, 0);
  return removed;
}
