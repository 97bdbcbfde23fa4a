// The ADLS Gen2 lake through the Blob API, against Azurite started on a free port: the Lake contract (atomic
// writes, folder listing, temp files hidden, localPath cache, delete), and streaming Bronze writing through it.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, litList } from '../src/engine/duckdb.ts';
import { openLake, type Lake } from '../src/lake/index.ts';
import { parseAdlsSpec } from '../src/lake/adls-lake.ts';
import { createLogger } from '../src/runtime/logger.ts';
import { producerFor } from '../src/streaming/connect.ts';
import { runStream } from '../src/streaming/consumer.ts';
import { startAzurite, type Azurite } from './fixtures/azurite.ts';
import { writeBehavioralDrop } from './fixtures/behavioral-drop.ts';
import { startHub } from '../src/streaming/hub/local-hub.ts';
import { replayDrop } from '../src/streaming/replay.ts';

let azurite: Azurite;
let port: number;
let home: string;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'c360-adls-'));
  azurite = await startAzurite();
  port = azurite.port;
});

afterAll(async () => {
  azurite?.stop();
  await rm(home, { recursive: true, force: true });
});

const lakeUrl = (container: string, folder = 'c360') => `http://127.0.0.1:${port}/devstoreaccount1/${container}/${folder}`;

describe('parseAdlsSpec', () => {
  it('reads abfss, https dfs/blob and emulator URLs', () => {
    expect(parseAdlsSpec('abfss://lake@acct.dfs.core.windows.net/c360')).toMatchObject({ endpoint: 'https://acct.blob.core.windows.net', account: 'acct', container: 'lake', prefix: 'c360' });
    expect(parseAdlsSpec('https://acct.dfs.core.windows.net/lake/a/b/')).toMatchObject({ endpoint: 'https://acct.blob.core.windows.net', container: 'lake', prefix: 'a/b', location: 'abfss://lake@acct.dfs.core.windows.net/a/b' });
    expect(parseAdlsSpec('https://acct.blob.core.windows.net/lake')).toMatchObject({ container: 'lake', prefix: '' });
    expect(parseAdlsSpec('http://127.0.0.1:10000/devstoreaccount1/lake/x')).toMatchObject({ endpoint: 'http://127.0.0.1:10000/devstoreaccount1', account: 'devstoreaccount1', container: 'lake', prefix: 'x' });
    expect(() => parseAdlsSpec('https://acct.dfs.core.windows.net/')).toThrow(/names no container/);
  });
});

describe('ADLS lake on Azurite', () => {
  it('keeps the Lake contract', async () => {
    const lake = await openLake(home, lakeUrl('contract'));
    expect(lake.location).toBe(lakeUrl('contract'));
    await lake.write('bronze/customer360/customers/ingest_date=2026-01-01/a.json', '{"a":1}');
    await lake.write('bronze/customer360/customersx/b.json', 'x');
    await lake.write('bronze/customer360/customers/ingest_date=2026-01-01/.tmp-123-c.json', 'partial');
    const tmp = join(home, 'put.bin');
    await writeFile(tmp, Buffer.alloc(9 * 1024 * 1024, 7)); // more than one block
    await lake.putFile(tmp, 'bronze/customer360/customers/ingest_date=2026-01-02/big.bin');
    await expect(readFile(tmp)).rejects.toThrow(); // moved, as on a local lake

    const listed = await lake.list('bronze/customer360/customers');
    expect(listed).toEqual([
      { path: 'bronze/customer360/customers/ingest_date=2026-01-01/a.json', size: 7 },
      { path: 'bronze/customer360/customers/ingest_date=2026-01-02/big.bin', size: 9 * 1024 * 1024 },
    ]);
    expect((await lake.read('bronze/customer360/customers/ingest_date=2026-01-01/a.json')).toString()).toBe('{"a":1}');
    expect(await lake.exists('bronze/customer360/customers')).toBe(true);
    expect(await lake.exists('bronze/customer360/nothing')).toBe(false);
    expect((await lake.list('')).map((f) => f.path)).toContain('bronze/customer360/customersx/b.json');

    await lake.write('bronze/customer360/customers/ingest_date=2026-01-01/a.json', '{"a":2}');
    const local = await lake.localPath('bronze/customer360/customers/ingest_date=2026-01-01/a.json');
    expect(await readFile(local, 'utf8')).toBe('{"a":2}');
    await lake.write('bronze/customer360/customers/ingest_date=2026-01-01/a.json', '{"a":3}');
    expect(await readFile(await lake.localPath('bronze/customer360/customers/ingest_date=2026-01-01/a.json'), 'utf8')).toBe('{"a":3}');

    await lake.delete('bronze/customer360/customers');
    expect(await lake.list('bronze/customer360/customers')).toEqual([]);
    expect(await lake.exists('bronze/customer360/customersx/b.json')).toBe(true);
  });

  it('receives streaming Bronze through the same commit protocol', async () => {
    const hub = await startHub({ port: 0 });
    try {
      const drop = join(home, 'events.parquet');
      await writeBehavioralDrop(drop, { rows: 300, invalidEvery: 30 });
      const target = { hub: 'adls', connectionString: hub.connectionString };
      const producer = await producerFor(target);
      await replayDrop(producer, 'CUSTOMER_BEHAVIORAL_EVENTS', drop);
      await producer.close();
      const lake: Lake = await openLake(join(home, 'h'), lakeUrl('streaming'));
      const opts = { target, lake, loadId: 'adls-1', log: createLogger({ silent: true }), openEngine: () => Engine.open(), tmpDir: join(home, 'tmp'), untilIdleSeconds: 0.5, maxRows: 100 };
      const r = await runStream(opts);
      expect(r.rowCounts).toMatchObject({ 'CUSTOMER_BEHAVIORAL_EVENTS.bronze': 290, 'CUSTOMER_BEHAVIORAL_EVENTS.quarantine': 10 });
      const listed = await lake.list('bronze/customer360/behavioral');
      // Beside the data files: the table's Bronze state (dedupe index, compaction), committed after them.
      expect(listed.some((f) => f.path === 'bronze/customer360/behavioral/_state.json')).toBe(true);
      const files = listed.filter((f) => f.path.endsWith('.parquet'));
      expect(files.length).toBeGreaterThan(0);
      expect(files.every((f) => /^bronze\/customer360\/behavioral\/ingest_date=\d{4}-\d{2}-\d{2}\/stream-adls-p\d-\d{12}-\d{12}-\w+\.parquet$/.test(f.path))).toBe(true);
      expect(await lake.exists('_checkpoints/eventhubs/adls/_Default/partition-0.json')).toBe(true);
      const locals = await Promise.all(files.map((f) => lake.localPath(f.path)));
      const e = await Engine.open();
      try {
        const n = await e.scalar(`SELECT count(DISTINCT EVENT_ID)::INTEGER FROM read_parquet(${litList(locals)})`);
        expect(n).toBe(290);
      } finally {
        e.close();
      }
      // Resuming from the checkpoints in the container: nothing new.
      const again = await runStream({ ...opts, loadId: 'adls-2', untilIdleSeconds: 0.5 });
      expect(again.events).toBe(0);
    } finally {
      await hub.close();
    }
  });
});
