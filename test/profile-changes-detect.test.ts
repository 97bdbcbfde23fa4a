// What the profile diff detects: a change in any one compared column of the profile, alone, is found (with its old and
// new value, or checksums for PII); and equal row hashes of different profiles (two people with the same values, a real
// collision of the 64-bit row hash, common in practice) never hide a change, because a stored row hash is matched only
// together with its own key's hash.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { profileHashesPath } from '../src/activation/paths.ts';
import { UNTRACKED_COLUMNS, commitProfileChanges, committedBatches } from '../src/activation/profile-changes.ts';
import { duckType } from '../src/catalogue/dataset.ts';
import { Engine, lit } from '../src/engine/duckdb.ts';
import { customerProfile } from '../src/gold/customer-profile.ts';
import { LocalLake } from '../src/lake/local-lake.ts';
import { writeProfile, type ProfileRow } from './fixtures/profile-fixture.ts';

interface Change { CUSTOMER360_ID: string; CHANGE_TYPE: string; CHANGED_ATTRIBUTES: string; CHANGES: string }

let home: string;
let lake: LocalLake;
let engine: Engine;

const COMPARED = customerProfile.columns.filter((c) => !UNTRACKED_COLUMNS.has(c.name));

/** A value of the column's type, and a different one (`second`). */
function valueOf(c: (typeof COMPARED)[number], second = false): string | number | boolean {
  const t = duckType(c.type);
  if (t === 'VARCHAR') return second ? `v-${c.name}-2` : `v-${c.name}`;
  if (t === 'DATE') return second ? '2025-01-02' : '2025-01-01';
  if (t === 'TIMESTAMP') return second ? '2025-01-01 00:00:01' : '2025-01-01 00:00:00';
  if (t === 'BOOLEAN') return !second;
  if (t.startsWith('DECIMAL')) return second ? 10.75 : 10.5;
  if (t === 'DOUBLE') return second ? 0.5 : 0.25;
  if (t === 'INTEGER' || t === 'BIGINT') return second ? 8 : 7;
  throw new Error(`no test value for ${c.name} ${t}`);
}

const full = (id: string, second: (col: string) => boolean = () => false): ProfileRow =>
  Object.fromEntries([['CUSTOMER360_ID', id], ...COMPARED.map((c) => [c.name, valueOf(c, second(c.name))])]);

async function commit(asOf: string, rows: readonly ProfileRow[]): Promise<{ byType: Record<string, number>; rows: Change[] }> {
  await writeProfile(engine, lake, home, asOf, rows);
  const r = await commitProfileChanges(engine, lake, { asOf, runId: `run-${asOf}`, tmpDir: join(home, 'tmp') });
  return { byType: r.byType, rows: await engine.all<Change>(`SELECT * FROM read_parquet(${lit(await lake.localPath(r.path))}) ORDER BY CUSTOMER360_ID`) };
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'c360-detect-'));
  lake = new LocalLake(join(home, 'lake'));
  engine = await Engine.open();
});
afterAll(async () => {
  engine?.close();
  await rm(home, { recursive: true, force: true });
});

