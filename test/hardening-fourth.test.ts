// Issue 19, fourth pass. The leftover of the third: `c360 run` on an existing home whose lake held no dated rows ran
// Silver (and wrote a manifest) before failing at the as-of date; `c360 job` refused a wrong input folder or as-of date
// only after taking the home lock, so a typo'd home was created and a failed manifest written. Every such refusal now
// happens before the lock and before any stage.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestRelation } from '../src/bronze/ingest.ts';
import { Engine, lit } from '../src/engine/duckdb.ts';
import { LocalLake } from '../src/lake/local-lake.ts';
import { c360 } from './cli-in-process.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'c360-fourth-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});


describe('run-wide values are settled before any stage', () => {
  it('`c360 run` on an existing home whose lake holds no dated rows is refused before the lock: no manifest, no Silver', async () => {
    const home = join(dir, 'empty-home');
    await mkdir(join(home, 'lake'), { recursive: true });
    const r = await c360('run', '--home', home, '--json');
    expect(r.code).toBe(2);
    expect(r.err).toContain('No dated rows in the lake');
    expect((await readdir(home)).sort()).toEqual(['lake']);
    expect(await readdir(join(home, 'lake'))).toEqual([]);
  });

  it('a run whose drops bring no dated rows stops right after Bronze ingestion: no Silver or Gold job ran', async () => {
    const home = join(dir, 'empty-input');
    const input = join(dir, 'no-drops');
    await mkdir(input);
    const r = await c360('run', '--home', home, '--json', '--input', input);
    expect(r.code).toBe(2);
    const [file] = await readdir(join(home, 'runs'));
    const manifest = JSON.parse(await readFile(join(home, 'runs', file!), 'utf8')) as { status: string; jobs: { stage: string; activity: string; status: string }[] };
    expect(manifest.status).toBe('failed');
    expect(manifest.jobs.at(-1)).toMatchObject({ activity: 'resolve_as_of', stage: 'silver_processing', status: 'failed' });
    expect(manifest.jobs.filter((j) => j.status !== 'skipped' && j.activity !== 'resolve_as_of').map((j) => j.stage)).toEqual(
      manifest.jobs.filter((j) => j.status !== 'skipped' && j.activity !== 'resolve_as_of').map(() => 'bronze_ingestion'),
    );
    expect(existsSync(join(home, 'lake', 'silver'))).toBe(false);
  });

  it('a wrong pipeline value with --input is refused before the home is created', async () => {
    const home = join(dir, 'never', 'home');
    const input = join(dir, 'no-drops-2');
    await mkdir(input);
    for (const [flag, value] of [['--horizon-days', 'abc'], ['--train-every-days', '0'], ['--as-of', '2026-02-30']]) {
      const r = await c360('run', '--home', home, '--json', '--input', input, flag!, value!);
      expect(r.code, flag).toBe(2);
      expect(existsSync(join(dir, 'never')), flag).toBe(false);
    }
  });

  it('`c360 job` refuses a missing input folder, a bad value, an unknown or extra job, and an as-of with no data before the lock: the home is not created', async () => {
    const home = join(dir, 'job', 'home');
    const cases: [string[], string][] = [
      [['bronze-ingest', '--param', 'table=CUSTOMERS', '--param', `input=${join(dir, 'nope')}`], 'is neither a local folder nor a prefix in the lake'],
      [['bronze-ingest', '--param', 'table=CUSTOMERS', '--param', 'input=x', '--param', 'input=y'], '--param input is given twice'],
      [['bronze-ingest', '--param', 'table'], '--param takes name=value'],
      [['no-such-job'], "Unknown job 'no-such-job'"],
      [['silver-identity', 'extra'], "'extra' is extra"],
      [['warehouse-load', '--run-date', '2026-02-30'], '--run-date must be a date'],
      [['warehouse-load'], 'No dated rows in the lake'],
    ];
    for (const [args, message] of cases) {
      const r = await c360('job', ...args, '--home', home, '--json');
      expect(r.err, args.join(' ')).toContain(message);
      expect(r.code, args.join(' ')).toBe(2);
      expect(existsSync(join(dir, 'job')), args.join(' ')).toBe(false);
    }
  });
});

describe('`c360 ingest` refuses before the lock', () => {
  it('an unknown table, a missing or folder --file, an unknown format or a wrong --run-date: exit 2, the home not created', async () => {
    const home = join(dir, 'ingest', 'home');
    const drop = join(dir, 'CUSTOMERS.csv');
    await writeFile(drop, 'CUSTOMER_ID,FIRST_NAME\nC1,Ann\n');
    const cases: [string[], string][] = [
      [['--table', 'CUSTOMER', '--file', drop], "Unknown table 'CUSTOMER'"],
      [['--table', 'CUSTOMERS', '--file', join(dir, 'nope.csv')], 'no such file'],
      [['--table', 'CUSTOMERS', '--file', dir, '--format', 'csv'], 'not a regular file'],
      [['--table', 'CUSTOMERS', '--file', drop, '--format', 'xml'], "Unknown format 'xml'"],
      [['--table', 'CUSTOMERS', '--file', drop, '--run-date', '2026-02-30'], '--run-date must be a date'],
    ];
    for (const [args, message] of cases) {
      const r = await c360('ingest', ...args, '--home', home, '--json');
      expect(r.err, args.join(' ')).toContain(message);
      expect(r.code, args.join(' ')).toBe(2);
      expect(existsSync(join(dir, 'ingest')), args.join(' ')).toBe(false);
    }
  });
});

