// Issue 19, the hostile pass: what a careless or hostile user hits first. A full disk is a transient failure (exit 75)
// that says what to do (so is a folder c360 may not write: exit 1, no 'unexpected'), not a usage error (exit 2) nor an "unexpected" crash; a BOM, CRLF and odd values are read
// as records (the odd values quarantined, never rounded or cut: numbers past their scale, timestamps past microseconds); paths with spaces, quotes and non-ASCII work.
import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ingestRelation } from '../src/bronze/ingest.ts';
import { Engine, lit } from '../src/engine/duckdb.ts';
import { LocalLake } from '../src/lake/local-lake.ts';
import { isEnvironmentError, isTransient, withHint } from '../src/runtime/errors.ts';
import { withTempEngine } from './temp-engine.ts';

const ROOT = join(import.meta.dirname, '..');
let dir: string;
let engine: Engine;
withTempEngine('c360-hostile-', (d, e) => ((dir = d), (engine = e)));

const HEAD = 'TRANSACTION_ID,CUSTOMER_ID,CHANNEL,TRANSACTION_DATE,TRANSACTION_TYPE,TOTAL_AMOUNT,CURRENCY_CODE,TRANSACTION_STATUS,LOYALTY_POINTS_EARNED';
const row = (id: string, o: { date?: string; amount?: string; points?: string } = {}) =>
  `${id},C1,POS,${o.date ?? '2026-10-25 22:23:56'},PURCHASE,${o.amount ?? '10.00'},USD,COMPLETED,${o.points ?? '1'}`;

