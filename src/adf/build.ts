// `c360 adf build`: writes adf-templates/ from the definition; `--check` compares instead of writing (CI).
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import type { MasterPipeline } from '../../pipelines/ir.ts';
import { compileFactory } from './compile.ts';
import { renderAll } from './render.ts';

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.name.endsWith('.json')) out.push(relative(dir, p).split('\\').join('/'));
    }
  };
  await walk(dir);
  return out.sort();
}

export interface BuildDiff {
  added: string[];
  changed: string[];
  removed: string[];
}

/** What differs between a fresh generation and the files in `dir` (only .json files are considered ours). */
export async function diffTemplates(master: MasterPipeline, dir: string): Promise<BuildDiff> {
  const files = renderAll(compileFactory(master));
  const existing = new Set(await listFiles(dir));
  const diff: BuildDiff = { added: [], changed: [], removed: [] };
  for (const [path, text] of files) {
    if (!existing.has(path)) diff.added.push(path);
    else if ((await readFile(join(dir, path), 'utf8')) !== text) diff.changed.push(path);
  }
  for (const path of existing) if (!files.has(path)) diff.removed.push(path);
  return diff;
}

/** Writes every file and removes stale .json files (resources that left the definition). */
export async function writeTemplates(master: MasterPipeline, dir: string): Promise<{ written: number; removed: string[] }> {
  const files = renderAll(compileFactory(master));
  const stale = (await listFiles(dir)).filter((p) => !files.has(p));
  for (const p of stale) await rm(join(dir, p));
  for (const [path, text] of files) {
    const file = join(dir, path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, text);
  }
  return { written: files.size, removed: stale };
}
