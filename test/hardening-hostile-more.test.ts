// Issue 19, the second hostile pass: a record longer than the CSV sniffer's line limit (2 MB), drops behind symbolic links, an
// NDJSON object naming a key twice, and two homes writing to one lake folder. Each lost or refused data before: the
// long line failed the whole file, linked drops were skipped as "no drop", the repeated key's second value was dropped
// silently, and both homes' ingests committed the same records.
import { spawnSync } from 'node:child_process';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getContract } from '../schemas/index.ts';
import { findDrops } from '../src/bronze/drops.ts';
import { ingestRelation } from '../src/bronze/ingest.ts';
import { Engine, lit } from '../src/engine/duckdb.ts';
import { LocalLake } from '../src/lake/local-lake.ts';
import { withTempEngine } from './temp-engine.ts';

const ROOT = join(import.meta.dirname, '..');
let dir: string;
let engine: Engine;
withTempEngine('c360-hostile2-', (d, e) => ((dir = d), (engine = e)));

const HEAD = 'TRANSACTION_ID,CUSTOMER_ID,CHANNEL,TRANSACTION_DATE,TRANSACTION_TYPE,TOTAL_AMOUNT,CURRENCY_CODE,TRANSACTION_STATUS,LOYALTY_POINTS_EARNED';
const row = (id: string, customer = 'C1') => `${id},${customer},POS,2026-10-25 22:23:56,PURCHASE,10.00,USD,COMPLETED,1`;
const json = (id: string, extra = '') =>
  `{"TRANSACTION_ID":"${id}","CUSTOMER_ID":"C1"${extra},"CHANNEL":"POS","TRANSACTION_DATE":"2026-10-25 22:23:56","TRANSACTION_TYPE":"PURCHASE","TOTAL_AMOUNT":"10.00","CURRENCY_CODE":"USD","TRANSACTION_STATUS":"COMPLETED"}`;
let n = 0;
async function ingest(file: string) {
  const lake = new LocalLake(join(dir, `lake-${++n}`));
  const r = await ingestRelation(engine, lake, { table: 'CUSTOMER_TRANSACTIONS', source: { file }, loadId: 'l', ingestDate: '2026-01-01', tmpDir: join(dir, 'tmp') });
  const q = r.outputs.find((o) => o.startsWith('quarantine/'));
  const rows = q
    ? await engine.all<{ id: string | null; reasons: string[]; rec: string; err: string | null }>(
        `SELECT TRANSACTION_ID AS id, _reasons AS reasons, _source_record AS rec, _source_error AS err FROM read_parquet(${lit(await lake.localPath(q))})`,
      )
    : [];
  return { r, q: rows };
}

describe('hostile input, second pass', () => {
  it('a CSV record longer than the sniffer\'s line limit (2 MB) is read as a record, quarantined alone with its text; the file loads', async () => {
    const file = join(dir, 'long.csv');
    const long = row('T2', 'x'.repeat(2200 * 1024));
    await writeFile(file, [HEAD, row('T1'), long, row('T3')].join('\n') + '\n');
    const { r, q } = await ingest(file);
    expect([r.bronzeRows, r.quarantineRows]).toEqual([2, 1]);
    expect(q.map((x) => [x.id, x.reasons, x.rec === long])).toEqual([['T2', ['CUSTOMER_ID:TOO_LONG'], true]]);
  });

  it('an NDJSON object naming a key twice is quarantined alone (no value of it silently dropped); the others load', async () => {
    const file = join(dir, 'dup.ndjson');
    const dup = json('T2', ',"CUSTOMER_ID":"C2"');
    await writeFile(file, [json('T1'), dup, json('T3')].join('\n') + '\n');
    const { r, q } = await ingest(file);
    expect([r.bronzeRows, r.quarantineRows]).toEqual([2, 1]);
    expect(q.map((x) => [x.reasons, x.rec, x.err])).toEqual([[['_RECORD:MALFORMED'], dup, expect.stringMatching(/^DUPLICATE KEY/)]]);
  });

  it('drops behind symbolic links (a linked file, a linked table folder, a linked file inside it) are found', async () => {
    const real = join(dir, 'real');
    await mkdir(join(real, 'folder'), { recursive: true });
    await writeFile(join(real, 'a.csv'), [HEAD, row('T1')].join('\n') + '\n');
    await writeFile(join(real, 'folder', 'b.csv'), [HEAD, row('T2')].join('\n') + '\n');
    await writeFile(join(real, 'c.csv'), [HEAD, row('T3')].join('\n') + '\n');
    const input = join(dir, 'input');
    await mkdir(input, { recursive: true });
    await symlink(join(real, 'a.csv'), join(input, 'CUSTOMER_TRANSACTIONS.csv'));
    await symlink(join(real, 'folder'), join(input, 'CUSTOMER_TRANSACTIONS'));
    await symlink(join(real, 'c.csv'), join(real, 'folder', 'linked.csv'));
    const drops = await findDrops(input, getContract('CUSTOMER_TRANSACTIONS'), new LocalLake(join(dir, 'lake-links')));
    expect(drops.map((d) => d.location.slice(input.length + 1))).toEqual(['CUSTOMER_TRANSACTIONS.csv', 'CUSTOMER_TRANSACTIONS/b.csv', 'CUSTOMER_TRANSACTIONS/linked.csv']);
  });

  it('two homes sharing one lake folder: the second writer is refused (exit 75, naming the holder) while the first writes', async () => {
    const lakeDir = join(dir, 'shared-lake');
    const lake = new LocalLake(lakeDir);
    const release = await lake.lock('pipeline', { pid: process.pid, host: hostname(), command: 'c360 run --home A', since: new Date().toISOString() }, 0);
    const file = join(dir, 'CUSTOMER_TRANSACTIONS.csv');
    await writeFile(file, [HEAD, row('T1')].join('\n') + '\n');
    const c360 = () =>
      spawnSync(process.execPath, [join(ROOT, 'bin', 'c360.mjs'), 'ingest', '--table', 'CUSTOMER_TRANSACTIONS', '--file', file, '--home', join(dir, 'home-b'), '--lake', lakeDir], {
        encoding: 'utf8',
        env: { ...process.env, C360_LAKE_URL: '', C360_LOCK_WAIT_SECONDS: '0' },
      });
    try {
      const refused = c360();
      expect(refused.status).toBe(75);
      expect(refused.stderr).toMatch(new RegExp(`Lake ${lakeDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is in use by pid ${process.pid} .*c360 run --home A`));
      expect((await lake.list('bronze')).length).toBe(0);
    } finally {
      await release();
    }
    const ok = c360();
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain('bronze 1, quarantine 0');
    // The lock file is not a lake file.
    expect((await lake.list('')).map((f) => f.path).some((p) => p.includes('lock'))).toBe(false);
  }, 60_000);
});