describe('odd NDJSON keys', () => {
  it('an object naming the empty key is quarantined alone as MALFORMED (it failed the whole file with a parser error); the others load', async () => {
    const file = join(dir, 'empty-key.ndjson');
    await writeFile(file, '{"":1,"CUSTOMER_ID":"C5"}\n{"CUSTOMER_ID":"C6"}\n{"CUSTOMER_ID":"C7","X":{"":2}}\n');
    const engine = await Engine.open();
    try {
      const lake = new LocalLake(join(dir, 'lake-empty-key'));
      const r = await ingestRelation(engine, lake, { table: 'CUSTOMERS', source: { file }, loadId: 'l', ingestDate: '2026-01-01', tmpDir: join(dir, 'tmp') });
      expect([r.bronzeRows, r.quarantineRows]).toEqual([2, 1]);
      const q = await lake.localPath(r.outputs.find((o) => o.startsWith('quarantine/'))!);
      expect(await engine.all(`SELECT _source_position AS pos, _source_record AS rec, _source_error AS err FROM read_parquet(${lit(q)})`)).toEqual([
        { pos: 'line=1', rec: '{"":1,"CUSTOMER_ID":"C5"}', err: 'EMPTY KEY: the object names the key ""' },
      ]);
    } finally {
      engine.close();
    }
  });
});

describe('records that are not UTF-8', () => {
  type Q = { id: string | null; pos: string; rec: string; hex: string; reasons: string[]; err: string };
  /** Ingests `file` twice into one lake: what the first wrote, and what the second added. */
  async function ingestTwice(file: string, name: string): Promise<{ first: { bronze: string[]; quarantine: Q[] }; again: number }> {
    const engine = await Engine.open();
    try {
      const lake = new LocalLake(join(dir, name));
      const opts = { table: 'CUSTOMERS', source: { file }, loadId: 'l', ingestDate: '2026-01-01', tmpDir: join(dir, 'tmp') };
      const r = await ingestRelation(engine, lake, opts);
      const path = async (layer: string) => lake.localPath(r.outputs.find((o) => o.startsWith(`${layer}/`))!);
      const bronze = (await engine.all<{ id: string }>(`SELECT CUSTOMER_ID AS id FROM read_parquet(${lit(await path('bronze'))}) ORDER BY 1`)).map((x) => x.id);
      const quarantine = await engine.all<Q>(
        `SELECT CUSTOMER_ID AS id, _source_position AS pos, _source_record AS rec, hex(_source_bytes) AS hex, _reasons AS reasons, _source_error AS err FROM read_parquet(${lit(await path('quarantine'))}) ORDER BY pos`,
      );
      const second = await ingestRelation(engine, lake, { ...opts, loadId: 'l2' });
      return { first: { bronze, quarantine }, again: second.bronzeRows + second.quarantineRows };
    } finally {
      engine.close();
    }
  }

  it('CSV (Latin-1): two records differing only in a byte that is not UTF-8 are two quarantined records, each with its bytes', async () => {
    // The reader shows both as 'C2,Jos?,Lee': hashed over that text, the second was dropped as a duplicate of the first.
    const rows = [Buffer.from('C2,Jos\xe9,Lee', 'latin1'), Buffer.from('C2,Jos\xe8,Lee', 'latin1')];
    const file = join(dir, 'latin1.csv');
    await writeFile(file, Buffer.concat([Buffer.from('CUSTOMER_ID,FIRST_NAME,LAST_NAME\nC1,Ann,Lee\n'), rows[0]!, Buffer.from('\n'), rows[1]!, Buffer.from('\n')]));
    const { first, again } = await ingestTwice(file, 'lake-csv');
    expect(first.bronze).toEqual(['C1']);
    expect(first.quarantine.map((q) => [q.pos, q.hex, q.rec, q.reasons])).toEqual([
      ['line=3', rows[0]!.toString('hex').toUpperCase(), 'C2,Jos\ufffd,Lee', ['_RECORD:MALFORMED']],
      ['line=4', rows[1]!.toString('hex').toUpperCase(), 'C2,Jos\ufffd,Lee', ['_RECORD:MALFORMED']],
    ]);
    expect(again).toBe(0);
  });

  it('NDJSON: a line that is not UTF-8 is quarantined alone with its bytes and line number (it failed the whole file); the others load', async () => {
    const bad = [Buffer.from('{"CUSTOMER_ID":"C1","FIRST_NAME":"An\xffn"}', 'latin1'), Buffer.from('{"CUSTOMER_ID":"C3","FIRST_NAME":"B\xe9"}', 'latin1')];
    const good = (id: string) => Buffer.from(`{"CUSTOMER_ID":"${id}","FIRST_NAME":"Bo"}`);
    const file = join(dir, 'customers.ndjson');
    // line 1 bad, 2 blank, 3 good, 4 bad, 5 good, 6 not JSON
    await writeFile(file, Buffer.concat([bad[0]!, Buffer.from('\n\n'), good('C2'), Buffer.from('\n'), bad[1]!, Buffer.from('\n'), good('C4'), Buffer.from('\n{oops\n')]));
    const { first, again } = await ingestTwice(file, 'lake-ndjson');
    expect(first.bronze).toEqual(['C2', 'C4']);
    expect(first.quarantine.map((q) => [q.pos, q.hex, q.reasons])).toEqual([
      ['line=1', bad[0]!.toString('hex').toUpperCase(), ['_RECORD:MALFORMED']],
      ['line=4', bad[1]!.toString('hex').toUpperCase(), ['_RECORD:MALFORMED']],
      ['line=6', null, ['_RECORD:MALFORMED']],
    ]);
    expect(first.quarantine[0]!.rec).toBe('{"CUSTOMER_ID":"C1","FIRST_NAME":"An\ufffdn"}');
    expect(first.quarantine[0]!.err).toContain('INVALID ENCODING');
    expect(first.quarantine[2]!.rec).toBe('{oops');
    expect(again).toBe(0);
  });
});

