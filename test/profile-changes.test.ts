// The profile change feed: created/updated/deleted against the last published state, old/new values for non-PII and
// checksums for PII, nothing emitted twice or skipped across repeated runs and runs that crash at each step of the
// commit protocol, and the feed loaded into CUSTOMER_360.PROFILE_CHANGES without duplicates.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROFILE_HASH_DIR, PROFILE_STATE_DIR, profileHashesPath, profileStatePath } from '../src/activation/paths.ts';
import { KEY_HASH_SQL, UNTRACKED_COLUMNS, commitProfileChanges, committedBatches, hashPublishedState, rowHashSql } from '../src/activation/profile-changes.ts';
import { Engine, lit } from '../src/engine/duckdb.ts';
import { LocalLake } from '../src/lake/local-lake.ts';
import type { Lake } from '../src/lake/lake.ts';
import { loadWarehouse } from '../src/warehouse/duckdb-loader.ts';
import { getTable } from '../src/warehouse/model.ts';
import { writeProfile, type ProfileRow } from './fixtures/profile-fixture.ts';

interface Change { CHANGE_ID: string; BATCH: string; CUSTOMER360_ID: string; CHANGE_TYPE: string; CHANGED_ATTRIBUTES: string; CHANGES: string; PROFILE_CHECKSUM: string | null }

let home: string;
let lake: LocalLake;
let engine: Engine;

const C1_AFTER = { TOTAL_ORDERS: 4, TOTAL_REVENUE: 150.25, LAST_PURCHASE_DATE: '2026-03-02' };

const person = (id: string, extra: ProfileRow = {}): ProfileRow => ({
  CUSTOMER360_ID: id, FIRST_NAME: `First ${id}`, EMAIL_ADDRESS: `${id.toLowerCase()}@example.com`, TOTAL_ORDERS: 3,
  TOTAL_REVENUE: 120.5, LOYALTY_TIER: 'SILVER', DAYS_SINCE_LAST_PURCHASE: 10, LAST_PURCHASE_DATE: '2026-02-01', ...extra,
});

async function readBatch(path: string): Promise<Change[]> {
  return engine.all<Change>(`SELECT * FROM read_parquet(${lit(await lake.localPath(path))}) ORDER BY CUSTOMER360_ID`);
}

async function allChanges(): Promise<Change[]> {
  const out: Change[] = [];
  for (const b of await committedBatches(lake)) out.push(...(await readBatch(b.path)));
  return out;
}

async function run(asOf: string, rows: readonly ProfileRow[], l: Lake = lake) {
  await writeProfile(engine, lake, home, asOf, rows);
  return commitProfileChanges(engine, l, { asOf, runId: `run-${asOf}`, tmpDir: join(home, 'tmp') });
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'c360-changes-'));
  lake = new LocalLake(join(home, 'lake'));
  engine = await Engine.open();
});
afterAll(async () => {
  engine?.close();
  await rm(home, { recursive: true, force: true });
});

