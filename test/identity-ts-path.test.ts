// The stream's TypeScript path (standardise-record.ts, similarity.ts, sql-eval.ts, score-pairs.ts) against the SQL it
// stands in for, on the labelled data sets and on edge cases: the same standardised values, the same comparison
// levels, deterministic rules, weights and link flags for every candidate pair, and match probabilities equal but for
// the last bits (V8's log2/pow round differently from the C library's on about 1% of arguments).
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, lit } from '../src/engine/duckdb.ts';
import { RAW_COLUMNS } from '../src/identity/graph.ts';
import { prepareBatch } from '../src/identity/incremental.ts';
import { loadPersonRecords } from '../src/identity/input.ts';
import { BLOCKING_RULES, COMPARISONS, DETERMINISTIC_RULES } from '../src/identity/model.ts';
import { resolveIdentities } from '../src/identity/resolve.ts';
import { PairScorer } from '../src/identity/score-pairs.ts';
import { damerauLevenshtein, jaroWinkler } from '../src/identity/similarity.ts';
import { standardise } from '../src/identity/standardise.ts';
import { RECORD_STD_COLUMNS, standardiseRecord } from '../src/identity/standardise-record.ts';
import { SHARED } from './shared.ts';

const DATA = join(SHARED, 'data', 'identity');
let engine: Engine;
beforeAll(async () => {
  engine = await Engine.open();
});
afterAll(() => engine.close());

/** Rows of `table` with every column as text (booleans kept), keyed by rid. */
async function rowsByRid(table: string): Promise<Map<number, Record<string, unknown>>> {
  const cols = await engine.all<{ column_name: string; column_type: string }>(`SELECT column_name, column_type FROM (DESCRIBE ${table})`);
  const sel = cols.map((c) => (c.column_type === 'BOOLEAN' || c.column_type === 'VARCHAR' || c.column_name === 'rid' ? c.column_name : `CAST(${c.column_name} AS VARCHAR) AS ${c.column_name}`));
  const rows = await engine.all<Record<string, unknown>>(`SELECT ${sel.join(', ')} FROM ${table}`);
  return new Map(rows.map((r) => [Number(r.rid), r]));
}

/** Standardises id_input both ways; returns how many records the TypeScript standardiser answered. */
async function compareStandardisation(blocklist: string[] = []): Promise<{ records: number; answered: number }> {
  await prepareBatch(engine, 'id_input', 'default');
  await engine.run('CREATE OR REPLACE TABLE id_prepared AS SELECT row_number() OVER () - 1 AS rid, * FROM id_batch');
  await standardise(engine, 'id_prepared', { blocklist, termFrequencies: false });
  const sql = await rowsByRid('id_std');
  const raw = await engine.all<Record<string, string | null>>('SELECT * FROM id_prepared ORDER BY rid');
  let answered = 0;
  const differ: unknown[] = [];
  for (const r of raw) {
    const ts = standardiseRecord(RAW_COLUMNS.map((c) => r[c] ?? null), { tenant: 'default', blocklist });
    if (!ts) continue;
    answered++;
    const want = sql.get(Number(r.rid))!;
    for (const c of RECORD_STD_COLUMNS) if (ts[c] !== (want[c] ?? null)) differ.push({ record: r, column: c, ts: ts[c], sql: want[c] });
  }
  expect(differ).toEqual([]);
  return { records: raw.length, answered };
}

