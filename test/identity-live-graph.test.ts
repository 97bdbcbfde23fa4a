// The in-memory graph (live-graph.ts, what the streaming consumer links with) gives exactly what updateGraph's
// incremental path gives for the same batches: the same ids, links, decisions, retired ids and change events, on
// fake_1000 fed as a base and batches of new records, then changed and unchanged records.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, lit } from '../src/engine/duckdb.ts';
import { openGraph, RAW_COLUMNS } from '../src/identity/graph.ts';
import { updateGraph } from '../src/identity/incremental.ts';
import { loadPersonRecords } from '../src/identity/input.ts';
import { LiveGraph } from '../src/identity/live-graph.ts';
import { BASE, HEADER } from './fixtures/identity-graph.ts';
import { SHARED } from './shared.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'c360-live-'));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

async function snapshot(e: Engine) {
  return {
    records: await e.all('SELECT rid, tenant_id, source_system, customer_id, customer360_id FROM g.records ORDER BY rid'),
    // Scores agree to the last bits only: the in-memory graph computes log2 and powers with V8's Math, the SQL path with
    // the C library, and the two round differently on about 1% of arguments (1e-16 relative).
    edges: (await e.all<Record<string, unknown>>('SELECT rid_l, rid_r, det_rule, match_probability, decision FROM g.edges ORDER BY rid_l, rid_r'))
      .map((r) => ({ ...r, match_probability: Number(Number(r.match_probability).toPrecision(13)) })),
    raw: await e.all('SELECT * FROM g.raw ORDER BY rid'),
    retired: await e.all('SELECT TENANT_ID, RETIRED_ID, SURVIVOR_ID, REASON FROM g.retired ORDER BY ALL'),
  };
}

/** Change events with the ledger's probabilities to 13 digits (the last bits differ, as in snapshot). */
function to13<T extends { ledger: Record<string, unknown>[] }>(events: T[]): T[] {
  return events.map((e) => ({ ...e, ledger: e.ledger.map((l) => ({ ...l, MATCH_PROBABILITY: Number(Number(l.MATCH_PROBABILITY).toPrecision(13)) })) }));
}

/** id_input's records as RAW_COLUMNS-ordered text values (null where the file has no such column). */
async function rowsOf(e: Engine): Promise<(string | null)[][]> {
  const cols = new Set((await e.all<{ column_name: string }>('SELECT column_name FROM (DESCRIBE id_input)')).map((c) => c.column_name));
  const rows = await e.all<Record<string, string | null>>(`SELECT ${RAW_COLUMNS.map((c) => (cols.has(c) ? `CAST(${c} AS VARCHAR) AS ${c}` : `NULL::VARCHAR AS ${c}`)).join(', ')} FROM id_input ORDER BY rid`);
  return rows.map((r) => RAW_COLUMNS.map((c) => r[c] ?? null));
}