describe('profile diff: what is detected', () => {
  it(`a change in any one of the ${COMPARED.length} compared columns, alone, is found with its old and new value (checksums for PII)`, async () => {
    const people = COMPARED.map((c, i) => `P${String(i).padStart(3, '0')}`);
    const base = [...people.map((p) => full(p)), full('UNCHANGED'), { ...full('TO_NULL') }, { ...full('FROM_NULL'), TOTAL_ORDERS: null }];
    expect((await commit('2026-03-01', base)).byType).toEqual({ created: base.length });
    const next = [
      ...people.map((p, i) => full(p, (col) => col === COMPARED[i]!.name)),
      full('UNCHANGED'),
      { ...full('TO_NULL'), LOYALTY_TIER: null },
      full('FROM_NULL'),
    ];
    const { byType, rows } = await commit('2026-03-02', next);
    expect(byType).toEqual({ updated: people.length + 2 });
    const by = new Map(rows.map((r) => [r.CUSTOMER360_ID, r]));
    for (const [i, p] of people.entries()) {
      const c = COMPARED[i]!;
      const row = by.get(p)!;
      expect(row.CHANGED_ATTRIBUTES, p).toBe(c.name);
      const [entry, ...more] = JSON.parse(row.CHANGES) as Record<string, unknown>[];
      expect(more).toEqual([]);
      if (c.pii) {
        expect(entry).toMatchObject({ attribute: c.name, pii: true });
        expect(entry!.oldChecksum).not.toBe(entry!.newChecksum);
        expect(row.CHANGES).not.toContain(String(valueOf(c)));
      } else {
        // Dates and timestamps are JSON strings (DuckDB renders timestamps with a space); numbers and booleans as such.
        const norm = (v: unknown) => String(v).replace('T', ' ');
        expect([norm(entry!.old), norm(entry!.new)], c.name).toEqual([norm(valueOf(c)), norm(valueOf(c, true))]);
      }
    }
    expect(JSON.parse(by.get('TO_NULL')!.CHANGES)).toEqual([{ attribute: 'LOYALTY_TIER', old: 'v-LOYALTY_TIER', new: null }]);
    expect(JSON.parse(by.get('FROM_NULL')!.CHANGES)).toEqual([{ attribute: 'TOTAL_ORDERS', old: null, new: 7 }]);
    expect(by.has('UNCHANGED')).toBe(false);
  });

  it('equal row hashes of different profiles never hide a change: taking over, swapping or re-creating another profile\'s values is found', async () => {
    const v = (n: number) => ({ TOTAL_ORDERS: n, LOYALTY_TIER: `T${n}`, EMAIL_ADDRESS: `v${n}@example.com` });
    // A and C hold the same values (equal row hashes), B other ones; D and E differ; G will be deleted.
    const day1 = [{ CUSTOMER360_ID: 'A', ...v(1) }, { CUSTOMER360_ID: 'B', ...v(2) }, { CUSTOMER360_ID: 'C', ...v(1) }, { CUSTOMER360_ID: 'D', ...v(3) }, { CUSTOMER360_ID: 'E', ...v(4) }, { CUSTOMER360_ID: 'G', ...v(5) }];
    await commit('2026-04-01', day1);
    // The collision is real: the stored row hashes of A and C are equal.
    const b = (await committedBatches(lake)).at(-1)!.batch;
    const hashes = await engine.all<{ k: bigint; h: bigint }>(`SELECT k, h FROM read_parquet(${lit(await lake.localPath(profileHashesPath(b)))})`);
    expect(hashes).toHaveLength(6);
    expect(new Set(hashes.map((x) => String(x.h))).size).toBe(5);
    // A takes B's values, D and E swap theirs, G is deleted and H created with G's values, F created with A's old ones.
    const day2 = [{ CUSTOMER360_ID: 'A', ...v(2) }, { CUSTOMER360_ID: 'B', ...v(2) }, { CUSTOMER360_ID: 'C', ...v(1) }, { CUSTOMER360_ID: 'D', ...v(4) }, { CUSTOMER360_ID: 'E', ...v(3) }, { CUSTOMER360_ID: 'F', ...v(1) }, { CUSTOMER360_ID: 'H', ...v(5) }];
    const { byType, rows } = await commit('2026-04-02', day2);
    // Every one of these new rows has a row hash some stored row has: the row hash alone would have called them unchanged.
    expect(rows.map((r) => `${r.CUSTOMER360_ID}:${r.CHANGE_TYPE}:${r.CHANGED_ATTRIBUTES.split(',').sort().join('+')}`)).toEqual([
      'A:updated:EMAIL_ADDRESS+LOYALTY_TIER+TOTAL_ORDERS',
      'D:updated:EMAIL_ADDRESS+LOYALTY_TIER+TOTAL_ORDERS',
      'E:updated:EMAIL_ADDRESS+LOYALTY_TIER+TOTAL_ORDERS',
      expect.stringMatching(/^F:created:/),
      'G:deleted:',
      expect.stringMatching(/^H:created:/),
    ]);
    expect(byType).toEqual({ updated: 3, created: 2, deleted: 1 });
    expect(JSON.parse(rows[0]!.CHANGES)).toContainEqual({ attribute: 'TOTAL_ORDERS', old: 1, new: 2 });
    // A repeat of the same day is no change (the new state's stored pairs are right).
    expect((await commit('2026-04-02', day2)).rows).toEqual([]);
  });

  it('ids sharing a key hash cannot hide a deletion: the created rows check the count of deletions before the batch commits', async () => {
    const p = (id: string) => ({ CUSTOMER360_ID: id, TOTAL_ORDERS: id.charCodeAt(0), LOYALTY_TIER: 'T' });
    await commit('2026-05-01', [p('X'), p('D'), p('U')]);
    // Key-hash collisions, as stored: X's pair carries Y's key hash and D's carries X's (metadata kept, so trusted).
    const b = (await committedBatches(lake)).at(-1)!.batch;
    const file = await lake.localPath(profileHashesPath(b));
    const [meta] = await engine.all<{ v: string }>(`SELECT decode(value) AS v FROM parquet_kv_metadata(${lit(file)}) WHERE decode(key) = 'c360_row_hash'`);
    const tampered = join(home, 'collided.parquet');
    await engine.run(`COPY (SELECT CASE WHEN k = hash('X') THEN hash('Y') WHEN k = hash('D') THEN hash('X') ELSE k END AS k, h FROM read_parquet(${lit(file)}))
      TO ${lit(tampered)} (FORMAT parquet, KV_METADATA {c360_row_hash: ${lit(meta!.v)}})`);
    await lake.putFile(tampered, profileHashesPath(b));
    // D goes, Y comes: counted from the key hashes, X and Y look like two kept ids, so no deletion; Y created says one.
    const { rows } = await commit('2026-05-02', [p('X'), p('U'), p('Y')]);
    expect(rows.map((r) => `${r.CUSTOMER360_ID}:${r.CHANGE_TYPE}`)).toEqual(['D:deleted', 'Y:created']);
    expect((await commit('2026-05-02', [p('X'), p('U'), p('Y')])).rows).toEqual([]);
  });
});
