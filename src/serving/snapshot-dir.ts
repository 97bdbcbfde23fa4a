// Where a snapshot's files go. A build beside a serving snapshot writes them to a memory file system (/dev/shm) when
// it has room for them and the machine has memory to spare, else to the disk folder: on a virtual machine whose disk
// is a file on the host, a build's disk writes make the host take CPU time from the guest's CPUs, the server's too
// (docs/serving.md, run 7). Files there are memory the kernel cannot reclaim, so it is chosen only with a margin.
import { readdir, readFile, rm, stat, statfs } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pidAlive as alive } from '../runtime/tmp.ts';

/** The memory file system's folder for snapshots (the default; C360_SERVE_SNAPSHOT_DIR overrides every choice). */
export const MEMORY_DIR = '/dev/shm/c360-serve';

/** Room kept free beside a snapshot in memory, for the server, the build process and everything else on the machine. */
const SPARE = 1024 ** 3;
/** The most one batch of profiles' temporary JSON takes (100,000 people of ~5 KB) while the build compresses it. */
const BATCH_JSON = 512 * 1024 ** 2;

export interface MemoryRoom {
  /** Bytes free on the memory file system (null: there is none). */
  free: number | null;
  /** Bytes of memory the machine (and the container's memory limit, if any) can still give. */
  available: number;
}

/**
 * Bytes the next snapshot is expected to need on the memory file system: the current one's files (the new one is
 * about its size: same people a day later), a quarter more for growth, and one batch's temporary JSON.
 */
export const expectedBytes = (currentBytes: number) => Math.ceil(currentBytes * 1.25) + BATCH_JSON;

/** The memory folder when both it and the machine's memory have room for `need` bytes (and SPARE more), else the disk folder. */
export function chooseDir(need: number, room: MemoryRoom, memoryDir: string, diskDir: string): string {
  return room.free !== null && room.free >= need && room.available >= need + SPARE ? memoryDir : diskDir;
}

/** What the memory file system and the machine have free (MemAvailable, and a cgroup v2 limit's headroom). */
export async function memoryRoom(memoryDir: string): Promise<MemoryRoom> {
  const fs = await statfs(dirname(memoryDir)).catch(() => null);
  const free = fs && fs.type === 0x01021994 /* tmpfs */ ? fs.bavail * fs.bsize : null;
  const meminfo = await readFile('/proc/meminfo', 'utf8').catch(() => '');
  let available = Number(/MemAvailable:\s+(\d+) kB/.exec(meminfo)?.[1] ?? 0) * 1024;
  const max = (await readFile('/sys/fs/cgroup/memory.max', 'utf8').catch(() => 'max')).trim();
  if (max !== 'max') {
    const current = Number((await readFile('/sys/fs/cgroup/memory.current', 'utf8').catch(() => '0')).trim());
    available = Math.min(available, Number(max) - current);
  }
  return { free, available };
}

/** Bytes of a snapshot's files (database, lookups, body files). */
export async function snapshotBytes(file: string): Promise<number> {
  const dir = dirname(file);
  const prefix = basename(file);
  let total = 0;
  for (const f of await readdir(dir).catch(() => [] as string[])) {
    if (f.startsWith(prefix)) total += (await stat(join(dir, f)).catch(() => ({ size: 0 }))).size;
  }
  return total;
}

/**
 * Removes the snapshot files a server that has ended left behind (killed before it could: files in memory stay
 * there until the machine restarts). Files are named snapshot-PID-N...; a live PID's are kept.
 */
export async function removeLeftovers(dir: string): Promise<void> {
  for (const f of await readdir(dir).catch(() => [] as string[])) {
    const pid = Number(/^snapshot-(\d+)-/.exec(f)?.[1]);
    if (!pid || pid === process.pid || alive(pid)) continue;
    await rm(join(dir, f), { force: true }).catch(() => {});
  }
}
