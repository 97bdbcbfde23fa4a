// Identity in the daily pipeline: the silver-identity job links only the customers staging changed into the identity
// graph kept in the lake. A bridging customer on a later day merges two people (a `merged` event in identity_changes
// and a redirect for the retired id, loaded into CUSTOMER_360.CUSTOMER_ID_REDIRECTS); the same day run again changes
// nothing; a full refresh keeps the ids.
import { cp, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { MasterPipeline } from '../pipelines/ir.ts';
import { Engine, lit, litList } from '../src/engine/duckdb.ts';
import { LocalLake } from '../src/lake/local-lake.ts';
import { parquetFiles } from '../src/lake/parquet.ts';
import { runPipeline } from '../src/orchestrator/local-runner.ts';
import { silentLogger } from '../src/runtime/logger.ts';
import type { RunManifest } from '../src/runtime/manifest.ts';
import { getDataset } from '../src/catalogue/index.ts';
import { GRAPH_STATE, readGraphState } from '../src/silver/identity-graph-lake.ts';
import { loadWarehouse } from '../src/warehouse/duckdb-loader.ts';
import { makeDailyDrops } from './fixtures/daily-lake.ts';
import { identityPipeline } from './fixtures/identity-pipelines.ts';
import { GOLD_ROOT } from '../src/gold/paths.ts';
import { getTable } from '../src/warehouse/model.ts';
import { withTempEngine } from './temp-engine.ts';

// Only the tables the drops hold: customers for the merge scenario; customers and sales for the profile comparison.
const BRONZE_SILVER = identityPipeline(['CUSTOMERS']);
const WITH_PROFILE = identityPipeline(['CUSTOMERS', 'CUSTOMER_TRANSACTIONS', 'CUSTOMER_TRANSACTION_ITEMS'], { profile: true });

let dir: string;
let engine: Engine;
withTempEngine('c360-idpipe-', (d, e) => ((dir = d), (engine = e)));

type Customer = [source: string, id: string, first: string, last: string, email: string | null, phone: string | null, dob: string | null, city: string | null];

/** A drop folder holding only CUSTOMERS.parquet. */
async function drop(name: string, rows: Customer[]): Promise<string> {
  const out = join(dir, 'drops', name);
  await mkdir(out, { recursive: true });
  const v = (x: string | null) => (x === null ? 'NULL' : lit(x));
  const values = rows.map((r) => `(${r.map(v).join(', ')}, '2026-03-01')`).join(',\n');
  await engine.run(`COPY (SELECT * FROM (VALUES ${values}) t(SOURCE_SYSTEM, CUSTOMER_ID, FIRST_NAME, LAST_NAME, EMAIL_ADDRESS, PHONE_NUMBER, DATE_OF_BIRTH, CITY, REGISTRATION_DATE))
    TO ${lit(join(out, 'CUSTOMERS.parquet'))} (FORMAT parquet)`);
  return out;
}

async function run(home: string, input: string | undefined, o: { fullRefresh?: boolean; pipeline?: MasterPipeline; asOf?: string } = {}): Promise<RunManifest> {
  const m = await runPipeline({
    home, lake: new LocalLake(join(home, 'lake')), log: silentLogger, pipeline: o.pipeline ?? BRONZE_SILVER, asOf: o.asOf,
    params: { input, fullRefresh: o.fullRefresh ? 'true' : 'false' },
  });
  const failed = m.jobs.find((j) => j.status === 'failed');
  expect(m.status, `${failed?.activity}: ${JSON.stringify(failed?.error)}`).toBe('succeeded');
  return m;
}

const identityJob = (m: RunManifest) => m.jobs.find((j) => j.activity === 'silver_identity')!;

async function rows(home: string, dataset: string): Promise<Record<string, unknown>[]> {
  const lake = new LocalLake(join(home, 'lake'));
  const files = await parquetFiles(lake, getDataset(dataset).path);
  if (files.length === 0) return [];
  return engine.all(`SELECT * FROM read_parquet(${litList(await Promise.all(files.map((f) => lake.localPath(f))))})`);
}

async function ids(home: string): Promise<Record<string, string>> {
  return Object.fromEntries((await rows(home, 'identity_crosswalk')).map((r) => [`${r.SOURCE_SYSTEM}/${r.CUSTOMER_ID}`, String(r.CUSTOMER360_ID)]));
}

// Namesakes 1 (e-mail) and 2 (phone) share nothing that identifies a person; 3-5 are one person; 6 joins 1 on day 1;
// 7 (day 2) has 1's e-mail and 2's phone: it bridges them.
const HISTORY: Customer[] = [
  ['CRM', '1', 'Robert', 'Smith', 'rob.smith@gmail.com', null, null, 'London'],
  ['POS', '2', 'Robert', 'Smith', null, '(415) 555-2671', null, null],
  ['CRM', '3', 'Alice', 'Jones', 'alice.jones@yahoo.com', '(212) 555-0134', '1990-02-03', 'Leeds'],
  ['ECOMMERCE', '4', 'Alice', 'Jones', 'alice.jones@yahoo.com', null, '1990-02-03', 'Leeds'],
  ['POS', '5', 'Alice', 'Jones', 'ajones@hotmail.com', '(212) 555-0134', '1990-02-03', 'Leeds'],
];
const DAY1: Customer[] = [['ECOMMERCE', '6', 'Rob', 'Smith', 'Rob.Smith+shop@gmail.com', null, null, 'London']];
const DAY2: Customer[] = [['MARKETING', '7', 'Robert', 'Smith', 'rob.smith@gmail.com', '415-555-2671', null, null]];

describe('identity in the daily pipeline', () => {
  it('links only the day\'s changed customers into the graph in the lake; a merge leaves a redirect and a merged event; a re-run changes nothing', async () => {
    const home = join(dir, 'lake1');
    const h = identityJob(await run(home, await drop('history', HISTORY)));
    expect(h.metrics.identity).toMatchObject({ mode: 'full', batch: 5 });
    const base = await ids(home);
    expect(base['CRM/1']).not.toBe(base['POS/2']);
    expect(new Set([base['CRM/3'], base['ECOMMERCE/4'], base['POS/5']]).size).toBe(1);
    const linkedAtFirst = await rows(home, 'identity_changes');
    expect(linkedAtFirst.map((r) => r.CHANGE_TYPE)).toEqual(['linked', 'linked', 'linked']);

    // Day 1: one new record joins person 1; only that record is linked.
    const d1 = identityJob(await run(home, await drop('day1', DAY1)));
    expect(d1.metrics.identityInput).toMatchObject({ mode: 'changes' });
    expect(d1.metrics.identity).toMatchObject({ mode: 'incremental', batch: 1, newRecords: 1, events: { linked: 1 } });
    const day1 = await ids(home);
    expect(day1['ECOMMERCE/6']).toBe(base['CRM/1']);
    for (const k of Object.keys(base)) expect(day1[k], k).toBe(base[k]);

    // Day 2: the bridge merges person 2 into person 1 (the larger one keeps its id). (The lake before it is kept
    // for the crash test.)
    await cp(home, join(dir, 'killed'), { recursive: true });
    const d2 = identityJob(await run(home, await drop('day2', DAY2)));
    expect(d2.metrics.identity).toMatchObject({ mode: 'incremental', batch: 1, events: { merged: 1 } });
    const day2 = await ids(home);
    const survivor = base['CRM/1']!;
    const retired = base['POS/2']!;
    expect(day2['POS/2']).toBe(survivor);
    expect(day2['MARKETING/7']).toBe(survivor);
    const merged = (await rows(home, 'identity_changes')).filter((r) => r.CHANGE_TYPE === 'merged');
    expect(merged).toHaveLength(1);
    expect(merged[0]).toMatchObject({ IDS_BEFORE: [survivor, retired], IDS_AFTER: [survivor], RECORDS: ['POS:2'] });
    expect(String(merged[0]!.REASON)).toMatch(/LINKED/);
    expect(JSON.parse(String(merged[0]!.LEDGER)).length).toBeGreaterThan(0);
    const redirects = await rows(home, 'customer_id_redirects');
    expect(redirects).toEqual([expect.objectContaining({ RETIRED_ID: retired, CUSTOMER360_ID: survivor, REASON: 'MERGED' })]);

    // The redirect reaches the warehouse table the serving API answers 308 from.
    const wh = await Engine.open({ path: join(home, 'warehouse.duckdb') });
    try {
      await loadWarehouse(wh, new LocalLake(join(home, 'lake')), { asOf: '2026-03-01', loadId: 'L1', tables: [getTable('CUSTOMER_360', 'CUSTOMER_ID_REDIRECTS')] });
      expect(await wh.all('SELECT RETIRED_ID, CUSTOMER360_ID FROM CUSTOMER_360.CUSTOMER_ID_REDIRECTS')).toEqual([{ RETIRED_ID: retired, CUSTOMER360_ID: survivor }]);
    } finally {
      wh.close();
    }

    // The same day again: nothing new is linked, no file of identity's changes.
    const lake = new LocalLake(join(home, 'lake'));
    const listing = async () => (await lake.list('silver/customer360/identity')).concat(await lake.list(getDataset('customer_id_redirects').path)).map((f) => `${f.path} ${f.size}`);
    const before = { files: await listing(), state: await readFile(join(home, 'lake', GRAPH_STATE), 'utf8') };
    const again = identityJob(await run(home, join(dir, 'drops', 'day2')));
    expect(again.metrics.identity).toMatchObject({ mode: 'unchanged', batch: 0 });
    expect(await listing()).toEqual(before.files);
    expect(await readFile(join(home, 'lake', GRAPH_STATE), 'utf8')).toBe(before.state);

    // Killed after uploading the new graph but before its state marker, then run again: the previous graph was still
    // the lake's, the same customers are linked again, and the lake ends as the uninterrupted run left it (one merged
    // event, not two; the same ids and redirect).
    const killed = join(dir, 'killed');
    const child = (fault?: string) =>
      spawnSync(process.execPath, [join(import.meta.dirname, 'fixtures', 'identity-run.mjs'), killed, join(dir, 'drops', 'day2')], {
        env: { ...process.env, ...(fault ? { C360_FAULT: fault } : {}) }, encoding: 'utf8',
      });
    expect(child('silver-identity:graph').signal).toBe('SIGKILL');
    const graphs = async () => (await new LocalLake(join(killed, 'lake')).list('silver/customer360/identity/graph')).map((f) => f.path).filter((p) => p.endsWith('.gz'));
    expect(await graphs()).toHaveLength(2); // the committed one and the crashed run's upload, which no marker names
    const r = child();
    expect(r.status, r.stderr).toBe(0);
    expect(await graphs()).toHaveLength(1);
    expect(await ids(killed)).toEqual(day2);
    const strip = (rs: Record<string, unknown>[]) => rs.map((x) => ({ ...x, EVENT_ID: undefined, RUN_ID: undefined, EVENT_AT: undefined, LEDGER: undefined, REASON: undefined }));
    expect(strip(await rows(killed, 'identity_changes'))).toEqual(strip(await rows(home, 'identity_changes')));
    expect((await rows(killed, 'customer_id_redirects')).map((x) => [x.RETIRED_ID, x.CUSTOMER360_ID])).toEqual([[retired, survivor]]);

    // A full refresh resolves everything again and keeps every id.
    const state = await readGraphState(lake);
    const full = identityJob(await run(home, undefined, { fullRefresh: true }));
    expect(full.metrics.identity).toMatchObject({ mode: 'full', batch: 7 });
    expect(await ids(home)).toEqual(day2);
    expect((await readGraphState(lake))!.seq).toBe(state!.seq + 1);
    expect(await rows(home, 'customer_id_redirects')).toEqual(redirects);

    // A lake from before the graph (only the id registry and retired ids): the first build inherits them, so the
    // merged-away id still redirects (a build from nothing would not know it was ever retired).
    await rm(join(home, 'lake', 'silver/customer360/identity/graph'), { recursive: true });
    const seeded = identityJob(await run(home, undefined));
    expect(seeded.inputs).toContain('silver/customer360/identity/id_registry/part-0.parquet');
    expect(await ids(home)).toEqual(day2);
    expect((await rows(home, 'customer_id_redirects')).map((x) => [x.RETIRED_ID, x.CUSTOMER360_ID])).toEqual([[retired, survivor]]);
  });
});

/** Persons as sorted lists of source records, and each source record's profile row with person ids replaced by a label. */
async function personsAndProfiles(home: string, asOf: string): Promise<{ persons: string[][]; profiles: Record<string, string> }> {
  const members = new Map<string, string[]>();
  for (const r of await rows(home, 'identity_crosswalk')) {
    const id = String(r.CUSTOMER360_ID);
    (members.get(id) ?? members.set(id, []).get(id)!).push(`${r.SOURCE_SYSTEM}|${r.CUSTOMER_ID}`);
  }
  const lake = new LocalLake(join(home, 'lake'));
  const files = (await lake.list(`${GOLD_ROOT}/customer_profile/as_of_date=${asOf}`)).map((f) => join(home, 'lake', f.path)).filter((f) => f.endsWith('.parquet'));
  const profiles: Record<string, string> = {};
  for (const p of await engine.all<Record<string, unknown>>(`SELECT * FROM read_parquet(${litList(files)})`)) {
    const records = (members.get(String(p.CUSTOMER360_ID)) ?? []).sort();
    const row = JSON.stringify({ ...p, CUSTOMER360_ID: `person:${records[0]}` });
    for (const r of records) profiles[r] = row;
  }
  return { persons: [...members.values()].map((m) => m.sort()).sort((a, b) => (a[0]! < b[0]! ? -1 : 1)), profiles };
}

describe('daily identity equals a full refresh', () => {
  it('history then each day, one run at a time, gives the persons and per-customer profile totals of one full refresh', async () => {
    // The sample's customers and sales only: what identity and the profile's totals read.
    const drops = await makeDailyDrops(join(dir, 'sample'), { dailyDrops: 2 });
    const keep = new Set(['CUSTOMERS.parquet', 'CUSTOMER_TRANSACTIONS.parquet', 'CUSTOMER_TRANSACTION_ITEMS.parquet']);
    for (const d of [drops.history, ...drops.days.map((x) => x.dir)]) for (const f of await readdir(d)) if (!keep.has(f)) await rm(join(d, f));
    const asOf = drops.days.at(-1)!.date;
    const inc = join(dir, 'daily');
    const first = identityJob(await run(inc, drops.history, { pipeline: WITH_PROFILE, asOf }));
    const total = (first.metrics.identity as { graphRecords: number }).graphRecords;
    for (const day of drops.days) {
      const j = identityJob(await run(inc, day.dir, { pipeline: WITH_PROFILE, asOf }));
      // Only the day's new and corrected customers are linked.
      expect(j.metrics.identityInput).toMatchObject({ mode: 'changes' });
      expect(j.metrics.identity).toMatchObject({ mode: 'incremental' });
      expect((j.metrics.identity as { batch: number }).batch).toBeLessThan(total / 4);
    }
    const daily = await personsAndProfiles(inc, asOf);

    const full = join(dir, 'full');
    await cp(join(inc, 'lake', 'bronze'), join(full, 'lake', 'bronze'), { recursive: true });
    expect(identityJob(await run(full, undefined, { pipeline: WITH_PROFILE, asOf, fullRefresh: true })).metrics.identity).toMatchObject({ mode: 'full' });
    const reference = await personsAndProfiles(full, asOf);

    expect(daily.persons.length).toBeGreaterThan(100);
    expect(daily.persons.some((p) => p.length > 1)).toBe(true);
    expect(daily.persons).toEqual(reference.persons);
    expect(Object.keys(daily.profiles).length).toBeGreaterThan(100);
    expect(daily.profiles).toEqual(reference.profiles);
  });
});
