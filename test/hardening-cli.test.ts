// Issue 19, the CLI as a careless user types it: an empty --home (an unset variable) made the current folder a home;
// a file given as --home failed with an unexpected EEXIST; `c360 run` on a typo'd home created it and ran every stage
// over nothing before failing; a Bronze file given back as a drop landed its records in Bronze a second time.
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'c360-cli-careless-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function c360(args: string[], cwd = dir) {
  return spawnSync(process.execPath, [join(ROOT, 'bin', 'c360.mjs'), ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, C360_LAKE_URL: '', C360_HOME: '', C360_LOCK_WAIT_SECONDS: '0' },
  });
}

describe('the CLI as a careless user types it', () => {
  it('an empty --home is refused (exit 2) instead of making the current folder a home', async () => {
    const cwd = join(dir, 'cwd');
    await mkdir(cwd);
    await writeFile(join(cwd, 'c.csv'), 'CUSTOMER_ID,FIRST_NAME\nC1,Ann\n');
    const r = c360(['ingest', '--table', 'CUSTOMERS', '--file', 'c.csv', '--home', ''], cwd);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--home is empty');
    expect(await readdir(cwd)).toEqual(['c.csv']);
  }, 30_000);

  it('a file as --home is refused (exit 2) naming it, not an unexpected EEXIST', async () => {
    const file = join(dir, 'not-a-home.csv');
    await writeFile(file, 'x\n');
    for (const cmd of [['run'], ['ingest', '--table', 'CUSTOMERS', '--file', file]]) {
      const r = c360([...cmd, '--home', file]);
      expect(r.status, cmd[0]).toBe(2);
      expect(r.stderr).toContain(`--home ${file} is not a folder`);
      expect(r.stderr).not.toContain('unexpected');
    }
  }, 30_000);

  it('`c360 run` on a home that does not exist is refused before any work and creates nothing', () => {
    const home = join(dir, 'typo', 'home');
    const r = c360(['run', '--home', home]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/Home .*typo\/home does not exist: check --home/);
    expect(existsSync(join(dir, 'typo'))).toBe(false);
  }, 30_000);

  it('a file c360 wrote (Bronze) given back as a drop is refused (exit 2): its record is not landed twice', async () => {
    const home = join(dir, 'home');
    await writeFile(join(dir, 'CUSTOMERS.csv'), 'CUSTOMER_ID,FIRST_NAME\nC1,Ann\n');
    expect(c360(['ingest', '--table', 'CUSTOMERS', '--file', join(dir, 'CUSTOMERS.csv'), '--home', home]).status).toBe(0);
    const bronzeDir = join(home, 'lake', 'bronze', 'customer360', 'customers');
    const parquet = async () => (await readdir(bronzeDir, { recursive: true })).filter((f) => f.endsWith('.parquet'));
    const [file] = await parquet();
    await copyFile(join(bronzeDir, file!), join(dir, 'again.parquet'));
    const r = c360(['ingest', '--table', 'CUSTOMERS', '--file', join(dir, 'again.parquet'), '--home', home]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/is a file c360 wrote \(it has _load_id and _record_hash\), not a source drop/);
    expect(await parquet()).toEqual([file]);
  }, 60_000);

  it('a second file after --file, or a --param given twice, is refused (exit 2) instead of ignored or overridden', async () => {
    const drops = join(dir, 'drops');
    await mkdir(drops, { recursive: true });
    await writeFile(join(drops, 'CUSTOMERS.csv'), 'CUSTOMER_ID,FIRST_NAME\nC1,Ann\n');
    const home = join(dir, 'home-args');
    const two = c360(['ingest', '--table', 'CUSTOMERS', '--file', join(drops, 'CUSTOMERS.csv'), join(dir, 'b.csv'), '--home', home]);
    expect(two.status).toBe(2);
    expect(two.stderr).toContain(`Unexpected argument '${join(dir, 'b.csv')}'`);
    const twice = c360(['job', 'bronze-ingest', '--param', 'table=CUSTOMERS', '--param', `input=${drops}`, '--param', 'input=other', '--home', home]);
    expect(twice.status).toBe(2);
    expect(twice.stderr).toContain(`--param input is given twice ('${drops}' and 'other')`);
    // a name every object has ('constructor' is `in` {}) is not 'given twice': it is an unknown parameter
    const inherited = c360(['job', 'bronze-ingest', '--param', 'table=CUSTOMERS', '--param', 'constructor=x', '--home', home]);
    expect(inherited.status).toBe(2);
    expect(inherited.stderr).toContain("unknown parameter 'constructor'");
    // c360 resolve takes records as arguments only with --explain
    const resolveTwo = c360(['resolve', '--input', join(drops, 'CUSTOMERS.csv'), join(dir, 'b.csv'), '--home', home]);
    expect(resolveTwo.status).toBe(2);
    expect(resolveTwo.stderr).toContain(`Unexpected argument '${join(dir, 'b.csv')}'`);
    expect(existsSync(join(home, 'lake', 'bronze'))).toBe(false);
  }, 120_000); // four CLI starts: ~30 s on a loaded 2-core machine
});