describe('permissions', () => {
  const ROOT = join(import.meta.dirname, '..');
  // Permissions do not bind root: as root, the CLI runs as nobody (setpriv, util-linux).
  const root = process.getuid?.() === 0;
  const asUser = (args: string[]) =>
    spawnSync(root ? 'setpriv' : process.execPath, [...(root ? ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath] : []), join(ROOT, 'bin', 'c360.mjs'), ...args], {
      encoding: 'utf8',
      env: { ...process.env, C360_LAKE_URL: '', C360_LOCK_WAIT_SECONDS: '0' },
    });
  const own = async (path: string, user: boolean) => {
    if (root) await chown(path, user ? 65534 : 0, user ? 65534 : 0);
    else await chmod(path, user ? 0o777 : 0o555);
  };

  it('a quarantine folder it may not write: exit 1 naming it and the fix; once writable, the same command completes the ingest without duplicating Bronze', async () => {
    await chmod(dir, 0o755); // mkdtemp's folder is the test runner's alone
    const base = join(dir, 'perm');
    await mkdir(base);
    await chmod(base, 0o777);
    const drop = (name: string, ids: [string, string]) =>
      writeFile(join(base, name), `CUSTOMER_ID,FIRST_NAME,DATE_OF_BIRTH\n${ids[0]},Ann,1980-01-01\n${ids[1]},Bo,not-a-date\n`, { mode: 0o644 });
    await drop('a.csv', ['C1', 'C2']);
    await drop('b.csv', ['C3', 'C4']);
    const home = join(base, 'home');
    const ingest = (file: string) => asUser(['ingest', '--table', 'CUSTOMERS', '--file', join(base, file), '--home', home, '--json']);
    expect(ingest('a.csv').status).toBe(0);
    const q = join(home, 'lake', 'quarantine', 'customer360', 'customers');
    const folders = [q, ...(await readdir(q)).map((d) => join(q, d))];
    for (const f of folders) await own(f, false);
    const denied = ingest('b.csv');
    expect(denied.status).toBe(1);
    expect(denied.stderr).toContain('may not write there: give it write access to that folder');
    expect(denied.stderr).toContain(q);
    for (const f of folders) await own(f, true);
    const again = ingest('b.csv');
    expect(again.status).toBe(0);
    expect(again.stdout).toContain('already ingested 1');
    expect(again.stdout).toContain('bronze 0, quarantine 1');
    const engine = await Engine.open();
    try {
      const ids = async (layer: string) =>
        (await engine.all<{ id: string }>(`SELECT CUSTOMER_ID AS id FROM read_parquet(${lit(join(home, 'lake', layer, 'customer360', 'customers', '*', '*.parquet'))}) ORDER BY 1`)).map((r) => r.id);
      expect(await ids('bronze')).toEqual(['C1', 'C3']);
      expect(await ids('quarantine')).toEqual(['C2', 'C4']);
    } finally {
      engine.close();
    }
  }, 120_000);

  it('a drop it may not read: exit 1, named as a read, nothing written', async () => {
    await chmod(dir, 0o755);
    const base = join(dir, 'perm-read');
    await mkdir(base);
    await chmod(base, 0o777);
    const file = join(base, 'c.csv');
    await writeFile(file, 'CUSTOMER_ID,FIRST_NAME\nC9,Zed\n', { mode: 0o600 });
    if (!root) await chmod(file, 0o000);
    const r = asUser(['ingest', '--table', 'CUSTOMERS', '--file', file, '--home', join(base, 'home'), '--json']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('may not read it: give it read access');
    expect(existsSync(join(base, 'home', 'lake', 'bronze'))).toBe(false);
  }, 60_000);
});