describe('hostile input', () => {
  it('a full disk is transient and says what to do', () => {
    const duck = new Error('IO Error: Could not write file "/h/tmp/bronze/x.parquet": No space left on device');
    expect(isTransient(duck)).toBe(true);
    expect(isTransient(Object.assign(new Error('write failed'), { code: 'ENOSPC' }))).toBe(true);
    expect(withHint(duck.message)).toMatch(/the disk is full: free space .* the same command, run again, completes the work/);
    expect(isTransient(new Error('Cannot read CSV drop'))).toBe(false);
  });

  it('a folder c360 may not write is named with the fix, not reported as an unexpected crash', () => {
    const denied = Object.assign(new Error("EACCES: permission denied, mkdir '/h/lake/bronze'"), { code: 'EACCES' });
    expect(isEnvironmentError(denied)).toBe(true);
    expect(isTransient(denied)).toBe(false);
    expect(withHint(denied.message)).toMatch(/may not write there: give it write access to that folder, or point --home\/C360_HOME or --lake/);
    // A drop or input folder it may not read is named as a read, not a write.
    expect(withHint("Cannot read csv drop '/d/a.csv': EACCES: permission denied, open '/d/a.csv'")).toMatch(/may not read it: give it read access/);
    expect(withHint("EACCES: permission denied, scandir '/d/in'")).toMatch(/may not read it/);
  });

  it('a UTF-8 BOM and CRLF line endings: the header binds and every record loads', async () => {
    const file = join(dir, 'bom.csv');
    await writeFile(file, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from([HEAD, row('T1'), row('T2')].join('\r\n') + '\r\n')]));
    const r = await ingestRelation(engine, new LocalLake(join(dir, 'lake-bom')), { table: 'CUSTOMER_TRANSACTIONS', source: { file }, loadId: 'l', ingestDate: '2026-01-01', tmpDir: join(dir, 'tmp') });
    expect([r.bronzeRows, r.quarantineRows, r.missingColumns.includes('TRANSACTION_ID')]).toEqual([2, 0, false]);
  });

  it('odd values are quarantined as TYPE with their text, never rounded, cut or loaded as something else', async () => {
    const file = join(dir, 'odd.csv');
    const odd = {
      H1: { amount: '1e400' }, H2: { amount: 'NaN' }, H3: { amount: '99999999999999999999999' }, H4: { date: '0000-01-01 00:00:00' },
      H5: { points: '99999999999999999999' }, H7: { amount: 'Infinity' }, H11: { amount: '0x10' }, H12: { date: '2026-02-30 00:00:00' },
      H15: { points: '1.0000000000000000001' }, H16: { amount: '12.555' },
      // Past microseconds (Bronze's precision) a timestamp would be cut, not kept: TYPE, like a number past its scale.
      H17: { date: '2026-10-25 22:23:56.1234567' }, H18: { date: '2026-10-25T22:23:56.123456789+05:30' }, H19: { date: '2026-10-25 22:23:56.0000001Z' },
      // DuckDB's cast reads hex, binary and digit groups as numbers, and an exponent can hide digits past the scale.
      H20: { points: '0x10' }, H21: { points: '0b11' }, H22: { points: '1_000' }, H23: { amount: '1_000.5' }, H24: { amount: '1e-30' }, H25: { points: '15e-1' },
    };
    await writeFile(file, [HEAD, ...Object.entries(odd).map(([id, o]) => row(id, o)), row('OK1', { amount: '-0.0' }), row('OK2', { amount: '1.5e1', points: '3.0' }), row('OK3', { date: '2026-10-25T22:23:56.123456000Z' }), row('OK4', { amount: '1.555e1', points: '100e-2' })].join('\n') + '\n');
    const lake = new LocalLake(join(dir, 'lake-odd'));
    const r = await ingestRelation(engine, lake, { table: 'CUSTOMER_TRANSACTIONS', source: { file }, loadId: 'l', ingestDate: '2026-01-01', tmpDir: join(dir, 'tmp') });
    expect([r.bronzeRows, r.quarantineRows]).toEqual([4, Object.keys(odd).length]);
    const q = await engine.all<{ id: string; reasons: string[]; rec: string }>(
      `SELECT TRANSACTION_ID AS id, _reasons AS reasons, _source_record AS rec FROM read_parquet(${lit(await lake.localPath(r.outputs.find((o) => o.startsWith('quarantine/'))!))})`,
    );
    for (const x of q) {
      expect(x.reasons.every((c) => c.endsWith(':TYPE')), `${x.id} ${x.reasons}`).toBe(true);
      expect(x.rec).toBe(row(x.id, odd[x.id as keyof typeof odd]));
    }
    const b = await engine.all<{ id: string; amount: string; points: number; at: string }>(
      `SELECT TRANSACTION_ID AS id, CAST(TOTAL_AMOUNT AS VARCHAR) AS amount, LOYALTY_POINTS_EARNED AS points, CAST(TRANSACTION_DATE AS VARCHAR) AS at FROM read_parquet(${lit(await lake.localPath(r.outputs.find((o) => o.startsWith('bronze/'))!))}) ORDER BY 1`,
    );
    expect(b).toEqual([
      { id: 'OK1', amount: '0.00', points: 1, at: '2026-10-25 22:23:56' },
      { id: 'OK2', amount: '15.00', points: 3, at: '2026-10-25 22:23:56' },
      { id: 'OK3', amount: '10.00', points: 1, at: '2026-10-25 22:23:56.123456' },
      { id: 'OK4', amount: '15.55', points: 1, at: '2026-10-25 22:23:56' },
    ]);
  });

  it('paths with spaces, quotes, $ and non-ASCII: c360 ingest loads the file into that home', async () => {
    const odd = join(dir, `odd dir`, `ünï cödé`, `o'brien "q" $x`);
    await mkdir(odd, { recursive: true });
    const file = join(odd, 'CUSTOMER_TRANSACTIONS.csv');
    await writeFile(file, [HEAD, row('T1'), row('T2')].join('\n') + '\n');
    const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'c360.mjs'), 'ingest', '--table', 'CUSTOMER_TRANSACTIONS', '--file', file, '--home', join(odd, 'home')], {
      encoding: 'utf8',
      env: { ...process.env, C360_LAKE_URL: '' },
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('bronze 2, quarantine 0');
  }, 60_000);
});
