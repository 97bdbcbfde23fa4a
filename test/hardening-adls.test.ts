// Issue 19 on an ADLS lake (Azurite): drop and lake folder names with spaces and non-ASCII characters, and writer
// leases whose scopes overlap (a `c360 run` holds `pipeline`, a `c360 ingest --table X` in another home holds
// `bronze-ingest.X`: both held at once before, and both wrote Bronze X).
import { hostname, tmpdir } from 'node:os';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getContract } from '../schemas/index.ts';
import { findDrops } from '../src/bronze/drops.ts';
import { ingestRelation } from '../src/bronze/ingest.ts';
import { Engine, lit } from '../src/engine/duckdb.ts';
import { overlaps } from '../src/lake/adls-lake.ts';
import { openLake, type Lake } from '../src/lake/index.ts';
import { TransientError } from '../src/runtime/errors.ts';
import { startAzurite, type Azurite } from './fixtures/azurite.ts';

let azurite: Azurite;
let home: string;
beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'c360-adls-hard-'));
  azurite = await startAzurite();
});
afterAll(async () => {
  azurite?.stop();
  await rm(home, { recursive: true, force: true });
});

const HEAD = 'TRANSACTION_ID,CUSTOMER_ID,CHANNEL,TRANSACTION_DATE,TRANSACTION_TYPE,TOTAL_AMOUNT,CURRENCY_CODE,TRANSACTION_STATUS';
const holder = (command: string) => ({ pid: process.pid, host: hostname(), command, since: new Date().toISOString() });

describe('ADLS lake on Azurite, hostile names and overlapping writers', () => {
  it('a lake folder and drop names with spaces, quotes and non-ASCII: found, read, ingested and listed under their own names', async () => {
    const folder = "my lake/ü 名前 o'brien";
    const lake = await openLake(home, `http://127.0.0.1:${azurite.port}/devstoreaccount1/names/${encodeURIComponent('my lake')}/${encodeURIComponent("ü 名前 o'brien")}`);
    expect(lake.location).toContain(encodeURIComponent('my lake'));
    const name = "landing/CUSTOMER_TRANSACTIONS/drop ü 名前 #1 o'brien %20.csv";
    const local = join(home, 'drop.csv');
    await writeFile(local, [HEAD, 'T1,C1,POS,2026-01-01 10:00:00,PURCHASE,10.00,USD,COMPLETED', 'T2,,POS,2026-01-01 10:00:00,PURCHASE,10.00,USD,COMPLETED'].join('\n') + '\n');
    await lake.putFile(local, name);
    const drops = await findDrops('landing', getContract('CUSTOMER_TRANSACTIONS'), lake);
    expect(drops).toEqual([{ location: name, inLake: true, format: 'csv' }]);
    const engine = await Engine.open();
    try {
      const file = await lake.localPath(name);
      const sourceFile = `${lake.location}/${name}`;
      const r = await ingestRelation(engine, lake, { table: 'CUSTOMER_TRANSACTIONS', source: { file, format: 'csv' }, sourceFile, loadId: 'l', ingestDate: '2026-01-01', tmpDir: join(home, 'tmp') });
      expect([r.bronzeRows, r.quarantineRows]).toEqual([1, 1]);
      const q = r.outputs.find((o) => o.startsWith('quarantine/'))!;
      const [row] = await engine.all<{ f: string; rec: string }>(`SELECT _source_file AS f, _source_record AS rec FROM read_parquet(${lit(await lake.localPath(q))})`);
      expect(row).toEqual({ f: sourceFile, rec: 'T2,,POS,2026-01-01 10:00:00,PURCHASE,10.00,USD,COMPLETED' });
      // Listed under the lake's own folder, names as written (no double encoding).
      const listed = (await lake.list('')).map((f) => f.path);
      expect(listed).toContain(name);
      expect(listed.every((p) => !p.includes(folder) && !p.includes('%C3'))).toBe(true);
    } finally {
      engine.close();
    }
  }, 60_000);

  it('the pipeline and a table job exclude each other across homes; two tables, or a stream beside the pipeline, do not', async () => {
    expect([overlaps('pipeline', 'bronze-ingest.CUSTOMERS'), overlaps('bronze-ingest.CUSTOMERS', 'pipeline'), overlaps('bronze-ingest.A', 'bronze-ingest.B'), overlaps('pipeline', 'bronze-stream.hub')]).toEqual([true, true, false, false]);
    const url = `http://127.0.0.1:${azurite.port}/devstoreaccount1/leases/c360`;
    const a: Lake = await openLake(join(home, 'home-a'), url);
    const b: Lake = await openLake(join(home, 'home-b'), url);
    const refused = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as Error);

    const run = await a.lock!('pipeline', holder('c360 run --home A'), 0);
    const e1 = await refused(b.lock!('bronze-ingest.CUSTOMERS', holder('c360 ingest --table CUSTOMERS --home B'), 0));
    expect(e1).toBeInstanceOf(TransientError);
    expect(e1!.message).toMatch(/scope 'bronze-ingest\.CUSTOMERS' overlaps scope 'pipeline', which is in use by pid \d+ .*c360 run --home A/);
    const stream = await b.lock!('bronze-stream.hub', holder('c360 stream --home B'), 0);
    await stream();
    await run();

    const ingest = await b.lock!('bronze-ingest.CUSTOMERS', holder('c360 ingest --table CUSTOMERS --home B'), 0);
    const other = await a.lock!('bronze-ingest.CUSTOMER_TRANSACTIONS', holder('c360 ingest --table CUSTOMER_TRANSACTIONS --home A'), 0);
    const e2 = await refused(a.lock!('pipeline', holder('c360 run --home A'), 0));
    expect(e2!.message).toMatch(/scope 'pipeline' overlaps scope 'bronze-ingest\.CUSTOMER(_TRANSACTIONS|S)', which is in use/);
    await other();
    // A waiting run gets the lake once the ingest is done.
    const waiting = a.lock!('pipeline', holder('c360 run --home A'), 20_000);
    await new Promise((r) => setTimeout(r, 300));
    await ingest();
    const got = await waiting;
    await got();
  }, 60_000);
});
