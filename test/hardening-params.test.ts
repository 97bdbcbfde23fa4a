// Issue 19 (a): every CLI and job parameter is checked before any work. A wrong --as-of, an impossible date, a
// non-number, a misspelt input folder or an unknown parameter is refused with exit 2 and a message naming the value
// and the fix, and nothing in the lake changes. `c360 resolve` never writes over its input.
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, lit } from '../src/engine/duckdb.ts';
import { generateSample } from '../src/sample/generate.ts';
import { c360 } from './cli-in-process.ts';

let home: string;
let sample: string;
let first: string;
let last: string;


/** Every file under a folder (relative paths), to show a refused command wrote nothing. */
async function filesUnder(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((d) => d.isFile()).map((d) => join(d.parentPath, d.name)).sort();
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'c360-params-'));
  sample = join(home, 'sample');
  await generateSample({ customers: 30, days: 20, seed: 19, out: sample });
  for (const t of ['CUSTOMERS', 'CUSTOMER_TRANSACTIONS']) {
    expect((await c360('ingest', '--home', home, '--json', '--table', t, '--file', join(sample, `${t}.parquet`))).code).toBe(0);
  }
  const e = await Engine.open();
  try {
    const r = await e.all<{ lo: string; hi: string }>(
      `SELECT CAST(min(TRY_CAST(TRANSACTION_DATE AS TIMESTAMP))::DATE AS VARCHAR) AS lo, CAST(max(TRY_CAST(TRANSACTION_DATE AS TIMESTAMP))::DATE AS VARCHAR) AS hi FROM read_parquet(${lit(join(sample, 'CUSTOMER_TRANSACTIONS.parquet'))})`,
    );
    first = r[0]!.lo;
    last = r[0]!.hi;
  } finally {
    e.close();
  }
}, 120_000);
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

describe('a wrong as-of date is refused before Silver, Gold or the warehouse change', () => {
  it.each([
    ['2020-01-01', 'before the data'],
    ['2030-01-01', 'after the data and today'],
  ])('--as-of %s (%s): exit 2, the data range in the message, nothing written', async (asOf) => {
    const before = await filesUnder(join(home, 'lake'));
    const r = await c360('run', '--home', home, '--json', '--as-of', asOf);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`--as-of ${asOf} is outside the data: event dates run from ${first.slice(0, 4)}`);
    expect(r.err).toContain('--force');
    expect(await filesUnder(join(home, 'lake'))).toEqual(before);
    expect(existsSync(join(home, 'lake', 'silver'))).toBe(false);
    expect(existsSync(join(home, 'warehouse.duckdb'))).toBe(false);
  });

  it('the same check guards `c360 job` for jobs that use the as-of date', async () => {
    const runs = await filesUnder(join(home, 'runs'));
    const r = await c360('job', 'warehouse-load', '--home', home, '--json', '--as-of', '2020-01-01');
    expect(r.code).toBe(2);
    expect(r.err).toContain('is outside the data');
    expect(existsSync(join(home, 'warehouse.duckdb'))).toBe(false);
    // Refused by the command's precheck, before the lock: no failed manifest for an invocation that never ran.
    expect(await filesUnder(join(home, 'runs'))).toEqual(runs);
  });

  it('a date in the range is accepted by the check', async () => {
    const { resolveAsOf } = await import('../src/runtime/as-of.ts');
    const { LocalLake } = await import('../src/lake/local-lake.ts');
    const lake = new LocalLake(join(home, 'lake'));
    expect((await resolveAsOf({ option: last, lake, openEngine: () => Engine.open() })).asOf).toBe(last);
    expect((await resolveAsOf({ option: first, lake, openEngine: () => Engine.open() })).asOf).toBe(first);
    await expect(resolveAsOf({ option: '2030-01-01', lake, openEngine: () => Engine.open(), force: true })).resolves.toMatchObject({ asOf: '2030-01-01' });
  });
});

describe('values are checked before any work', () => {
  it.each([
    [['run', '--as-of', '2026-02-30'], "--as-of must be a date YYYY-MM-DD, got '2026-02-30'"],
    [['run', '--horizon-days', 'abc'], "horizonDays='abc' must be a whole number in 1..3650"],
    [['run', '--horizon-days', '0'], "horizonDays='0' must be a whole number in 1..3650"],
    [['run', '--run-date', '2026-13-01'], "--run-date must be a date YYYY-MM-DD, got '2026-13-01'"],
    [['run', '--input', 'no/such/folder'], 'does not exist'],
    [['job', 'bronze-ingest', '--param', 'table=CUSTOMERS', '--param', 'input=.c360/sampel'], "input='.c360/sampel' is neither a local folder nor a prefix in the lake"],
    [['job', 'bronze-ingest', '--param', 'table=CUSTOMERS', '--param', 'input=landing', '--param', 'bogus=1'], "unknown parameter 'bogus'"],
    [['job', 'bronze-ingest', '--param', 'table=CUSTOMER', '--param', 'input=landing'], "table='CUSTOMER' is not a table. Valid tables: CUSTOMERS"],
    [['job', 'silver-identity', '--param', 'threshold=1.5'], "threshold='1.5' must be a number in 0..1"],
    [['job', 'gold-campaigns', '--param', 'attributionWindowDays=7days'], "attributionWindowDays='7days' must be a whole number"],
    [['job', 'warehouse-load', '--param', 'asOf=2026-02-29'], "asOf='2026-02-29' must be a real date"],
    [['ingest', '--table', 'CUSTOMERS', '--file', 'no-such.csv'], 'no such file'],
  ])('%j -> exit 2: %s', async (argv, message) => {
    const before = await filesUnder(join(home, 'lake'));
    const r = await c360(...argv, '--home', home, '--json');
    expect(r.err).toContain(message);
    expect(r.code).toBe(2);
    expect(await filesUnder(join(home, 'lake'))).toEqual(before);
  });
});

describe('help and version', () => {
  it('command groups list their commands; --version prints the version; a job lists its parameters', async () => {
    const pkg = JSON.parse(await readFile('package.json', 'utf8')) as { version: string };
    expect((await c360('--version')).out).toBe(`c360 ${pkg.version}\n`);
    for (const group of ['snowflake', 'adf']) {
      const r = await c360(group, '--help');
      expect(r.code).toBe(0);
      expect(r.out).toContain(`${group} `);
      expect(r.out).not.toContain('Unknown command');
    }
    expect((await c360('snowflake')).code).toBe(2);
    const job = await c360('job', 'bronze-ingest', '--help');
    expect(job.out).toMatch(/table\s+Source table/);
  });
});

describe('c360 resolve never writes over what it reads', () => {
  it('--output equal to --input (or the same file by another path) is refused and the input is unchanged', async () => {
    const input = join(home, 'people.csv');
    const text = 'CUSTOMER_ID,SOURCE_SYSTEM,FIRST_NAME,LAST_NAME,EMAIL\n1,WEB,Ann,Lee,ann@example.com\n2,POS,Ann,Lee,ann@example.com\n';
    await writeFile(input, text);
    for (const output of [input, join(home, '.', 'people.csv')]) {
      const r = await c360('resolve', '--input', input, '--output', output);
      expect(r.code).toBe(2);
      expect(r.err).toContain('is a file this command reads');
    }
    const ledger = await c360('resolve', '--input', input, '--output', join(home, 'out.csv'), '--ledger', input);
    expect(ledger.code).toBe(2);
    expect(await readFile(input, 'utf8')).toBe(text);
  });
});
