// Identity merges and splits in the profile change feed: each merged/split event of identity_changes (the silver-identity
// job's dataset) published once as a profile.merged / profile.split row with the ids before and after, a profile that
// disappeared because a merge retired its id announced by the merge instead of as deleted, the history before the first
// batch not replayed, and a crash before the commit neither losing nor repeating one. The events validate against the
// profile event schema.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { profileEvent } from '../src/activation/deliver.ts';
import { PROFILE_EVENT_SCHEMA } from '../src/activation/event-schemas.ts';
import { commitProfileChanges, committedBatches } from '../src/activation/profile-changes.ts';
import { conformSql } from '../src/catalogue/runner.ts';
import { Engine, lit } from '../src/engine/duckdb.ts';
import type { Lake } from '../src/lake/lake.ts';
import { LocalLake } from '../src/lake/local-lake.ts';
import { commitQuery } from '../src/lake/parquet.ts';
import { IDENTITY_DATASETS, IDENTITY_DATASET_DECLS } from '../src/silver/datasets.ts';
import { writeProfile, type ProfileRow } from './fixtures/profile-fixture.ts';

let home: string;
let lake: LocalLake;
let engine: Engine;
const changesDs = IDENTITY_DATASET_DECLS.find((d) => d.name === IDENTITY_DATASETS.changes)!;

interface IdChange { seq: number; type: 'linked' | 'merged' | 'split' | 'unlinked'; before: string[]; after: string[] }
type Row = Record<string, string | null>;

/** Appends one identity_changes file as the silver-identity job does (one file per graph commit, named by its SEQ). */
async function identityCommit(events: IdChange[]): Promise<void> {
  const values = events.map((e) => `(${e.seq}, ${lit(`ev${e.seq}`)}, ${lit(e.type)}, ${lit(`[${e.before.map(lit).join(',')}]`)}, ${lit(`[${e.after.map(lit).join(',')}]`)})`).join(', ');
  const sql = `SELECT CAST(s AS BIGINT) AS SEQ, id AS EVENT_ID, t AS CHANGE_TYPE, 't1' AS TENANT_ID, 'idrun' AS RUN_ID, TIMESTAMP '2026-03-01 00:00:00' AS EVENT_AT,
    CAST(b AS VARCHAR[]) AS IDS_BEFORE, CAST(a AS VARCHAR[]) AS IDS_AFTER, ['crm:1'] AS RECORDS, 'test' AS REASON, '[]' AS LEDGER
    FROM (VALUES ${values}) v(s, id, t, b, a)`;
  const seq = Math.max(...events.map((e) => e.seq));
  await commitQuery(engine, lake, await conformSql(engine, changesDs, sql), `${changesDs.path}/part-${String(seq).padStart(6, '0')}.parquet`, { tmpDir: join(home, 'tmp') });
}

const person = (id: string, orders = 1): ProfileRow => ({ CUSTOMER360_ID: id, FIRST_NAME: `N ${id}`, TOTAL_ORDERS: orders });

async function run(asOf: string, rows: ProfileRow[], l: Lake = lake) {
  await writeProfile(engine, lake, home, asOf, rows);
  const r = await commitProfileChanges(engine, l, { asOf, runId: `run-${asOf}`, tmpDir: join(home, 'tmp') });
  const out = await engine.all<Row>(`SELECT * FROM read_parquet(${lit(await lake.localPath(r.path))}) ORDER BY CHANGE_ID`);
  return { r, rows: out, brief: out.map((x) => `${x.CHANGE_TYPE}:${x.CUSTOMER360_ID}${x.IDS_BEFORE !== null ? `:${x.IDS_BEFORE}>${x.IDS_AFTER}` : ''}`).sort() };
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'c360-changes-id-'));
  lake = new LocalLake(join(home, 'lake'));
  engine = await Engine.open();
});
afterAll(async () => {
  engine?.close();
  await rm(home, { recursive: true, force: true });
});

