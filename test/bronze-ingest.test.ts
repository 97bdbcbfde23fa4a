// Idempotent re-ingest, conservation, the bronze-ingest job over a folder of drops, the pipeline activity and
// `c360 ingest` end to end through the CLI.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Engine, lit } from '../src/engine/duckdb.ts';
import { LocalLake } from '../src/lake/local-lake.ts';
import { ingestRelation } from '../src/bronze/ingest.ts';
import { runJob } from '../src/orchestrator/local-runner.ts';
import { createLogger } from '../src/runtime/logger.ts';
import { bronzeIngestJob } from '../jobs/bronze-ingest.ts';
import { bronzeIngestion } from '../pipelines/bronze.ts';
import { TABLE_NAMES } from '../schemas/index.ts';
import { csv, ingestText, tempDir } from './bronze-helpers.ts';

let engine: Engine;
beforeAll(async () => {
  engine = await Engine.open();
});
afterAll(() => engine.close());

const TX = ['TRANSACTION_ID', 'CUSTOMER_ID', 'TRANSACTION_DATE', 'TOTAL_AMOUNT'];
const txRow = (id: string, amount = '10.00') => [id, 'C1', '2026-01-05T10:00:00Z', amount];

async function lakeRows(lake: LocalLake, prefix: string): Promise<number> {
  const files = (await lake.list(prefix)).filter((f) => f.path.endsWith('.parquet'));
  if (files.length === 0) return 0;
  return Number(await engine.scalar(`SELECT count(*) FROM read_parquet([${(await Promise.all(files.map((f) => lake.localPath(f.path)))).map(lit).join(', ')}], union_by_name = true)`));
}

