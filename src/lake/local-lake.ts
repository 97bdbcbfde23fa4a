import { createHash } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { faultPoint } from '../runtime/fault.ts';
import { lockFile, type Holder } from '../runtime/lock.ts';
import { owned, pidAlive } from '../runtime/tmp.ts';
import type { Lake, LakeFile } from './lake.ts';

const TMP_MARK = '.tmp-';
/**
 * Where each write in flight names its temp sibling (`<root>/.tmp-writes/pid<N>-<nonce>`, holding host and sibling
 * path): a write killed between the sibling and its rename (SIGKILL, OOM, power loss) leaves the entry, and the
 * next process that writes to the lake (or any command of the home, src/cli/main.ts) removes the sibling and the
 * entry once that pid is gone. Siblings stay next to their target, so the rename works across a symlinked folder.
 */
const WRITES = `${TMP_MARK}writes`;
/**
 * The lake's writer lock (src/runtime/lock.ts): a local lake shared by two homes (--lake, C360_LAKE_URL) had no
 * lock of its own, so two homes' runs ingested the same drops at once and Bronze held them twice. One lock for the
 * whole lake, whatever the scope: in one home, writers take turns anyway (the home lock).
 */
const LOCK = '.c360-lock';

/** A lake in a local folder. Atomicity comes from writing a temporary sibling and renaming it. */
export class LocalLake implements Lake {
  readonly root: string;
  readonly location: string;
  private swept?: Promise<string[]>;

  constructor(root: string) {
    this.root = resolve(root);
    this.location = `file://${this.root}`;
  }

  /**
   * Removes the temp siblings of writes whose process is gone (on this host), and their entries. Runs once per
   * instance before its first write; returns the lake paths removed.
   */
  sweepStaleWrites(): Promise<string[]> {
    this.swept ??= this.sweep();
    return this.swept;
  }

  private async sweep(): Promise<string[]> {
    const dir = join(this.root, WRITES);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return [];
    }
    const removed: string[] = [];
    const host = hostname();
    for (const name of names) {
      const pid = Number(/^pid(\d+)-/.exec(name)?.[1]);
      if (!Number.isInteger(pid) || pid === process.pid || pidAlive(pid)) continue;
      const entry = join(dir, name);
      let target: { host?: string; tmp?: string } = {};
      try {
        target = JSON.parse(await readFile(entry, 'utf8')) as typeof target;
      } catch {
        // An entry cut short was written before its sibling existed: nothing to remove but the entry.
      }
      if (target.host !== undefined && target.host !== host) continue;
      // Only a temp sibling inside this lake, never anything else an entry might name.
      if (typeof target.tmp === 'string' && target.tmp.split('/').pop()!.startsWith(TMP_MARK)) {
        const tmp = this.abs(target.tmp);
        await rm(tmp, { force: true });
        removed.push(target.tmp);
      }
      await rm(entry, { force: true });
    }
    return removed;
  }

  /** Registers a temp sibling before it is created; the returned function unregisters it once it is gone. */
  private async begin(tmp: string): Promise<() => Promise<void>> {
    await this.sweepStaleWrites();
    const dir = join(this.root, WRITES);
    await mkdir(dir, { recursive: true });
    const entry = join(dir, owned(tmp.split(sep).pop()!.slice(TMP_MARK.length)));
    await writeFile(entry, JSON.stringify({ host: hostname(), tmp: relative(this.root, tmp).split(sep).join('/') }));
    return () => rm(entry, { force: true });
  }

  private abs(path: string): string {
    const full = resolve(this.root, path);
    if (full !== this.root && !full.startsWith(this.root + sep)) throw new Error(`Lake path escapes the lake root: ${path}`);
    return full;
  }

  async list(prefix: string): Promise<LakeFile[]> {
    const start = this.abs(prefix);
    const out: LakeFile[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return;
        throw e;
      }
      for (const entry of entries) {
        const full = join(dir, entry.name);
        if (entry.isDirectory()) {
          if (entry.name !== WRITES) await walk(full);
        } else if (!entry.name.includes(TMP_MARK) && entry.name !== LOCK) {
          const s = await stat(full);
          out.push({ path: relative(this.root, full).split(sep).join('/'), size: s.size });
        }
      }
    };
    await walk(start);
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  async exists(path: string): Promise<boolean> {
    try {
      await stat(this.abs(path));
      return true;
    } catch {
      return false;
    }
  }

  read(path: string): Promise<Buffer> {
    return readFile(this.abs(path));
  }

  private tmpFor(full: string): string {
    const nonce = createHash('md5').update(`${process.pid}-${Date.now()}-${Math.random()}`).digest('hex').slice(0, 8);
    return join(dirname(full), `${TMP_MARK}${nonce}-${full.split(sep).pop()}`);
  }

  /** Writes through a hidden temp sibling renamed into place; a failed fill (a full disk) removes the sibling. */
  private async commitVia(path: string, fill: (tmp: string) => Promise<void>): Promise<void> {
    const full = this.abs(path);
    await mkdir(dirname(full), { recursive: true });
    const tmp = this.tmpFor(full);
    const done = await this.begin(tmp);
    try {
      await fill(tmp);
      faultPoint('lake-before-rename');
      await rename(tmp, full);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    } finally {
      await done();
    }
  }

  write(path: string, data: Buffer | string): Promise<void> {
    return this.commitVia(path, (tmp) => writeFile(tmp, data));
  }

  putFile(localFile: string, path: string): Promise<void> {
    return this.commitVia(path, async (tmp) => {
      try {
        await rename(localFile, tmp);
      } catch {
        // Another file system: copy (the sibling may be left partial by a kill; the entry covers it).
        await copyFile(localFile, tmp);
      }
    });
  }

  /** One writer at a time in this lake folder, from any home: waits up to waitMs for a live holder, then refuses. */
  async lock(_scope: string, holder: Holder, waitMs: number): Promise<() => Promise<void>> {
    return lockFile(join(this.root, LOCK), holder, `Lake ${this.root}`, waitMs);
  }

  async localPath(path: string): Promise<string> {
    return this.abs(path);
  }

  async delete(path: string): Promise<void> {
    await rm(this.abs(path), { force: true, recursive: true });
  }
}
