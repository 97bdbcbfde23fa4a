import { createHash } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { Lake, LakeFile } from './lake.ts';

const TMP_MARK = '.tmp-';

/** A lake in a local folder. Atomicity comes from writing a temporary sibling and renaming it. */
export class LocalLake implements Lake {
  readonly root: string;
  readonly location: string;

  constructor(root: string) {
    this.root = resolve(root);
    this.location = `file://${this.root}`;
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
        if (entry.isDirectory()) await walk(full);
        else if (!entry.name.includes(TMP_MARK)) {
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

  async write(path: string, data: Buffer | string): Promise<void> {
    const full = this.abs(path);
    await mkdir(dirname(full), { recursive: true });
    const tmp = this.tmpFor(full);
    try {
      await writeFile(tmp, data);
      await rename(tmp, full);
    } catch (e) {
      // A write cut short (a full disk) must not leave its partial temp sibling behind.
      await rm(tmp, { force: true });
      throw e;
    }
  }

  async putFile(localFile: string, path: string): Promise<void> {
    const full = this.abs(path);
    await mkdir(dirname(full), { recursive: true });
    const tmp = this.tmpFor(full);
    try {
      await rename(localFile, tmp);
    } catch {
      try {
        await copyFile(localFile, tmp);
      } catch (e) {
        await rm(tmp, { force: true });
        throw e;
      }
    }
    await rename(tmp, full);
  }

  async localPath(path: string): Promise<string> {
    return this.abs(path);
  }

  async delete(path: string): Promise<void> {
    await rm(this.abs(path), { force: true, recursive: true });
  }
}