describe('dedupe and idempotency', () => {
  it('keeps exact duplicates once within a file and conserves distinct = bronze + quarantine', async () => {
    const rows = [txRow('T1'), txRow('T2'), txRow('T1'), txRow('T3', '-1'), txRow('T3', '-1'), txRow('T2', '11.00')];
    const { result } = await ingestText(engine, 'CUSTOMER_TRANSACTIONS', 'tx.csv', csv(TX, rows));
    expect(result).toMatchObject({ inputRows: 6, distinctRows: 4, alreadyIngested: 0, bronzeRows: 3, quarantineRows: 1, duplicatesDropped: 2 });
    expect(result.distinctRows).toBe(result.bronzeRows + result.quarantineRows);
  });

  it('re-ingesting the same file adds nothing; an overlapping file adds only its new rows', async () => {
    const first = await ingestText(engine, 'CUSTOMER_TRANSACTIONS', 'a.csv', csv(TX, [txRow('T1'), txRow('T2'), txRow('T3', 'x')]));
    const { lake, dir } = first;
    expect(first.result.outputs).toHaveLength(2);
    const again = await ingestText(engine, 'CUSTOMER_TRANSACTIONS', 'a.csv', csv(TX, [txRow('T1'), txRow('T2'), txRow('T3', 'x')]), { lake, dir, loadId: 'L2' });
    expect(again.result).toMatchObject({ inputRows: 3, distinctRows: 3, alreadyIngested: 3, bronzeRows: 0, quarantineRows: 0, outputs: [] });
    const overlap = await ingestText(engine, 'CUSTOMER_TRANSACTIONS', 'b.csv', csv(TX, [txRow('T2'), txRow('T3', 'x'), txRow('T4'), txRow('T5', 'y')]), { lake, dir, loadId: 'L3' });
    expect(overlap.result).toMatchObject({ inputRows: 4, alreadyIngested: 2, bronzeRows: 1, quarantineRows: 1 });
    expect(overlap.bronze.map((r) => r.TRANSACTION_ID)).toEqual(['T4']);
    expect(overlap.quarantine.map((r) => [r.TRANSACTION_ID, r._source_position])).toEqual([['T5', '4']]);
    expect(await lakeRows(lake, 'bronze/customer360/transactions')).toBe(3);
    expect(await lakeRows(lake, 'quarantine/customer360/transactions')).toBe(2);
  });

  it('dedupes against Bronze and quarantine of any earlier ingest date', async () => {
    const first = await ingestText(engine, 'CUSTOMER_TRANSACTIONS', 'a.csv', csv(TX, [txRow('T1'), txRow('T2', 'bad')]));
    const again = await ingestText(engine, 'CUSTOMER_TRANSACTIONS', 'a.csv', csv(TX, [txRow('T1'), txRow('T2', 'bad'), txRow('T9')]), { lake: first.lake, dir: first.dir, loadId: 'L2', ingestDate: '2026-01-05' });
    expect(again.result).toMatchObject({ alreadyIngested: 2, bronzeRows: 1, quarantineRows: 0 });
    expect(again.result.outputs).toEqual([expect.stringMatching(/^bronze\/customer360\/transactions\/ingest_date=2026-01-05\//)]);
  });

  it('takes a deterministic output name and never overwrites a committed file', async () => {
    const first = await ingestText(engine, 'CUSTOMER_TRANSACTIONS', 'a.csv', csv(TX, [txRow('T1')]), { outputName: 'batch-0001' });
    expect(first.result.outputs).toEqual(['bronze/customer360/transactions/ingest_date=2026-01-01/batch-0001.parquet']);
    await expect(ingestText(engine, 'CUSTOMER_TRANSACTIONS', 'b.csv', csv(TX, [txRow('T2')]), { lake: first.lake, dir: first.dir, outputName: 'batch-0001' }))
      .rejects.toThrow(/Refusing to overwrite bronze\/customer360\/transactions\/ingest_date=2026-01-01\/batch-0001\.parquet/);
  });

  it('ingests a query with a position column (the streaming path)', async () => {
    const lake = new LocalLake(join(await tempDir(), 'lake'));
    const sql = `SELECT * FROM (VALUES ('T1', 'C1', '2026-01-05', 'p0/o1'), ('T2', '', '2026-01-05', 'p0/o2')) t(TRANSACTION_ID, CUSTOMER_ID, TRANSACTION_DATE, pos)`;
    const result = await ingestRelation(engine, lake, { table: 'CUSTOMER_TRANSACTIONS', source: { sql, positionColumn: 'pos' }, loadId: 'L', ingestDate: '2026-01-06', sourceFile: 'eventhubs:tx/0' });
    expect(result).toMatchObject({ bronzeRows: 1, quarantineRows: 1, extraColumns: [] });
    const q = await engine.all(`SELECT * FROM read_parquet(${lit(await lake.localPath(result.outputs[1]!))})`);
    expect(q[0]).toMatchObject({ TRANSACTION_ID: 'T2', _source_position: 'p0/o2', _source_file: 'eventhubs:tx/0', _reasons: ['CUSTOMER_ID:REQUIRED'] });
  });
});

describe('bronze-ingest job', () => {
  const base = async () => {
    const home = await tempDir('c360-bronze-job-');
    return { home, lake: new LocalLake(join(home, 'lake')), log: createLogger({ silent: true }), runId: 'R1', loadId: 'R1', runDate: '2026-01-02' };
  };
  const meta = { activity: 'ingest_drops', stage: 'bronze_ingestion', retry: 0, retryIntervalSeconds: 0, timeoutMinutes: 5 };

  it('ingests <TABLE>.csv and <TABLE>/*.ndjson drops and reports conservation per table', async () => {
    const b = await base();
    const input = join(b.home, 'drops');
    await mkdir(join(input, 'CUSTOMERS'), { recursive: true });
    await writeFile(join(input, 'CUSTOMERS.csv'), csv(['CUSTOMER_ID', 'EMAIL_ADDRESS', 'SOURCE_SYSTEM'], [['C1', 'a@b.com', 'CRM'], ['C2', 'bad', 'POS'], ['C1', 'a@b.com', 'CRM']]));
    await writeFile(join(input, 'CUSTOMERS', 'part-2.ndjson'), `${JSON.stringify({ CUSTOMER_ID: 'C3' })}\n${JSON.stringify({ CUSTOMER_ID: 'C1', EMAIL_ADDRESS: 'a@b.com', SOURCE_SYSTEM: 'CRM' })}\n`);
    await writeFile(join(input, 'CUSTOMERS_OLD.csv'), 'CUSTOMER_ID\nX\n');
    const run = await runJob(bronzeIngestJob, b, { table: 'CUSTOMERS', input }, meta);
    expect(run.status).toBe('succeeded');
    expect(run.inputs).toEqual([join(input, 'CUSTOMERS.csv'), join(input, 'CUSTOMERS', 'part-2.ndjson')]);
    expect(run.rowCounts).toMatchObject({ 'CUSTOMERS.input': 5, 'CUSTOMERS.distinct': 4, 'CUSTOMERS.alreadyIngested': 1, 'CUSTOMERS.duplicatesDropped': 2, 'CUSTOMERS.bronze': 2, 'CUSTOMERS.quarantine': 1 });
    expect(run.metrics['CUSTOMERS.conserved']).toBe(true);
    expect(run.metrics['CUSTOMERS.reasons']).toEqual({ 'EMAIL_ADDRESS:FORMAT': 1 });
    const again = await runJob(bronzeIngestJob, b, { table: 'CUSTOMERS', input }, meta);
    expect(again.rowCounts).toMatchObject({ 'CUSTOMERS.bronze': 0, 'CUSTOMERS.quarantine': 0, 'CUSTOMERS.alreadyIngested': 4 });
    expect(again.outputs).toEqual([]);
  });

  it('reads drops from a lake prefix, skips streaming tables when asked, and says when there is no drop', async () => {
    const b = await base();
    await b.lake.write('landing/customer360/CUSTOMER_TRANSACTIONS.csv', csv(TX, [txRow('T1')]));
    const fromLake = await runJob(bronzeIngestJob, b, { table: 'CUSTOMER_TRANSACTIONS', input: 'landing/customer360' }, meta);
    expect(fromLake.rowCounts['CUSTOMER_TRANSACTIONS.bronze']).toBe(1);
    const streamed = await runJob(bronzeIngestJob, b, { table: 'CUSTOMER_TRANSACTIONS', input: 'landing/customer360', stream: 'true' }, meta);
    expect(streamed.metrics['CUSTOMER_TRANSACTIONS.skipped']).toMatch(/Event Hubs/);
    const none = await runJob(bronzeIngestJob, b, { table: 'MARKETING_CAMPAIGNS', input: 'landing/customer360' }, meta);
    expect(none.status).toBe('succeeded');
    expect(none.metrics['MARKETING_CAMPAIGNS.skipped']).toBe('no drop in landing/customer360');
    const unknown = await runJob(bronzeIngestJob, b, { table: 'NOPE', input: 'landing/customer360' }, meta);
    expect(unknown.status).toBe('failed');
    expect(unknown.error?.message).toMatch(/Valid tables: CUSTOMERS/);
  });

  it('is one forEach activity over all 12 tables in the pipeline definition', () => {
    const [activity] = bronzeIngestion.activities;
    expect(activity).toMatchObject({ name: 'ingest_drops', when: 'input', params: { table: '{{item}}', input: '{{input}}', stream: '{{stream}}' } });
    expect(activity!.job.name).toBe('bronze-ingest');
    expect(activity!.forEach!.items).toEqual(TABLE_NAMES);
    expect(TABLE_NAMES).toHaveLength(12);
  });
});

describe('c360 ingest (CLI end to end)', () => {
  const exec = promisify(execFile);
  const cli = (args: string[]) => exec(process.execPath, ['bin/c360.mjs', ...args], { cwd: join(import.meta.dirname, '..'), env: { ...process.env, C360_LAKE_URL: '' } });

  it('ingests a file, writes a manifest, prints counts, and adds nothing the second time', async () => {
    const home = await tempDir('c360-bronze-cli-');
    const file = join(home, 'CUSTOMERS.csv');
    await writeFile(file, csv(['CUSTOMER_ID', 'LOYALTY_TIER'], [['C1', 'gold'], ['C2', 'tin'], ['C1', 'gold']]));
    const first = await cli(['ingest', '--table', 'customers', '--file', file, '--home', home, '--run-date', '2026-02-03', '--json']);
    expect(first.stdout).toContain('CUSTOMERS: input 3, distinct 2, already ingested 0, duplicates dropped 1, bronze 1, quarantine 1');
    expect(first.stdout).toMatch(/wrote bronze\/customer360\/customers\/ingest_date=2026-02-03\/.+\.parquet/);
    const manifestPath = /manifest (.+\.json)/.exec(first.stdout)![1]!;
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8'));
    expect(manifest).toMatchObject({ status: 'succeeded', pipeline: 'ingest', runDate: '2026-02-03' });
    expect(manifest.jobs[0].rowCounts).toMatchObject({ 'CUSTOMERS.distinct': 2, 'CUSTOMERS.bronze': 1, 'CUSTOMERS.quarantine': 1 });
    const second = await cli(['ingest', '--table', 'CUSTOMERS', '--file', file, '--home', home, '--run-date', '2026-02-03']);
    expect(second.stdout).toContain('bronze 0, quarantine 0');
    const bad = await cli(['ingest', '--table', 'CUSTOMERS', '--file', join(home, 'nope.csv'), '--home', home]).catch((e) => e);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`Cannot read csv drop '${join(home, 'nope.csv')}': no such file`);
  });
});