describe('standardiseRecord', () => {
  it('gives the SQL standardisation of fake_1000 and FEBRL1, answering for all but impossible dates', async () => {
    for (const f of ['fake_1000.csv', 'febrl1.csv']) {
      await loadPersonRecords(engine, join(DATA, f), 'id_input');
      const r = await compareStandardisation();
      // FEBRL corrupts some birth dates into impossible ones (19990231), which go to the SQL.
      const impossible = Number(await engine.scalar(`SELECT count(*) FROM id_prepared WHERE DATE_OF_BIRTH IS NOT NULL AND regexp_full_match(DATE_OF_BIRTH, '[0-9]{8}') AND try_strptime(DATE_OF_BIRTH, '%Y%m%d') IS NULL`));
      expect(r.answered, f).toBe(r.records - impossible);
    }
  });

  it('gives the SQL result on edge cases, and leaves to the SQL what it cannot be sure of', async () => {
    const rows: Record<string, string | null>[] = [
      { FIRST_NAME: "  O'Neil-Smith ", LAST_NAME: 'Unknown', EMAIL_ADDRESS: 'J.O.Smith+shop@GoogleMail.com', PHONE_NUMBER: '(415) 555-2671', DATE_OF_BIRTH: '1971-06-24', ZIP_CODE: '94107-1234', COUNTRY_CODE: 'us' },
      { FIRST_NAME: 'Bob', LAST_NAME: 'x', EMAIL_ADDRESS: 'test@test.com', PHONE_NUMBER: '555-555-5555', DATE_OF_BIRTH: '19710624', CITY: 'N/A', STATE_CODE: ' ca ', GENDER: 'female' },
      { FIRST_NAME: 'Ann', EMAIL_ADDRESS: 'aaaa@yahoo.com', PHONE_NUMBER: '+44 20 7946 0958', COUNTRY_CODE: 'GBR', DATE_OF_BIRTH: '24/06/1971', ADDRESS_LINE_1: '12 North Main Street Apt 4', CITY: 'St.  Louis' },
      { FIRST_NAME: 'Ann', EMAIL_ADDRESS: 'ann.lee+x@outlook.com', PHONE_NUMBER: '1-800-555-1212', DATE_OF_BIRTH: '06/24/1971', ZIP_CODE: 'sw1a 1aa', COUNTRY_CODE: 'GB' },
      { FIRST_NAME: 'Li', EMAIL_ADDRESS: 'not an email', PHONE_NUMBER: '12', DATE_OF_BIRTH: '24.06.1971', ZIP_CODE: '123456789', COUNTRY_CODE: 'CA' },
      { FIRST_NAME: 'Li', EMAIL_ADDRESS: 'li@blocked.org', PHONE_NUMBER: '+1 (212) 555-0100', DATE_OF_BIRTH: '2999-01-01' },
      { FIRST_NAME: 'Li', EMAIL_ADDRESS: 'li@example.com', PHONE_NUMBER: '0412 345 678', COUNTRY_CODE: 'AU', DATE_OF_BIRTH: '1899-12-31' },
      { FIRST_NAME: 'Li', DATE_OF_BIRTH: '2020/01/02', PHONE_NUMBER: '2125550100', COUNTRY_CODE: 'DE' },
      // Left to the SQL: non-ASCII text, a lenient date layout, an impossible date.
      { FIRST_NAME: 'José', LAST_NAME: 'Ærø' },
      { FIRST_NAME: 'Li', DATE_OF_BIRTH: '1971-06-24 10:00' },
      { FIRST_NAME: 'Li', DATE_OF_BIRTH: '1971-02-30' },
    ];
    await engine.run(`CREATE OR REPLACE TABLE id_input AS SELECT * FROM (VALUES ${rows.map((r, i) => `(${i}, 'S', 'C${i}', ${['FIRST_NAME', 'LAST_NAME', 'EMAIL_ADDRESS', 'PHONE_NUMBER', 'DATE_OF_BIRTH', 'ADDRESS_LINE_1', 'CITY', 'STATE_CODE', 'ZIP_CODE', 'COUNTRY_CODE', 'GENDER'].map((c) => (r[c] == null ? 'NULL' : lit(r[c]!))).join(', ')})`).join(', ')})
      t(rid, SOURCE_SYSTEM, CUSTOMER_ID, FIRST_NAME, LAST_NAME, EMAIL_ADDRESS, PHONE_NUMBER, DATE_OF_BIRTH, ADDRESS_LINE_1, CITY, STATE_CODE, ZIP_CODE, COUNTRY_CODE, GENDER)`);
    const r = await compareStandardisation(['li@blocked.org', '+12125550100']);
    expect(r).toEqual({ records: rows.length, answered: rows.length - 3 });
  });
});

describe('similarity functions', () => {
  it('equal DuckDB jaro_winkler_similarity and damerau_levenshtein', async () => {
    const words = ['', 'a', 'ab', 'ba', 'martha', 'marhta', 'dixon', 'dicksonx', 'jones', 'johnson', 'abc', 'ca', 'jellyfish', 'smellyfish', 'robert', 'rupert', 'aaaa', 'aaab', 'katherine', 'catherine', 'kathryn', '19710624', '19716024', '17910624', 'zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz', 'zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz'];
    const names = (await engine.all<{ n: string }>(`SELECT DISTINCT lower(first_name) AS n FROM read_csv(${lit(join(DATA, 'fake_1000.csv'))}) WHERE first_name IS NOT NULL ORDER BY 1 LIMIT 120`)).map((r) => r.n);
    const all = [...words, ...names];
    const pairs = all.flatMap((a) => all.map((b) => [a, b] as [string, string]));
    await engine.run('CREATE OR REPLACE TABLE sim_pairs (a VARCHAR, b VARCHAR)');
    await engine.run(`INSERT INTO sim_pairs VALUES ${pairs.map(([a, b]) => `(${lit(a)}, ${lit(b)})`).join(', ')}`);
    const rows = await engine.all<{ a: string; b: string; jw: number; dl: string }>('SELECT a, b, jaro_winkler_similarity(a, b) AS jw, damerau_levenshtein(a, b) AS dl FROM sim_pairs');
    expect(rows.length).toBeGreaterThan(10_000);
    const differ = rows.filter((r) => jaroWinkler(r.a, r.b) !== r.jw || damerauLevenshtein(r.a, r.b) !== Number(r.dl));
    expect(differ).toEqual([]);
  });
});

