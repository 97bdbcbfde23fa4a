import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { joinLake, LocalLake, openLake } from '../src/lake/index.ts';

describe('local lake', () => {
  it('writes atomically, lists recursively in order, and never lists temporary files', async () => {
    const root = await mkdtemp(join(tmpdir(), 'lake-'));
    const lake = new LocalLake(root);
    await lake.write('bronze/x/b.txt', 'b');
    await lake.write('bronze/x/a.txt', 'a');
    await writeFile(join(root, 'bronze/x/.tmp-123-c.txt'), 'partial');
    expect((await lake.list('bronze')).map((f) => f.path)).toEqual(['bronze/x/a.txt', 'bronze/x/b.txt']);
    expect((await lake.read('bronze/x/a.txt')).toString()).toBe('a');
    expect(await lake.list('nothing/here')).toEqual([]);
    expect(await lake.exists('bronze/x/a.txt')).toBe(true);
  });

  it('commits a local file by moving it into place', async () => {
    const root = await mkdtemp(join(tmpdir(), 'lake-'));
    const lake = new LocalLake(join(root, 'lake'));
    const src = join(root, 'out.parquet');
    await writeFile(src, 'data');
    await lake.putFile(src, 'gold/d/as_of_date=2026-01-01/part-0.parquet');
    expect(await readdir(root)).not.toContain('out.parquet');
    expect((await lake.read('gold/d/as_of_date=2026-01-01/part-0.parquet')).toString()).toBe('data');
  });

  it('refuses paths that escape the root', async () => {
    const lake = new LocalLake(await mkdtemp(join(tmpdir(), 'lake-')));
    await expect(lake.write('../evil', 'x')).rejects.toThrow(/escapes the lake root/);
  });

  it('opens HOME/lake by default and joins paths', async () => {
    const home = await mkdtemp(join(tmpdir(), 'home-'));
    const lake = await openLake(home, '');
    expect(lake.location).toBe(`file://${join(home, 'lake')}`);
    expect(joinLake('bronze/', '/customer360', 'a//b')).toBe('bronze/customer360/a/b');
  });
});
