// Finding the drops of a table in an input location: a local folder, or a lake prefix (landing/customer360 in Azure).
import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { TableContract } from '../../schemas/contract.ts';
import type { Lake } from '../lake/lake.ts';
import { joinLake } from '../lake/lake.ts';
import { DROP_EXTENSIONS, type DropFormat } from './source.ts';

export interface Drop {
  /** Where the drop lives: a local path, or a lake path when `inLake`. */
  location: string;
  inLake: boolean;
  format: DropFormat;
}

/** The drop format of a file name when it is `<TABLE><ext>` (or any name with a drop ext inside `<TABLE>/`). */
function dropFormat(name: string, table: string, insideTableDir: boolean): DropFormat | undefined {
  const lower = name.toLowerCase();
  const hit = DROP_EXTENSIONS.find(([ext]) => lower.endsWith(ext));
  if (!hit) return undefined;
  if (insideTableDir) return hit[1];
  return lower.slice(0, lower.length - hit[0].length) === table.toLowerCase() ? hit[1] : undefined;
}

async function isDir(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isDirectory(), () => false);
}

/** What a folder entry is, a symbolic link followed (a linked drop or table folder was skipped as no drop). */
async function kindOf(dir: string, entry: Dirent): Promise<'file' | 'dir' | undefined> {
  if (entry.isSymbolicLink()) {
    const s = await stat(join(dir, entry.name)).catch(() => undefined);
    return s?.isFile() ? 'file' : s?.isDirectory() ? 'dir' : undefined;
  }
  return entry.isFile() ? 'file' : entry.isDirectory() ? 'dir' : undefined;
}

/** Drops of one table: `<input>/<TABLE>.<ext>` and `<input>/<TABLE>/*.<ext>`, sorted by path. */
export async function findDrops(input: string, contract: TableContract, lake: Lake): Promise<Drop[]> {
  const table = contract.name;
  if (await isDir(input)) {
    const out: Drop[] = [];
    for (const entry of await readdir(input, { withFileTypes: true })) {
      const kind = await kindOf(input, entry);
      if (kind === 'file') {
        const format = dropFormat(entry.name, table, false);
        if (format) out.push({ location: join(input, entry.name), inLake: false, format });
      } else if (kind === 'dir' && entry.name.toUpperCase() === table) {
        const folder = join(input, entry.name);
        for (const inner of await readdir(folder, { withFileTypes: true })) {
          const format = (await kindOf(folder, inner)) === 'file' ? dropFormat(inner.name, table, true) : undefined;
          if (format) out.push({ location: join(folder, inner.name), inLake: false, format });
        }
      }
    }
    return out.sort((a, b) => (a.location < b.location ? -1 : 1));
  }
  // Not a local folder: a lake prefix.
  const prefix = joinLake(input);
  const out: Drop[] = [];
  for (const f of await lake.list(prefix)) {
    const rel = f.path.slice(prefix.length + 1);
    const parts = rel.split('/');
    let format: DropFormat | undefined;
    if (parts.length === 1) format = dropFormat(parts[0]!, table, false);
    else if (parts.length === 2 && parts[0]!.toUpperCase() === table) format = dropFormat(parts[1]!, table, true);
    if (format) out.push({ location: f.path, inLake: true, format });
  }
  return out;
}