describe('identity merges and splits in the profile change feed', () => {
  it('the first batch publishes everyone as created, not the identity history before it', async () => {
    await identityCommit([{ seq: 1, type: 'linked', before: [], after: ['A'] }, { seq: 2, type: 'merged', before: ['B', 'Z'], after: ['B'] }]);
    const { brief } = await run('2026-03-01', [person('A'), person('B'), person('C')]);
    expect(brief).toEqual(['created:A', 'created:B', 'created:C']);
  });

  it('publishes each merge and split once with the ids before and after; the merged-away profile is not deleted', async () => {
    await identityCommit([
      { seq: 3, type: 'merged', before: ['B', 'A'], after: ['B'] },
      { seq: 4, type: 'split', before: ['C'], after: ['C', 'D'] },
      { seq: 5, type: 'linked', before: ['B'], after: ['B'] },
    ]);
    const { rows, brief } = await run('2026-03-02', [person('B', 2), person('C'), person('D')]);
    expect(brief).toEqual(['created:D', 'merged:B:B,A>B', 'split:C:C>C,D', 'updated:B']);
    expect(rows.filter((x) => x.CHANGE_TYPE === 'merged' || x.CHANGE_TYPE === 'split').map((x) => x.CHANGE_ID)).toEqual(['pi-ev3', 'pi-ev4']);
    // The events a consumer gets: valid, and saying what to re-key.
    const validate = new Ajv2020({ strict: false }).compile(PROFILE_EVENT_SCHEMA);
    for (const x of rows) expect(validate(profileEvent(x)), JSON.stringify(validate.errors)).toBe(true);
    expect(profileEvent(rows.find((x) => x.CHANGE_TYPE === 'merged')!)).toMatchObject({ type: 'profile.merged', customer360Id: 'B', identity: { before: ['B', 'A'], after: ['B'], retired: ['A'], created: [] } });
    expect(profileEvent(rows.find((x) => x.CHANGE_TYPE === 'split')!).identity).toEqual({ before: ['C'], after: ['C', 'D'], retired: [], created: ['D'] });
    expect(validate({ ...profileEvent(rows.find((x) => x.CHANGE_TYPE === 'created')!), identity: { before: [], after: [], retired: [], created: [] } })).toBe(false);
    // A repeated run publishes none of them again.
    expect((await run('2026-03-02', [person('B', 2), person('C'), person('D')])).brief).toEqual([]);
  });

  it('a profile that disappears after its merge was published (Gold ran late) is not deleted either; other deletions are', async () => {
    await identityCommit([{ seq: 6, type: 'merged', before: ['C', 'D'], after: ['C'] }]);
    expect((await run('2026-03-03', [person('B', 2), person('C'), person('D')])).brief).toEqual(['merged:C:C,D>C']);
    expect((await run('2026-03-04', [person('C', 5)])).brief).toEqual(['deleted:B', 'updated:C']);
  });

  it('a crash before the commit neither loses nor repeats an identity change', async () => {
    await identityCommit([{ seq: 7, type: 'split', before: ['C'], after: ['C', 'E'] }]);
    const failing: Lake = Object.create(lake, {
      putFile: { value: async (local: string, path: string) => { if (path.includes('profile_changes')) throw new Error('killed'); return lake.putFile(local, path); } },
    });
    await writeProfile(engine, lake, home, '2026-03-05', [person('C', 5), person('E')]);
    await expect(commitProfileChanges(engine, failing, { asOf: '2026-03-05', runId: 'x', tmpDir: join(home, 'tmp') })).rejects.toThrow('killed');
    // Identity moved on meanwhile: the re-run publishes both, each once.
    await identityCommit([{ seq: 8, type: 'merged', before: ['C', 'E'], after: ['C'] }]);
    expect((await run('2026-03-05', [person('C', 5)])).brief).toEqual(['merged:C:C,E>C', 'split:C:C>C,E']);
    const all: Row[] = [];
    for (const b of await committedBatches(lake)) all.push(...(await engine.all<Row>(`SELECT CHANGE_ID FROM read_parquet(${lit(await lake.localPath(b.path))})`)));
    const ids = all.map((x) => x.CHANGE_ID);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.filter((x) => x!.startsWith('pi-')).sort()).toEqual(['pi-ev3', 'pi-ev4', 'pi-ev6', 'pi-ev7', 'pi-ev8']);
  });
});