describe('profile change feed', () => {
  it('publishes every profile as created on the first run, PII as checksums only', async () => {
    const r = await run('2026-03-01', [person('C1'), person('C2'), person('C3')]);
    expect(r).toMatchObject({ batch: 1, previous: 0, rows: 3, byType: { created: 3 } });
    const rows = await readBatch(r.path);
    expect(rows.map((x) => [x.CHANGE_ID, x.CHANGE_TYPE])).toEqual([['pc-1-C1', 'created'], ['pc-1-C2', 'created'], ['pc-1-C3', 'created']]);
    const changes = JSON.parse(rows[0]!.CHANGES) as Record<string, unknown>[];
    expect(changes).toContainEqual({ attribute: 'TOTAL_ORDERS', old: null, new: 3 });
    const email = changes.find((c) => c.attribute === 'EMAIL_ADDRESS')!;
    expect(email).toMatchObject({ pii: true, oldChecksum: null });
    expect(String(email.newChecksum)).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[0]!.CHANGES).not.toContain('c1@example.com');
    expect(rows[0]!.CHANGED_ATTRIBUTES.split(',')).toEqual(expect.arrayContaining(['FIRST_NAME', 'EMAIL_ADDRESS', 'TOTAL_ORDERS', 'LOYALTY_TIER']));
    expect(rows[0]!.CHANGED_ATTRIBUTES).not.toContain('DAYS_SINCE_LAST_PURCHASE');
  });

  it('a repeated run with the same profile commits an empty batch and keeps only the latest state', async () => {
    const r = await run('2026-03-01', [person('C1'), person('C2'), person('C3')]);
    expect(r).toMatchObject({ batch: 2, previous: 1, rows: 0 });
    expect((await lake.list(PROFILE_STATE_DIR)).map((f) => f.path)).toEqual([profileStatePath(2)]);
    expect((await lake.list(PROFILE_HASH_DIR)).map((f) => f.path)).toEqual([profileHashesPath(2)]);
  });

  it('emits updated (changed attributes only, old/new or checksums), created and deleted; a moving day count alone is no change', async () => {
    const r = await run('2026-03-02', [
      person('C1', { TOTAL_ORDERS: 4, TOTAL_REVENUE: 150.25, DAYS_SINCE_LAST_PURCHASE: 0, LAST_PURCHASE_DATE: '2026-03-02' }),
      person('C2', { EMAIL_ADDRESS: 'c2.new@example.com', DAYS_SINCE_LAST_PURCHASE: 11 }),
      person('C4'),
    ]);
    expect(r).toMatchObject({ batch: 3, rows: 4, byType: { updated: 2, created: 1, deleted: 1 } });
    const rows = await readBatch(r.path);
    const by = Object.fromEntries(rows.map((x) => [x.CUSTOMER360_ID, x]));
    expect(by.C1!.CHANGE_TYPE).toBe('updated');
    expect(by.C1!.CHANGED_ATTRIBUTES.split(',').sort()).toEqual(['LAST_PURCHASE_DATE', 'TOTAL_ORDERS', 'TOTAL_REVENUE']);
    expect(JSON.parse(by.C1!.CHANGES)).toEqual([
      { attribute: 'TOTAL_ORDERS', old: 3, new: 4 },
      { attribute: 'TOTAL_REVENUE', old: 120.5, new: 150.25 },
      { attribute: 'LAST_PURCHASE_DATE', old: '2026-02-01', new: '2026-03-02' },
    ].sort((a, b) => by.C1!.CHANGED_ATTRIBUTES.split(',').indexOf(a.attribute) - by.C1!.CHANGED_ATTRIBUTES.split(',').indexOf(b.attribute)));
    const c2 = JSON.parse(by.C2!.CHANGES) as { attribute: string; oldChecksum: string; newChecksum: string }[];
    expect(c2).toHaveLength(1);
    expect(c2[0]!.attribute).toBe('EMAIL_ADDRESS');
    expect(c2[0]!.oldChecksum).not.toBe(c2[0]!.newChecksum);
    expect(by.C2!.CHANGES).not.toMatch(/example\.com/);
    expect(by.C3).toMatchObject({ CHANGE_TYPE: 'deleted', CHANGED_ATTRIBUTES: '', CHANGES: '[]', PROFILE_CHECKSUM: null });
    expect(by.C4).toMatchObject({ CHANGE_TYPE: 'created', CHANGE_ID: 'pc-3-C4' });
    // A re-created person is created again, with a new event id.
    expect((await run('2026-03-03', [person('C1', C1_AFTER), person('C2', { EMAIL_ADDRESS: 'c2.new@example.com' }), person('C3'), person('C4')])).byType).toEqual({ created: 1 });
  });

  it('a crash at any step of the commit never emits a change twice or skips one', async () => {
    const before = (await allChanges()).length;
    const changed = [person('C1', { ...C1_AFTER, LOYALTY_TIER: 'GOLD' }), person('C2', { EMAIL_ADDRESS: 'c2.new@example.com' }), person('C3'), person('C4'), person('C5')];
    // 1: the run dies while committing the batch file (after the state copy of the next batch was written).
    const failing: Lake = Object.create(lake, {
      putFile: { value: async (local: string, path: string) => { if (path.includes('profile_changes')) throw new Error('killed'); return lake.putFile(local, path); } },
    });
    await expect(run('2026-03-04', changed, failing)).rejects.toThrow('killed');
    const last = (await committedBatches(lake)).at(-1)!.batch;
    expect(await lake.exists(profileStatePath(last + 1))).toBe(true);
    // 2: the uncommitted copy is from a later profile that never got a batch (the Gold job re-ran meanwhile).
    await writeProfile(engine, lake, home, '2026-03-04', [person('X9')]);
    await lake.putFile(await copyOf(await lake.localPath('gold/customer360/customer_profile/as_of_date=2026-03-04/part-00000.parquet')), profileStatePath(last + 1));
    // 3: the re-run computes the same batch against the committed state: each change once.
    const r = await run('2026-03-04', changed);
    expect(r).toMatchObject({ batch: last + 1, previous: last, rows: 2, byType: { updated: 1, created: 1 } });
    const rows = await readBatch(r.path);
    expect(rows.map((x) => `${x.CUSTOMER360_ID}:${x.CHANGE_TYPE}:${x.CHANGED_ATTRIBUTES}`)).toEqual(['C1:updated:LOYALTY_TIER', 'C5:created:' + rows[1]!.CHANGED_ATTRIBUTES]);
    const all = await allChanges();
    expect(all.length).toBe(before + 2);
    expect(new Set(all.map((x) => x.CHANGE_ID)).size).toBe(all.length);
    // 4: a crash after the commit, before the old state was deleted: the next run diffs against the newest state.
    await lake.write(profileStatePath(last), 'stale');
    expect((await run('2026-03-04', changed)).rows).toBe(0);
  });

  it('keeps the row hashes of the published state equal to hashing it afresh; missing or stale ones are recomputed, not trusted', async () => {
    // The stored hashes are derived (old ones minus the changed old rows plus the changed new rows): check the derivation.
    const storedEqualsFresh = async () => {
      const b = (await committedBatches(lake)).at(-1)!.batch;
      const state = lit(await lake.localPath(profileStatePath(b)));
      const compared = (await engine.all<{ column_name: string }>(`DESCRIBE SELECT * FROM read_parquet(${state})`)).map((r) => r.column_name).filter((c) => !UNTRACKED_COLUMNS.has(c));
      const fresh = `SELECT ${KEY_HASH_SQL} AS k, ${rowHashSql(compared)} AS h FROM read_parquet(${state})`;
      const stored = `SELECT k, h FROM read_parquet(${lit(await lake.localPath(profileHashesPath(b)))})`;
      const [d] = await engine.all<{ n: number; m: number; s: number }>(
        `SELECT (SELECT count(*) FROM ((${fresh}) EXCEPT ALL (${stored}))) AS n, (SELECT count(*) FROM ((${stored}) EXCEPT ALL (${fresh}))) AS m, (SELECT count(*) FROM (${stored})) AS s`,
      );
      expect([Number(d!.n), Number(d!.m), Number(d!.s)]).toEqual([0, 0, 5]);
      return b;
    };
    const base = [person('C1', { ...C1_AFTER, LOYALTY_TIER: 'GOLD' }), person('C2', { EMAIL_ADDRESS: 'c2.new@example.com' }), person('C3'), person('C4'), person('C5')];
    let b = await storedEqualsFresh();
    // Hashes missing (a state published before they were kept): the diff hashes the state, and writes them for the next.
    await lake.delete(profileHashesPath(b));
    let r = await run('2026-03-04', [person('C1', { ...C1_AFTER, LOYALTY_TIER: 'GOLD', TOTAL_ORDERS: 9 }), ...base.slice(1)]);
    expect(r.byType).toEqual({ updated: 1 });
    b = await storedEqualsFresh();
    // Stale hashes (another column list, as after a schema change, or another DuckDB's hash()) are not trusted.
    const state = lit(await lake.localPath(profileStatePath(b)));
    const stale = join(home, 'stale-hashes.parquet');
    await engine.run(`COPY (SELECT hash(CUSTOMER360_ID) AS k, hash(CUSTOMER360_ID) AS h FROM read_parquet(${state})) TO ${lit(stale)} (FORMAT parquet, KV_METADATA {c360_row_hash: 'v0|k,h|CUSTOMER360_ID'})`);
    await lake.putFile(stale, profileHashesPath(b));
    r = await run('2026-03-04', [person('C1', { ...C1_AFTER, LOYALTY_TIER: 'GOLD', TOTAL_ORDERS: 9 }), base[1]!, base[2]!, base[3]!, person('C6')]);
    expect(r.byType).toEqual({ created: 1, deleted: 1 });
    b = await storedEqualsFresh();
    // A state with hashes written by hashPublishedState (the bench's setup) diffs the same as one the feed wrote.
    await hashPublishedState(engine, lake, b, join(home, 'tmp'));
    await storedEqualsFresh();
    r = await run('2026-03-04', [person('C1', { ...C1_AFTER, LOYALTY_TIER: 'GOLD', TOTAL_ORDERS: 9 }), base[1]!, base[2]!, base[3]!, person('C6', { TOTAL_ORDERS: 1 })]);
    expect(r.byType).toEqual({ updated: 1 });
    expect((await readBatch(r.path))[0]).toMatchObject({ CUSTOMER360_ID: 'C6', CHANGED_ATTRIBUTES: 'TOTAL_ORDERS' });
  });

  it('fails naming the missing published state instead of republishing everyone', async () => {
    const last = (await committedBatches(lake)).at(-1)!;
    const saved = await copyOf(await lake.localPath(profileStatePath(last.batch)));
    await lake.delete(profileStatePath(last.batch));
    await expect(run('2026-03-05', [person('C1')])).rejects.toThrow(new RegExp(`published state of batch ${last.batch} .*is missing`));
    expect((await committedBatches(lake)).at(-1)!.batch).toBe(last.batch);
    await lake.putFile(saved, profileStatePath(last.batch));
  });

  it('loads into CUSTOMER_360.PROFILE_CHANGES once per change, however often the load runs', async () => {
    const t = getTable('CUSTOMER_360', 'PROFILE_CHANGES');
    const wh = await Engine.open({ path: join(home, 'warehouse.duckdb') });
    try {
      for (const asOf of ['2026-03-01', '2026-03-02', '2026-03-04', '2026-03-04']) await loadWarehouse(wh, lake, { asOf, loadId: `L-${asOf}`, tables: [t] });
      const loaded = await wh.all<{ CHANGE_ID: string }>('SELECT CHANGE_ID FROM CUSTOMER_360.PROFILE_CHANGES ORDER BY CHANGE_ID');
      const expected: string[] = [];
      for (const b of await committedBatches(lake)) if (b.asOf !== '2026-03-03') expected.push(...(await readBatch(b.path)).map((c) => c.CHANGE_ID));
      expect(loaded.map((r) => r.CHANGE_ID)).toEqual(expected.sort());
      expect(expected.length).toBeGreaterThan(5);
    } finally {
      wh.close();
    }
  });
});

async function copyOf(file: string): Promise<string> {
  const { copyFile } = await import('node:fs/promises');
  const to = join(home, `copy-${Math.random().toString(36).slice(2)}.parquet`);
  await copyFile(file, to);
  return to;
}