describe('PairScorer', () => {
  it('scores every candidate pair of fake_1000 and FEBRL1 as comparisonSql + scoreSql + edgeSelectSql do', async () => {
    for (const f of ['fake_1000.csv', 'febrl1.csv']) {
      await loadPersonRecords(engine, join(DATA, f), 'id_input');
      // Fewer random pairs for u than the default: the model only has to be some trained model here.
      const res = await resolveIdentities(engine, 'id_input', { runId: 'r', maxRandomPairs: 20_000 });
      const present = new Set((await engine.all<{ column_name: string }>('SELECT column_name FROM (DESCRIBE id_std)')).map((c) => c.column_name));
      const parts = {
        comparisons: COMPARISONS.filter((c) => res.comparisons.includes(c.name)),
        rules: res.blockingRules.map((r) => BLOCKING_RULES.find((b) => b.name === r.name)!),
        deterministic: DETERMINISTIC_RULES.filter((d) => d.requires.every((c) => present.has(c))),
      };
      const cols = [...present].filter((c) => c !== 'rid');
      const std = await rowsByRid('id_std');
      const asArray = (rid: number) => cols.map((c) => {
        const v = std.get(rid)![c];
        return v === undefined ? null : (v as string | number | boolean | null);
      });
      const scorer = new PairScorer(parts, res.params, 0.5, cols);
      const { edgeSelectSql } = await import('../src/identity/incremental.ts');
      const { dobTolerantSql } = await import('../src/identity/resolve.ts');
      const want = await engine.all<Record<string, unknown>>(`SELECT ${edgeSelectSql(parts.comparisons, res.params)}, ${dobTolerantSql(parts.comparisons, res.params, 0.5)} AS dob_tolerant
        FROM id_scored WHERE det_rule IS NOT NULL OR match_probability >= 0.5`);
      const pairs = await engine.all<{ rid_l: string; rid_r: string; rule: number }>('SELECT rid_l, rid_r, rule FROM id_pairs');
      const got = new Map<string, Record<string, unknown>>();
      for (const p of pairs) {
        const e = scorer.score(Number(p.rid_l), asArray(Number(p.rid_l)), Number(p.rid_r), asArray(Number(p.rid_r)), Number(p.rule));
        if (e) got.set(`${p.rid_l},${p.rid_r}`, { ...Object.fromEntries(scorer.columns.map((c, i) => [c, e.values[i]])), dob_tolerant: e.dobTolerant });
      }
      expect(got.size, f).toBe(want.length);
      expect(want.length).toBeGreaterThan(300);
      let lastBits = 0;
      const differ: unknown[] = [];
      for (const w of want) {
        const g = got.get(`${w.rid_l},${w.rid_r}`);
        if (!g) {
          differ.push({ missing: [w.rid_l, w.rid_r] });
          continue;
        }
        for (const c of [...scorer.columns, 'dob_tolerant']) {
          const a = g[c];
          const b = typeof w[c] === 'bigint' || c.startsWith('g_') || c === 'rid_l' || c === 'rid_r' || c === 'rule' ? Number(w[c]) : (w[c] ?? null);
          if (typeof a === 'number' && typeof b === 'number' && !Number.isInteger(b)) {
            if (a !== b) lastBits++;
            if (Math.abs(a - b) > 1e-12 * Math.max(1, Math.abs(b))) differ.push({ pair: [w.rid_l, w.rid_r], c, a, b });
          } else if (a !== b) differ.push({ pair: [w.rid_l, w.rid_r], c, a, b });
        }
      }
      expect(differ, f).toEqual([]);
      // Bit-for-bit on most values; the rest within the last bits.
      expect(lastBits).toBeLessThan(want.length * 3);
    }
  });
});
