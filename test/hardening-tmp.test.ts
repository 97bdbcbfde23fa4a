// Issue 19: scratch files piled up in HOME/tmp. Every temp name now carries its owner's pid (src/runtime/tmp.ts): a
// command removes its own on success and failure, and the next command in a home removes what a killed one left,
// never a live process's. DuckDB engines get a temp folder each: sharing one, they overwrote and deleted each other's
// spilled blocks. A lake write killed between its hidden temp sibling and the rename left the sibling for good; each
// write in flight is now named in <lake>/.tmp-writes/ by its pid, and the next command removes a dead writer's.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../src/engine/duckdb.ts';
import { LocalLake } from '../src/lake/local-lake.ts';
import { sweepStaleTmp } from '../src/runtime/tmp.ts';

const ROOT = join(import.meta.dirname, '..');
let dir: string;
const c360 = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [join(ROOT, 'bin', 'c360.mjs'), ...args], { encoding: 'utf8', env: { ...process.env, C360_LAKE_URL: '', ...env } });

/** A pid no process has: one that just exited. */
const deadPid = () => Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);

async function filesUnder(d: string): Promise<string[]> {
  if (!existsSync(d)) return [];
  const out: string[] = [];
  for (const e of await readdir(d, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(relative(d, join(e.parentPath, e.name)));
  return out.sort();
}

const CSV = 'CUSTOMER_ID,FIRST_NAME,LAST_NAME,EMAIL,PHONE,DATE_OF_BIRTH,GENDER,ADDRESS_LINE1,CITY,STATE,POSTAL_CODE,COUNTRY,REGISTRATION_DATE,SOURCE_SYSTEM,UPDATED_AT\n';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'c360-tmp-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('scratch files in HOME/tmp', () => {
  it('the sweep removes entries of dead owners at any area depth, keeps live owners and names it does not own', async () => {
    const tmp = join(dir, 'sweep', 'tmp');
    const dead = deadPid();
    const stale = [`bronze/pid${dead}-bronze-abc/bronze.parquet`, `duckdb/pid${dead}-1/duckdb_temp_storage_S32K-0.tmp`, `silver/pid${dead}-1f2e.parquet`, `pid${dead}-synthetic-run/x`];
    const kept = [`bronze/pid${process.pid}-bronze-live/bronze.parquet`, 'serve/2026-12-03.duckdb', 'notes.txt'];
    for (const f of [...stale, ...kept]) {
      await mkdir(join(tmp, f, '..'), { recursive: true });
      await writeFile(join(tmp, f), 'x');
    }
    const removed = await sweepStaleTmp(tmp);
    expect(removed.map((r) => relative(tmp, r)).sort()).toEqual(stale.map((s) => s.split('/').slice(0, s.startsWith('pid') ? 1 : 2).join('/')).sort());
    expect(await filesUnder(tmp)).toEqual(kept.sort());
    // Area folders emptied by the sweep go too.
    expect(existsSync(join(tmp, 'duckdb'))).toBe(false);
    expect(existsSync(join(tmp, 'silver'))).toBe(false);
  });

  it('an ingest killed mid-commit leaves its scratch files; the next command removes them; a finished ingest leaves none', async () => {
    const home = join(dir, 'killed');
    const drop = join(dir, 'CUSTOMERS.csv');
    await writeFile(drop, CSV + 'C1,Ann,Lee,ann@example.com,555-0100,1980-01-02,F,1 Main St,Springfield,IL,62701,US,2024-01-01,CRM,2024-01-01T00:00:00\n');
    const args = ['ingest', '--table', 'CUSTOMERS', '--file', drop, '--home', home, '--json'];
    const killed = c360(args, { C360_FAULT: 'bronze-before-commit' });
    expect(killed.signal).toBe('SIGKILL');
    const left = await filesUnder(join(home, 'tmp'));
    expect(left.some((f) => /^bronze\/pid\d+-bronze-[^/]+\/bronze\.parquet$/.test(f))).toBe(true);
    // A live process's scratch (this test's pid) must survive the sweep.
    await mkdir(join(home, 'tmp', 'bronze', `pid${process.pid}-bronze-live`), { recursive: true });
    await writeFile(join(home, 'tmp', 'bronze', `pid${process.pid}-bronze-live`, 'f'), 'x');
    expect(c360(['runs', '--home', home]).status).toBe(0);
    expect(await filesUnder(join(home, 'tmp'))).toEqual([`bronze/pid${process.pid}-bronze-live/f`]);
    await rm(join(home, 'tmp', 'bronze', `pid${process.pid}-bronze-live`), { recursive: true });
    const ok = c360(args);
    expect(ok.status).toBe(0);
    expect(await filesUnder(join(home, 'tmp'))).toEqual([]);
    // And the killed attempt left no data behind: the re-run wrote the one record once.
    expect((await filesUnder(join(home, 'lake', 'bronze'))).filter((f) => f.includes('/ingest_date='))).toHaveLength(1);
  }, 120_000);

  it('a lake write killed before its rename leaves a hidden temp sibling; the next command removes it, never a live writer\'s', async () => {
    const home = join(dir, 'killed-lake');
    const drop = join(dir, 'CUSTOMERS-lake.csv');
    await writeFile(drop, CSV + 'C1,Ann,Lee,ann@example.com,555-0100,1980-01-02,F,1 Main St,Springfield,IL,62701,US,2024-01-01,CRM,2024-01-01T00:00:00\n');
    const args = ['ingest', '--table', 'CUSTOMERS', '--file', drop, '--home', home, '--json'];
    const killed = c360(args, { C360_FAULT: 'lake-before-rename' });
    expect(killed.signal).toBe('SIGKILL');
    const lake = join(home, 'lake');
    const hidden = (await filesUnder(lake)).filter((f) => f.split('/').pop()!.startsWith('.tmp-'));
    expect(hidden.some((f) => f.startsWith('bronze/customer360/'))).toBe(true);
    // A write in flight in a live process (this one) is not touched by the sweep.
    const live = new LocalLake(lake);
    const liveTmp = join(lake, 'bronze', '.tmp-live-x.parquet');
    await writeFile(liveTmp, 'x');
    await mkdir(join(lake, '.tmp-writes'), { recursive: true });
    await writeFile(join(lake, '.tmp-writes', `pid${process.pid}-live`), JSON.stringify({ tmp: 'bronze/.tmp-live-x.parquet' }));
    expect(c360(['runs', '--home', home]).status).toBe(0);
    expect((await filesUnder(lake)).filter((f) => f.split('/').pop()!.startsWith('.tmp-') || f.startsWith('.tmp-writes/'))).toEqual(['.tmp-writes/pid' + process.pid + '-live', 'bronze/.tmp-live-x.parquet'].sort());
    expect(await live.list('')).not.toContainEqual(expect.objectContaining({ path: expect.stringContaining('.tmp-') }));
    await rm(liveTmp);
    await rm(join(lake, '.tmp-writes', `pid${process.pid}-live`));
    // The re-run commits the record once and leaves no temp file or entry.
    expect(c360(args).status).toBe(0);
    const files = await filesUnder(lake);
    expect(files.filter((f) => f.includes('.tmp-'))).toEqual([]);
    expect(files.filter((f) => f.startsWith('bronze/') && f.includes('/ingest_date='))).toHaveLength(1);
  }, 120_000);

  it('two engines given the same temp folder spill into folders of their own and keep their data; closing removes them', async () => {
    const tempDirectory = join(dir, 'engines');
    const a = await Engine.open({ tempDirectory, memoryLimit: '64MB', threads: 1 });
    const b = await Engine.open({ tempDirectory, memoryLimit: '64MB', threads: 1 });
    try {
      const folderA = await a.scalar<string>("SELECT current_setting('temp_directory')");
      const folderB = await b.scalar<string>("SELECT current_setting('temp_directory')");
      expect(folderA).not.toBe(folderB);
      // Tables larger than the memory limit: both spill.
      await a.run('CREATE TABLE t AS SELECT range AS x, md5(CAST(range AS VARCHAR)) AS s FROM range(2000000)');
      const sumA = () => a.scalar<string>('SELECT CAST(sum(hash(s)) AS VARCHAR) FROM t');
      const before = await sumA();
      await b.run('CREATE TABLE t AS SELECT range AS x, md5(CAST(range + 7 AS VARCHAR)) AS s FROM range(2000000)');
      expect((await readdir(folderA)).length).toBeGreaterThan(0);
      b.close();
      expect(await sumA()).toBe(before);
    } finally {
      a.close();
    }
    expect(await readdir(tempDirectory)).toEqual([]);
  }, 120_000);
});