describe('LiveGraph', () => {
  it('links batches exactly as updateGraph does', async () => {
    const src = join(SHARED, 'data', 'identity', 'fake_1000.csv');
    const scratch = await Engine.open();
    await scratch.run(`CREATE TABLE f AS SELECT row_number() OVER () - 1 AS pos, * FROM read_csv(${lit(src)}, all_varchar = true)`);
    const part = async (sql: string, name: string) => {
      const file = join(dir, `${name}.csv`);
      await scratch.run(`COPY (${sql}) TO ${lit(file)} (HEADER)`);
      return file;
    };
    const base = await part('SELECT * EXCLUDE (pos) FROM f WHERE pos < 600 ORDER BY pos', 'base');
    const batches = [];
    for (let lo = 600; lo < 1000; lo += 100) batches.push(await part(`SELECT * EXCLUDE (pos) FROM f WHERE pos >= ${lo} AND pos < ${lo + 100} ORDER BY pos`, `b${lo}`));
    // Changed records (a new e-mail for some, a first name for others) with unchanged ones, and single records.
    batches.push(await part(`SELECT * EXCLUDE (pos, email, first_name), CASE WHEN pos % 2 = 0 THEN 'x' || pos || '@example.org' ELSE email END AS email,
      CASE WHEN pos % 2 = 1 THEN 'Zed' ELSE first_name END AS first_name FROM f WHERE pos % 37 = 0 OR pos BETWEEN 100 AND 110 ORDER BY pos`, 'changed'));
    for (const pos of [3, 650, 999]) batches.push(await part(`SELECT * EXCLUDE (pos, surname), surname || 'e' AS surname FROM f WHERE pos = ${pos}`, `one${pos}`));
    scratch.close();

    const a = await openGraph(join(dir, 'sql'));
    const b = await openGraph(join(dir, 'live'));
    try {
      for (const e of [a, b]) {
        await loadPersonRecords(e, base, 'id_input');
        await updateGraph(e, 'id_input', { runId: 'base', at: '2026-01-01T00:00:00Z' });
      }
      // Every two-column blocking lookup through a pair index (at this size the default would use none).
      const live = await LiveGraph.load(b, { pairIndexMinPostings: 0 });
      expect(live.records).toBe(600);
      const types = new Set<string>();
      let events = 0;
      for (const [i, file] of batches.entries()) {
        const opts = { runId: `run-${i}`, at: '2026-01-02T00:00:00Z' };
        await loadPersonRecords(a, file, 'id_input');
        const ra = await updateGraph(a, 'id_input', opts);
        await loadPersonRecords(b, file, 'id_input');
        // Every other batch as records in memory (the stream's way in), the others as a table.
        const rb = i % 2 ? await live.updateRows(b, await rowsOf(b), opts) : await live.update(b, 'id_input', opts);
        expect([rb.newRecords, rb.changedRecords, rb.unchangedRecords, rb.candidates, rb.newEdges, rb.reclustered]).toEqual([ra.newRecords, ra.changedRecords, ra.unchangedRecords, ra.candidates, ra.newEdges, ra.reclustered]);
        expect(to13(rb.events)).toEqual(to13(ra.events));
        events += ra.events.length;
        for (const e of ra.events) types.add(e.type);
      }
      expect(events).toBeGreaterThan(100);
      const [sa, sb] = [await snapshot(a), await snapshot(b)];
      expect(sb.records).toHaveLength(1000);
      expect(sb).toEqual(sa);
      expect([...types].sort()).toEqual(['linked', 'merged', 'split', 'unlinked']);
    } finally {
      a.close();
      b.close();
    }
  });

  it('joins, merges (retiring an id) and unlinks as updateGraph does', async () => {
    const csv = (name: string, body: string) => {
      const file = join(dir, `${name}.csv`);
      return writeFile(file, body).then(() => file);
    };
    const files = [
      await csv('f-join', `${HEADER}\nacme,6,ECOMMERCE,Rob,Smith,Rob.Smith+shop@gmail.com,,,London\n`),
      await csv('f-bridge', `${HEADER}\nacme,7,MARKETING,Robert,Smith,rob.smith@gmail.com,415-555-2671,,\nbeta,7,MARKETING,Robert,Smith,rob.smith@gmail.com,415-555-2671,,\n`),
      await csv('f-change', `${HEADER}\nacme,7,MARKETING,Robert,Smith,bob.other@gmail.com,,1971-01-01,\n`),
    ];
    const a = await openGraph(join(dir, 'fx-sql'));
    const b = await openGraph(join(dir, 'fx-live'));
    try {
      const base = await csv('f-base', BASE);
      for (const e of [a, b]) {
        await loadPersonRecords(e, base, 'id_input');
        await updateGraph(e, 'id_input', { runId: 'base', at: '2026-01-01T00:00:00Z' });
      }
      const live = await LiveGraph.load(b);
      const types: string[] = [];
      for (const [i, file] of files.entries()) {
        const opts = { runId: `fx-${i}`, at: '2026-01-02T00:00:00Z' };
        await loadPersonRecords(a, file, 'id_input');
        const ra = await updateGraph(a, 'id_input', opts);
        await loadPersonRecords(b, file, 'id_input');
        expect(to13((await live.updateRows(b, await rowsOf(b), opts)).events)).toEqual(to13(ra.events));
        types.push(...ra.events.map((e) => e.type));
      }
      // Record 7 leaves with a new address and birth date; record 2, which joined through 7's phone, leaves too.
      expect(types).toEqual(['linked', 'merged', 'linked', 'linked', 'split', 'linked']);
      const [sa, sb] = [await snapshot(a), await snapshot(b)];
      expect(sb).toEqual(sa);
      expect(sa.retired).toHaveLength(1);
    } finally {
      a.close();
      b.close();
    }
  });
});
