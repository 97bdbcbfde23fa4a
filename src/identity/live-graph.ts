// The identity graph held in memory for linking records one small batch at a time (the streaming consumer): the
// standardised values of every record, value -> records indexes for the blocking keys and term frequencies, each
// person's records, and the stored links. A batch never scans the graph's tables and runs no DuckDB statement until
// its commit: records are standardised in TypeScript (standardise-record.ts; a record it cannot be sure of, e.g.
// non-ASCII text, goes through standardise.ts's SQL), candidates come from the indexes, comparison levels, weights
// and link flags are the model's own SQL evaluated in TypeScript (score-pairs.ts), clustering is the same TypeScript,
// and the graph file gets one transaction that appends and updates by record number. The result is the one
// updateGraph's incremental path gives for the same batch (test/identity-live-graph.test.ts compares the two; match
// probabilities may differ in the last bits, see score-pairs.ts).
//
// Memory grows with the graph: every record's match keys, one index entry per distinct (column, value), one entry
// per link. Overrides are the ones stored with the graph; a batch that changes them goes through updateGraph.
import { createHash } from 'node:crypto';
import type { Engine } from '../engine/duckdb.ts';
import { lit } from '../engine/duckdb.ts';
import { appendRows, appendTyped, stageType, type Cell, type StageType } from './append.ts';
import { deriveChanges, type TouchedRecord } from './changes.ts';
import { cluster, type ClusterOptions } from './cluster.ts';
import { hasRecords, modelParts, RAW_COLUMNS, readModel, type GraphModel, type ModelParts } from './graph.ts';
import { assignIds, keyOf, type RecordKey, type RegistryRow, type RetiredRow } from './ids.ts';
import {
  ledgerFor, matchRule, prepareBatch, storedOverrides,
  type LedgerEdge, type UpdateResult,
} from './incremental.ts';
import type { Overrides } from './overrides.ts';
import { dobTolerantSql } from './resolve.ts';
import { PairScorer, type ScoredEdge } from './score-pairs.ts';
import { RECORD_STD_COLUMNS, standardiseRecord } from './standardise-record.ts';
import { standardise, TF_COLUMNS } from './standardise.ts';

type Val = string | boolean | null;
const DAY = 86_400_000;
/** Columns with few distinct values: one string object per value is shared by every record holding it. */
const INTERNED = new Set(['tenant_id', 'source_system', 'fn', 'ln', 'city', 'state', 'zip', 'country', 'gender', 'fn_canon', 'fn_sdx', 'ln_sdx', 'dob', 'dob_str', 'det_rule']);

/** How to find a rule's candidates: records whose `col[i]` equals the new record's `from[i]`, for every i. */
interface Lookup {
  col: string[];
  from: string[];
}

/** Equalities `l.X = r.Y` joined by AND: the only shape of key-less rule the indexes can answer. */
function lookupOf(rule: ModelParts['rules'][number]): Lookup {
  if (rule.keys.length > 0) return { col: [...rule.keys], from: [...rule.keys] };
  const parts = (rule.on ?? '').split(/\s+AND\s+/i).map((p) => /^\s*l\.(\w+)\s*=\s*r\.(\w+)\s*$/.exec(p));
  if (!rule.on || parts.some((m) => !m)) throw new Error(`Blocking rule '${rule.name}' is not an equality rule the in-memory graph can index`);
  // The stored record takes r's place: r.Y = new.X.
  return { col: parts.map((m) => m![2]!), from: parts.map((m) => m![1]!) };
}

/** A blocking rule as a test on two records (l the lower record number, as blockingSql orients keyed rules). */
type Rec = readonly Val[];
function ruleTest(rule: ModelParts['rules'][number], at: (col: string) => number): (l: Rec, r: Rec) => boolean {
  const conds = (rule.on ?? '').split(/\s+AND\s+/i).filter((p) => p.trim()).map((p) => {
    const m = /^\s*l\.(\w+)\s*(=|<>)\s*r\.(\w+)\s*$/.exec(p);
    if (!m) throw new Error(`Blocking rule '${rule.name}' has a condition the in-memory graph cannot evaluate: ${p}`);
    return { x: at(m[1]!), eq: m[2] === '=', y: at(m[3]!) };
  });
  const keys = rule.keys.map(at);
  const on = (l: Rec, r: Rec) => conds.every((c) => {
    const a = l[c.x] ?? null;
    const b = r[c.y] ?? null;
    return a !== null && b !== null && (c.eq ? a === b : a !== b);
  });
  return (l, r) => {
    for (const k of keys) {
      const a = l[k] ?? null;
      if (a === null || a !== r[k]) return false;
    }
    // A key-less rule is taken in both orientations (blockingSql adds the swapped one).
    return keys.length === 0 ? on(l, r) || on(r, l) : on(l, r);
  };
}

/**
 * One transaction sent to DuckDB as one multi-statement text: a small batch's ten statements cost one call instead
 * of ten. On an error DuckDB stops at the failing statement with the transaction open; it is rolled back.
 */
async function commitInOneCall(engine: Engine, statements: readonly string[]): Promise<void> {
  try {
    await engine.run(['BEGIN TRANSACTION', ...statements, 'COMMIT'].join(';\n'));
  } catch (e) {
    await engine.run('ROLLBACK').catch(() => undefined);
    throw e;
  }
}

/** Rows of a table at most this long go into the commit as VALUES, longer ones through a staging table. */
const INLINE_ROWS = 16;

/** A value as a SQL literal of its staging type (a DOUBLE as its shortest round-trip text: the same double). */
function literal(v: Cell, type: StageType): string {
  if (v === null || v === undefined) return 'NULL';
  if (type === 'BIGINT') return String(v);
  if (type === 'DOUBLE') return `CAST('${String(v)}' AS DOUBLE)`;
  if (type === 'BOOLEAN') return v ? 'TRUE' : 'FALSE';
  return lit(String(v));
}

const rawKey = (vals: readonly (string | null)[]) => createHash('md5').update(JSON.stringify(vals)).digest('base64');
const recordKey = (tenant: string, source: string, id: string) => `${tenant}\u0001${source}\u0001${id}`;

export interface LiveUpdateOptions {
  runId: string;
  /** Tenant of records without a TENANT_ID. */
  tenant?: string;
  at?: string;
  cluster?: ClusterOptions;
  /** Statements run inside the commit transaction (a stream consumer's positions). */
  commitSql?: string[];
}

export class LiveGraph {
  private model!: GraphModel;
  private parts!: ModelParts;
  private overrides!: Overrides;
  private lookups: Lookup[] = [];
  /**
   * Per two-column lookup whose columns are both common values (a first name and a surname, a postcode and a
   * surname code): an index on the pair, tenant -> value 1 -> value 2 -> record numbers, so a candidate search does
   * not walk thousands of records that share only one of them. Undefined for the other lookups.
   */
  private pairIndex: (Map<string, Map<string, Map<string, number | number[]>>> | undefined)[] = [];
  /** Per lookup, its columns' positions in `columns`. */
  private lookupAt: number[][] = [];
  private tests: ((l: Rec, r: Rec) => boolean)[] = [];
  private tenantAt = -1;
  /** Per column: whether it is held in memory (see load). */
  private kept: boolean[] = [];
  /** The store's column arrays in `columns` order. */
  private colArrays: Val[][] = [];
  /** g.records columns other than rid and customer360_id, with their types. */
  private columns: { name: string; type: string }[] = [];
  private store = new Map<string, Val[]>();
  private ids: (string | undefined)[] = [];
  private members = new Map<string, number[]>();
  /** column -> tenant -> value -> record numbers (a single number when one record holds the value). */
  private index = new Map<string, Map<string, Map<string, number | number[]>>>();
  private totals = new Map<string, number>();
  private keyRid = new Map<string, number>();
  private raw: string[] = [];
  private nextRid = 0;
  /** The last change event's SEQ. */
  private seq = 0;
  private count = 0;
  // Links: parallel arrays, adjacency by record number.
  private eL: number[] = [];
  private eR: number[] = [];
  private eAlways: boolean[] = [];
  private eDet: (string | null)[] = [];
  private eConflict: boolean[] = [];
  private eNameOnly: boolean[] = [];
  private eDobTolerant: boolean[] = [];
  private eP: number[] = [];
  private eDecision: (string | null)[] = [];
  private eAlive: boolean[] = [];
  private adj: (number[] | undefined)[] = [];
  private retired: RetiredRow[] = [];
  private retiredIds = new Set<string>();
  private interned = new Map<string, Map<string, string>>();
  /** Per column of `columns`: its index and its interned values (undefined when it has none); see setRecord. */
  private colIndex: (Map<string, Map<string, number | number[]>> | undefined)[] = [];
  private colInterned: (Map<string, string> | undefined)[] = [];
  private scorer!: PairScorer;
  /** Whether standardiseRecord yields every stored column (else every batch is standardised by the SQL). */
  private tsStandardise = false;
  /** Staging tables: their columns and types. */
  private stages = new Map<string, { columns: string[]; types: StageType[] }>();
  /** Records standardised by the SQL because the TypeScript standardiser could not be sure (non-ASCII, odd dates). */
  sqlStandardised = 0;

  private constructor() {}

  /** Loads the graph attached as `g` (openGraph); it must hold a model (built by a first or full run). */
  static async load(engine: Engine, options: { pairIndexMinPostings?: number } = {}): Promise<LiveGraph> {
    if (!(await hasRecords(engine))) throw new Error('The identity graph is empty: build it first (c360 resolve --incremental)');
    const g = new LiveGraph();
    g.model = (await readModel(engine))!;
    g.parts = modelParts(g.model);
    g.overrides = await storedOverrides(engine, g.model.block);
    g.lookups = g.parts.rules.map(lookupOf);
    const indexed = new Set([...TF_COLUMNS, ...g.lookups.flatMap((l) => l.col)]);
    for (const c of indexed) g.index.set(c, new Map());
    const desc = await engine.all<{ column_name: string; column_type: string }>('SELECT column_name, column_type FROM (DESCRIBE g.records)');
    g.columns = desc.filter((d) => d.column_name !== 'rid' && d.column_name !== 'customer360_id').map((d) => ({ name: d.column_name, type: d.column_type }));
    for (const c of g.columns) g.store.set(c.name, []);
    g.colArrays = g.columns.map((c) => g.store.get(c.name)!);
    g.tenantAt = g.columns.findIndex((c) => c.name === 'tenant_id');
    const at = (col: string) => {
      const i = g.columns.findIndex((c) => c.name === col);
      if (i < 0) throw new Error(`Blocking rule column ${col} is not stored in the graph`);
      return i;
    };
    g.tests = g.parts.rules.map((r) => ruleTest(r, at));
    g.scorer = new PairScorer(g.parts, g.model.params, g.model.threshold, [...g.columns.map((c) => c.name), ...TF_COLUMNS.map((c) => `tf_${c}`)]);
    // Only what a batch reads is held: the model's columns, the blocking keys, term-frequency columns, record keys and
    // clustering's birth date and e-mail key (the others, e.g. email_norm or gender, are never compared).
    const kept = new Set([...g.scorer.reads, ...indexed, 'tenant_id', 'source_system', 'customer_id', 'dob', 'email_key',
      ...g.parts.rules.flatMap((r) => [...(r.on ?? '').matchAll(/\b[lr]\.(\w+)/g)].map((m) => m[1]!))]);
    g.kept = g.columns.map((c) => kept.has(c.name));
    const sel = g.columns.map((c) => (!kept.has(c.name) ? `NULL AS ${c.name}` : c.type === 'BOOLEAN' || c.type === 'VARCHAR' ? c.name : `CAST(${c.name} AS VARCHAR) AS ${c.name}`));
    await g.scan(engine, `SELECT rid::INTEGER AS rid, customer360_id, ${sel.join(', ')} FROM g.records`, (row) => {
      const rid = row[0] as number;
      g.setRecord(rid, row.slice(2) as Val[]);
      g.setId(rid, row[1] as string);
      g.count++;
    });
    g.lookupAt = g.lookups.map((lk) => lk.col.map(at));
    // Pair indexes where the shorter of the two postings lists averages 32 records or more (the option: tests).
    const minPostings = options.pairIndexMinPostings ?? 32;
    const meanPostings = (col: string) => {
      let values = 0;
      for (const m of g.index.get(col)?.values() ?? []) values += m.size;
      return g.count / Math.max(1, values);
    };
    g.pairIndex = g.lookups.map((lk) => (lk.col.length === 2 && Math.min(...lk.col.map(meanPostings)) >= minPostings ? new Map() : undefined));
    for (let rid = 0; rid < g.ids.length; rid++) if (g.ids[rid] !== undefined) g.pairIndexAdd(rid);
    await g.scan(engine, `SELECT rid::INTEGER AS rid, ${RAW_COLUMNS.join(', ')} FROM g.raw`, (row) => {
      const rid = row[0] as number;
      const vals = row.slice(1) as (string | null)[];
      g.raw[rid] = rawKey(vals);
      g.keyRid.set(recordKey(vals[RAW_COLUMNS.indexOf('TENANT_ID')]!, vals[RAW_COLUMNS.indexOf('SOURCE_SYSTEM')]!, vals[RAW_COLUMNS.indexOf('CUSTOMER_ID')]!), rid);
      g.nextRid = Math.max(g.nextRid, rid + 1);
    });
    const dobTolerant = dobTolerantSql(g.parts.comparisons, g.model.params, g.model.threshold);
    await g.scan(engine, `SELECT rid_l::INTEGER, rid_r::INTEGER, always, det_rule, name_conflict, name_only, match_probability, decision, ${dobTolerant} FROM g.edges`, (row) => {
      g.addEdge(row[0] as number, row[1] as number, row[2] as boolean, row[3] as string | null, row[4] as boolean, row[5] as boolean, row[6] as number, row[7] as string | null, row[8] === true);
    });
    g.seq = Number(await engine.scalar('SELECT coalesce(max(SEQ), 0) FROM g.changes'));
    g.retired = await engine.all<RetiredRow>('SELECT TENANT_ID, RETIRED_ID, SURVIVOR_ID, RUN_ID, REASON FROM g.retired');
    for (const r of g.retired) g.retiredIds.add(r.RETIRED_ID);
    g.tsStandardise = g.columns.every((c) => RECORD_STD_COLUMNS.includes(c.name));
    // Staging tables for a batch's rows (see apply).
    const edgeTypes = new Map((await engine.all<{ column_name: string; column_type: string }>('SELECT column_name, column_type FROM (DESCRIBE g.edges)')).map((d) => [d.column_name, d.column_type]));
    const edgeCols = [...g.scorer.columns, 'decision'];
    const stages: [string, string[], StageType[]][] = [
      ['id_live_raw_new', ['rid', ...RAW_COLUMNS], ['BIGINT', ...RAW_COLUMNS.map((): StageType => 'VARCHAR')]],
      ['id_live_rec_new', ['rid', ...g.columns.map((c) => c.name), 'customer360_id'], ['BIGINT', ...g.columns.map((c): StageType => (c.type === 'BOOLEAN' ? 'BOOLEAN' : 'VARCHAR')), 'VARCHAR']],
      ['id_live_edge_new', edgeCols, edgeCols.map((c) => stageType(edgeTypes.get(c) ?? 'VARCHAR'))],
      ['id_live_moved_new', ['rid', 'customer360_id'], ['BIGINT', 'VARCHAR']],
      ['id_live_decision_new', ['rid_l', 'rid_r', 'decision'], ['BIGINT', 'BIGINT', 'VARCHAR']],
      ['id_live_changes_new', ['SEQ', 'EVENT_ID', 'TYPE', 'TENANT_ID', 'RUN_ID', 'EVENT_AT', 'EVENT'], ['BIGINT', 'VARCHAR', 'VARCHAR', 'VARCHAR', 'VARCHAR', 'VARCHAR', 'VARCHAR']],
    ];
    for (const [name, columns, types] of stages) {
      g.stages.set(name, { columns, types });
      await engine.run(`CREATE OR REPLACE TEMP TABLE ${name} (${columns.map((c, i) => `${c} ${types[i]}`).join(', ')})`);
    }
    return g;
  }

  get records(): number {
    return this.count;
  }

  /** The SEQ of the last change event committed (a batch's events take the SEQs up to it). */
  get lastSeq(): number {
    return this.seq;
  }

  private async scan(engine: Engine, sql: string, each: (row: unknown[]) => void): Promise<void> {
    const result = await engine.connection.stream(sql);
    for await (const rows of result.yieldRowsJs()) for (const row of rows) each(row as unknown[]);
  }

  private intern(col: string, v: Val): Val {
    if (typeof v !== 'string' || !INTERNED.has(col)) return v;
    let m = this.interned.get(col);
    if (!m) this.interned.set(col, (m = new Map()));
    const s = m.get(v);
    if (s !== undefined) return s;
    m.set(v, v);
    return v;
  }

  private get(col: string, rid: number): Val {
    return this.store.get(col)![rid] ?? null;
  }

  /** Stores a record's values (in `columns` order) and indexes them. */
  private setRecord(rid: number, vals: readonly Val[]): void {
    const tenant = vals[this.tenantAt] as string;
    if (this.colIndex.length !== this.columns.length) {
      // Per column, looked up once: its interned values and its index (loading calls this a million times).
      this.colIndex = this.columns.map((c) => this.index.get(c.name));
      this.colInterned = this.columns.map((c) => {
        if (!INTERNED.has(c.name)) return undefined;
        let m = this.interned.get(c.name);
        if (!m) this.interned.set(c.name, (m = new Map()));
        return m;
      });
    }
    for (let i = 0; i < this.columns.length; i++) {
      if (!this.kept[i]) continue;
      let v = vals[i] ?? null;
      const interned = this.colInterned[i];
      if (interned && typeof v === 'string') {
        const s = interned.get(v);
        if (s === undefined) interned.set(v, v);
        else v = s;
      }
      this.colArrays[i]![rid] = v;
      const byTenant = this.colIndex[i];
      if (!byTenant || typeof v !== 'string') continue;
      let m = byTenant.get(tenant);
      if (!m) byTenant.set(tenant, (m = new Map()));
      const cur = m.get(v);
      if (cur === undefined) m.set(v, rid);
      else if (typeof cur === 'number') m.set(v, [cur, rid]);
      else cur.push(rid);
    }
    this.totals.set(tenant, (this.totals.get(tenant) ?? 0) + 1);
    if (this.pairIndex.length) this.pairIndexAdd(rid);
  }

  /** Calls `fn` for each pair index whose two blocking values the record has (both strings). */
  private forEachPairKey(rid: number, fn: (byTenant: Map<string, Map<string, Map<string, number | number[]>>>, tenant: string, x: string, y: string) => void): void {
    const tenant = this.colArrays[this.tenantAt]![rid] as string;
    this.pairIndex.forEach((byTenant, li) => {
      if (!byTenant) return;
      const [a, b] = this.lookupAt[li]!;
      const x = this.colArrays[a!]![rid];
      const y = this.colArrays[b!]![rid];
      if (typeof x === 'string' && typeof y === 'string') fn(byTenant, tenant, x, y);
    });
  }

  private pairIndexAdd(rid: number): void {
    this.forEachPairKey(rid, (byTenant, tenant, x, y) => {
      let t = byTenant.get(tenant);
      if (!t) byTenant.set(tenant, (t = new Map()));
      let m = t.get(x);
      if (!m) t.set(x, (m = new Map()));
      const cur = m.get(y);
      m.set(y, cur === undefined ? rid : typeof cur === 'number' ? [cur, rid] : (cur.push(rid), cur));
    });
  }

  private pairIndexRemove(rid: number): void {
    this.forEachPairKey(rid, (byTenant, tenant, x, y) => {
      const m = byTenant.get(tenant)?.get(x);
      const cur = m?.get(y);
      if (cur === rid) m!.delete(y);
      else if (Array.isArray(cur)) {
        const rest = cur.filter((z) => z !== rid);
        m!.set(y, rest.length === 1 ? rest[0]! : rest);
      }
    });
  }

  private unsetRecord(rid: number): void {
    this.pairIndexRemove(rid);
    const tenant = this.get('tenant_id', rid) as string;
    for (const c of this.columns) {
      const v = this.get(c.name, rid);
      const m = this.index.get(c.name)?.get(tenant);
      if (!m || typeof v !== 'string') continue;
      const cur = m.get(v);
      if (cur === rid) m.delete(v);
      else if (Array.isArray(cur)) {
        const rest = cur.filter((x) => x !== rid);
        if (rest.length === 1) m.set(v, rest[0]!);
        else m.set(v, rest);
      }
    }
    this.totals.set(tenant, (this.totals.get(tenant) ?? 1) - 1);
  }

  /** Records holding value v in column col (a single record number, a list, or undefined). */
  private posting(col: string, tenant: string, v: Val): number | number[] | undefined {
    return typeof v === 'string' ? this.index.get(col)?.get(tenant)?.get(v) : undefined;
  }

  private postingCount(col: string, tenant: string, v: Val): number {
    const cur = this.posting(col, tenant, v);
    return cur === undefined ? 0 : typeof cur === 'number' ? 1 : cur.length;
  }

  private setId(rid: number, id: string): void {
    const before = this.ids[rid];
    if (before === id) return;
    if (before !== undefined) {
      const list = this.members.get(before)!.filter((x) => x !== rid);
      if (list.length) this.members.set(before, list);
      else this.members.delete(before);
    }
    this.ids[rid] = id;
    const list = this.members.get(id);
    if (list) list.push(rid);
    else this.members.set(id, [rid]);
  }

  private addEdge(l: number, r: number, always: boolean, det: string | null, conflict: boolean, nameOnly: boolean, p: number, decision: string | null, dobTolerant: boolean): void {
    const i = this.eL.length;
    this.eL.push(l);
    this.eR.push(r);
    this.eAlways.push(always);
    this.eDet.push(det === null ? null : (this.intern('det_rule', det) as string));
    this.eConflict.push(conflict);
    this.eNameOnly.push(nameOnly);
    this.eDobTolerant.push(dobTolerant);
    this.eP.push(p);
    this.eDecision.push(decision);
    this.eAlive.push(true);
    (this.adj[l] ??= []).push(i);
    (this.adj[r] ??= []).push(i);
  }

  private dropEdgesOf(rid: number): void {
    for (const i of this.adj[rid] ?? []) {
      if (!this.eAlive[i]) continue;
      this.eAlive[i] = false;
      const other = this.eL[i] === rid ? this.eR[i]! : this.eL[i]!;
      this.adj[other] = this.adj[other]?.filter((x) => x !== i);
    }
    this.adj[rid] = undefined;
  }

  /**
   * Links a batch (table `input`, CUSTOMERS-shaped with an integer `rid`) as updateGraph's incremental path does,
   * committing with `commitSql` in the same transaction. On an error nothing in memory changed.
   */
  async update(engine: Engine, input: string, options: LiveUpdateOptions): Promise<UpdateResult> {
    const t = Date.now();
    await prepareBatch(engine, input, options.tenant ?? 'default');
    const rows = await engine.all<Record<string, string | null>>('SELECT * FROM id_batch');
    return this.apply(engine, rows.map((row) => RAW_COLUMNS.map((c) => row[c] ?? null)), options, Date.now() - t);
  }

  /**
   * The same for records already in memory (each a RAW_COLUMNS-ordered list of values, in arrival order), prepared
   * as prepareBatch does: values trimmed of spaces, blanks as null, the default tenant and source system, a missing
   * customer id as ROW- and a hash of the values, the last record of a key winning (at its own position).
   */
  async updateRows(engine: Engine, rows: readonly (readonly (string | null)[])[], options: LiveUpdateOptions): Promise<UpdateResult> {
    const t = Date.now();
    const tenant = options.tenant ?? 'default';
    const [iT, iS, iC] = ['TENANT_ID', 'SOURCE_SYSTEM', 'CUSTOMER_ID'].map((c) => RAW_COLUMNS.indexOf(c as (typeof RAW_COLUMNS)[number]));
    const last = new Map<string, number>();
    const prepared = rows.map((row, pos) => {
      const vals = row.map((v) => (v === null ? null : v.replace(/^ +| +$/g, '') || null));
      vals[iT!] ??= tenant;
      vals[iS!] ??= 'DEFAULT';
      if (vals[iC!] === null) {
        const other = vals.filter((v, i) => i !== iT && i !== iS && i !== iC && v !== null);
        vals[iC!] = `ROW-${createHash('md5').update(other.join('|')).digest('hex').slice(0, 16)}`;
      }
      last.set(recordKey(vals[iT!]!, vals[iS!]!, vals[iC!]!), pos);
      return vals;
    });
    return this.apply(engine, prepared.filter((v, pos) => last.get(recordKey(v[iT!]!, v[iS!]!, v[iC!]!)) === pos), options, Date.now() - t);
  }

  private async apply(engine: Engine, batchRows: (string | null)[][], options: LiveUpdateOptions, prepareMs: number): Promise<UpdateResult> {
    const timings: Record<string, number> = {};
    let t = Date.now() - prepareMs;
    const step = (name: string) => {
      timings[name] = Date.now() - t;
      t = Date.now();
    };
    const tenant = options.tenant ?? 'default';
    const at = options.at ?? new Date().toISOString();
    const { comparisons, rules, deterministic } = this.parts;
    const model = this.model;
    const batch = batchRows.length;
    const [iT, iS, iC] = ['TENANT_ID', 'SOURCE_SYSTEM', 'CUSTOMER_ID'].map((c) => RAW_COLUMNS.indexOf(c as (typeof RAW_COLUMNS)[number]));

    // New records take the next record numbers in batch order; changed ones keep theirs; unchanged ones drop out.
    let next = this.nextRid;
    const deltaRaw: { rid: number; existed: boolean; vals: (string | null)[]; key: string; hash: string }[] = [];
    for (const vals of batchRows) {
      const key = recordKey(vals[iT!]!, vals[iS!]!, vals[iC!]!);
      const hash = rawKey(vals);
      const rid = this.keyRid.get(key);
      if (rid !== undefined && this.raw[rid] === hash) continue;
      deltaRaw.push({ rid: rid ?? next++, existed: rid !== undefined, vals, key, hash });
    }
    deltaRaw.sort((a, b) => a.rid - b.rid);
    const newRecords = deltaRaw.filter((d) => !d.existed).length;
    const changedRecords = deltaRaw.length - newRecords;
    step('prepare');
    if (deltaRaw.length === 0) {
      await commitInOneCall(engine, options.commitSql ?? []);
      return { mode: 'incremental', batch, newRecords: 0, changedRecords: 0, unchangedRecords: batch, candidates: 0, newEdges: 0, reclustered: 0, events: [], graphRecords: this.count, timingsMs: timings };
    }
    // Standardised in TypeScript as the SQL would; a record it cannot be sure of goes through the SQL (standardise.ts).
    const blocklist = [...new Set([...model.block, ...this.overrides.block])];
    const today = new Date().toISOString().slice(0, 10);
    const deltaStd: unknown[][] = [];
    const viaSql: typeof deltaRaw = [];
    for (const d of deltaRaw) {
      const std = this.tsStandardise ? standardiseRecord(d.vals, { tenant, blocklist, today }) : null;
      if (std) deltaStd.push([d.rid, ...this.columns.map((c) => std[c.name] ?? null)]);
      else viaSql.push(d);
    }
    if (viaSql.length) {
      await engine.run(`CREATE OR REPLACE TABLE id_delta_raw (rid BIGINT, ${RAW_COLUMNS.map((c) => `${c} VARCHAR`).join(', ')})`);
      await appendRows(engine, 'id_delta_raw', viaSql.map((d) => [d.rid, ...d.vals]));
      await standardise(engine, 'id_delta_raw', { tenant, blocklist, termFrequencies: false });
      const sel = this.columns.map((c) => (c.type === 'BOOLEAN' || c.type === 'VARCHAR' ? c.name : `CAST(${c.name} AS VARCHAR) AS ${c.name}`));
      deltaStd.push(...((await (await engine.connection.runAndReadAll(`SELECT rid::INTEGER AS rid, ${sel.join(', ')} FROM id_std ORDER BY rid`)).getRowsJS()) as unknown[][]));
      deltaStd.sort((a, b) => (a[0] as number) - (b[0] as number));
    }
    this.sqlStandardised += viaSql.length;
    const col = new Map(this.columns.map((c, i) => [c.name, i + 1]));
    const dv = (row: unknown[], name: string) => (row[col.get(name)!] ?? null) as Val;
    const deltaRids = new Set(deltaStd.map((r) => r[0] as number));
    step('standardise');

    // Candidates: stored records sharing a blocking key with a delta record (the tenant is part of every key), and
    // the candidate pairs (each delta record with its candidates and with other delta records), labelled with the
    // first rule they satisfy, as blockingSql would over the batch and its candidates.
    const cand = new Set<number>();
    const found: [number, number][] = [];
    const local = this.lookups.map((lk) => {
      const m = new Map<string, number[]>();
      for (const d of deltaStd) {
        const vals = lk.col.map((c) => dv(d, c));
        if (vals.some((v) => v === null)) continue;
        const k = `${dv(d, 'tenant_id')}\u0001${vals.join('\u0001')}`;
        const list = m.get(k);
        if (list) list.push(d[0] as number);
        else m.set(k, [d[0] as number]);
      }
      return m;
    });
    const visit = (list: number | number[] | undefined, li: number, rid: number, want: readonly Val[]) => {
      if (list === undefined) return;
      const at = this.lookupAt[li]!;
      const one = (c: number) => {
        if (deltaRids.has(c)) return;
        for (let i = 0; i < at.length; i++) if (this.colArrays[at[i]!]![c] !== want[i]) return;
        cand.add(c);
        found.push([c, rid]);
      };
      if (typeof list === 'number') one(list);
      else for (let i = 0; i < list.length; i++) one(list[i]!);
    };
    // Per lookup: where its values sit in a delta row, and its columns' indexes.
    const fromPos = this.lookups.map((lk) => lk.from.map((f) => col.get(f)!));
    const colIndex = this.lookups.map((lk) => lk.col.map((c) => this.index.get(c)));
    const tenantPos = col.get('tenant_id')!;
    for (const d of deltaStd) {
      const rid = d[0] as number;
      const tn = d[tenantPos] as string;
      for (let li = 0; li < this.lookups.length; li++) {
        const pos = fromPos[li]!;
        const want: Val[] = new Array<Val>(pos.length);
        let missing = false;
        for (let i = 0; i < pos.length; i++) if ((want[i] = (d[pos[i]!] ?? null) as Val) === null) missing = true;
        if (missing) continue;
        const pairs = this.pairIndex[li];
        if (pairs) visit(pairs.get(tn)?.get(want[0] as string)?.get(want[1] as string), li, rid, want);
        else {
          // The shortest postings list among the lookup's columns, checked against the others.
          let best: number | number[] | undefined;
          let bestN = Infinity;
          const idx = colIndex[li]!;
          for (let i = 0; i < idx.length; i++) {
            const p = typeof want[i] === 'string' ? idx[i]?.get(tn)?.get(want[i] as string) : undefined;
            const n = p === undefined ? 0 : typeof p === 'number' ? 1 : p.length;
            if (n < bestN) {
              best = p;
              bestN = n;
            }
            if (n === 0) break;
          }
          visit(best, li, rid, want);
        }
        for (const o of local[li]!.get(`${tn}\u0001${want.join('\u0001')}`) ?? []) if (o !== rid) found.push([o, rid]);
      }
    }
    const deltaByRid = new Map(deltaStd.map((d) => [d[0] as number, d]));
    // Term frequencies from the graph's current values: stored minus the changed records' old values, plus the delta.
    // Per term-frequency column: tenant -> value -> change in count (no string keys built per lookup).
    const adjust = TF_COLUMNS.map(() => new Map<string, Map<string, number>>());
    const bump = (i: number, tn: string, v: Val, by: number) => {
      if (typeof v !== 'string') return;
      let m = adjust[i]!.get(tn);
      if (!m) adjust[i]!.set(tn, (m = new Map()));
      m.set(v, (m.get(v) ?? 0) + by);
    };
    const totals = new Map(this.totals);
    for (const d of deltaStd) {
      const rid = d[0] as number;
      const tn = dv(d, 'tenant_id') as string;
      if (this.ids[rid] !== undefined) {
        TF_COLUMNS.forEach((c, i) => bump(i, tn, this.get(c, rid), -1));
      } else totals.set(tn, (totals.get(tn) ?? 0) + 1);
      TF_COLUMNS.forEach((c, i) => bump(i, tn, dv(d, c), 1));
    }
    // Each record of a pair as the scorer (and the rule tests) read it: its standardised values in `columns` order (the
    // delta's new values), then its term frequencies. A value's frequency is computed once per batch (candidates
    // share cities, names and birth dates).
    const scored = new Map<number, (Val | number)[]>();
    const tfAt = TF_COLUMNS.map((c) => this.columns.findIndex((x) => x.name === c));
    const tfIndex = TF_COLUMNS.map((c) => this.index.get(c));
    const tfSeen = TF_COLUMNS.map(() => new Map<string, Map<string, number | null>>());
    const tenantAt = this.tenantAt;
    const ncol = this.columns.length;
    const asScored = (rid: number): (Val | number)[] => {
      let x = scored.get(rid);
      if (x) return x;
      const d = deltaByRid.get(rid);
      x = new Array<Val | number>(ncol + TF_COLUMNS.length);
      if (d) for (let i = 0; i < ncol; i++) x[i] = (d[i + 1] ?? null) as Val;
      else for (let i = 0; i < ncol; i++) x[i] = this.colArrays[i]![rid] ?? null;
      const tn = x[tenantAt] as string;
      const total = totals.get(tn)!;
      for (let i = 0; i < TF_COLUMNS.length; i++) {
        const v = x[tfAt[i]!] ?? null;
        if (typeof v !== 'string') {
          x[ncol + i] = null;
          continue;
        }
        let seen = tfSeen[i]!.get(tn);
        if (!seen) tfSeen[i]!.set(tn, (seen = new Map()));
        let tf = seen.get(v);
        if (tf === undefined) {
          const cur = tfIndex[i]?.get(tn)?.get(v);
          const n = (cur === undefined ? 0 : typeof cur === 'number' ? 1 : cur.length) + (adjust[i]!.get(tn)?.get(v) ?? 0);
          tf = n > 0 ? n / total : null;
          seen.set(v, tf);
        }
        x[ncol + i] = tf;
      }
      scored.set(rid, x);
      return x;
    };
    const pairs = new Map<number, [number, number, number]>();
    for (const [a, b] of found) {
      const lo = Math.min(a, b);
      const hi = Math.max(a, b);
      const k = lo * 4294967296 + hi;
      if (pairs.has(k)) continue;
      const rl = asScored(lo) as Rec;
      const rh = asScored(hi) as Rec;
      const rule = this.tests.findIndex((t) => t(rl, rh));
      if (rule >= 0) pairs.set(k, [lo, hi, rule]);
    }
    step('block');
    const newEdges: ScoredEdge[] = [];
    for (const [lo, hi, rule] of pairs.values()) {
      const e = this.scorer.score(lo, asScored(lo), hi, asScored(hi), rule);
      if (e) newEdges.push(e);
    }
    const ne = newEdges.map((e) => [e.rid_l, e.rid_r, e.always, e.det, e.conflict, e.nameOnly, e.p, e.dobTolerant] as [number, number, boolean, string | null, boolean, boolean, number, boolean]);
    step('score');

    // The people touched (of stored records the new links reach, and of changed records), their direct neighbours
    // over stored links, and the always-match partners of touched records (three rounds, as updateGraph).
    const touched = new Set<string>();
    for (const [l, r] of ne) for (const x of [l, r]) if (this.ids[x] !== undefined) touched.add(this.ids[x]!);
    for (const rid of deltaRids) if (this.ids[rid] !== undefined) touched.add(this.ids[rid]!);
    const neighbours = new Set<string>();
    for (const id of touched) {
      for (const m of this.members.get(id) ?? []) {
        for (const i of this.adj[m] ?? []) {
          const o = this.eL[i] === m ? this.eR[i]! : this.eL[i]!;
          const oid = this.ids[o];
          if (oid !== undefined && !touched.has(oid)) neighbours.add(oid);
        }
      }
    }
    for (const id of neighbours) touched.add(id);
    if (this.overrides.always.length) {
      const ridOf = (k: RecordKey) => this.keyRid.get(recordKey(k.tenant, k.source, k.customerId));
      for (let round = 0; round < 3; round++) {
        const add: string[] = [];
        for (const [a, b] of this.overrides.always) {
          const ends = [ridOf(a), ridOf(b)].filter((x): x is number => x !== undefined && this.ids[x] !== undefined);
          for (const x of ends) for (const y of ends) if (touched.has(this.ids[x]!) && !touched.has(this.ids[y]!)) add.push(this.ids[y]!);
        }
        for (const id of add) touched.add(id);
      }
    }
    // The working set, by record number: touched people's stored records, then the delta with its new values.
    const setRids = new Set<number>(deltaRids);
    for (const id of touched) for (const m of this.members.get(id) ?? []) setRids.add(m);
    const rids = [...setRids].sort((a, b) => a - b);
    const indexOf = new Map(rids.map((r, i) => [r, i]));
    const valueOf = (rid: number, c: string): Val => {
      const d = deltaByRid.get(rid);
      return d ? dv(d, c) : this.get(c, rid);
    };
    const records: RecordKey[] = rids.map((rid) => ({ tenant: String(valueOf(rid, 'tenant_id')), source: String(valueOf(rid, 'source_system')), customerId: String(valueOf(rid, 'customer_id')) }));
    const beforeIds = rids.map((rid) => this.ids[rid]);
    // Links among them: stored ones between stored records (a changed record's old links are replaced) and the new ones.
    type E = { l: number; r: number; always: boolean; det: string | null; conflict: boolean; nameOnly: boolean; dobTolerant: boolean; mp: number; stored: number };
    const edges: E[] = [];
    const seen = new Set<number>();
    for (const rid of rids) {
      if (deltaRids.has(rid)) continue;
      for (const i of this.adj[rid] ?? []) {
        if (seen.has(i)) continue;
        seen.add(i);
        const l = this.eL[i]!;
        const r = this.eR[i]!;
        if (!setRids.has(l) || !setRids.has(r) || deltaRids.has(l) || deltaRids.has(r)) continue;
        edges.push({ l, r, always: this.eAlways[i]!, det: this.eDet[i]!, conflict: this.eConflict[i]!, nameOnly: this.eNameOnly[i]!, dobTolerant: this.eDobTolerant[i]!, mp: this.eP[i]!, stored: i });
      }
    }
    for (const [l, r, always, det, conflict, nameOnly, mp, dobTolerant] of ne) {
      if (setRids.has(l) && setRids.has(r)) edges.push({ l, r, always, det, conflict, nameOnly, dobTolerant, mp, stored: -1 });
    }
    edges.sort((a, b) => Number(b.always) - Number(a.always) || Number(b.det !== null) - Number(a.det !== null) || b.mp - a.mp || a.l - b.l || a.r - b.r);
    step('gather');

    const key = (k: RecordKey) => keyOf(k);
    const byKey = new Map(records.map((k, i) => [key(k), i]));
    const pairsOf = (list: [RecordKey, RecordKey][]) =>
      list.flatMap(([a, b]) => {
        const x = byKey.get(key(a));
        const y = byKey.get(key(b));
        return x === undefined || y === undefined || x === y ? [] : [[Math.min(x, y), Math.max(x, y)] as [number, number]];
      });
    const alwaysPairs = pairsOf(this.overrides.always);
    const never = pairsOf(this.overrides.never);
    const m0 = edges.length;
    const m = m0 + alwaysPairs.length;
    const l = new Int32Array(m);
    const r = new Int32Array(m);
    const alwaysFlag = new Uint8Array(m);
    const prob = new Float64Array(m).fill(1);
    const nameConflict = new Uint8Array(m);
    const nameOnly = new Uint8Array(m);
    const dobTolerant = new Uint8Array(m);
    alwaysPairs.forEach(([a, b], i) => ((l[i] = a), (r[i] = b), (alwaysFlag[i] = 1)));
    edges.forEach((e, k) => {
      const j = alwaysPairs.length + k;
      l[j] = indexOf.get(e.l)!;
      r[j] = indexOf.get(e.r)!;
      alwaysFlag[j] = e.always ? 1 : 0;
      prob[j] = e.det !== null ? 1 : e.mp;
      nameConflict[j] = e.conflict ? 1 : 0;
      nameOnly[j] = e.nameOnly ? 1 : 0;
      dobTolerant[j] = e.dobTolerant ? 1 : 0;
    });
    const emailCode = new Map<string, number>();
    const result = cluster({
      n: rids.length,
      dob: rids.map((rid) => {
        const d = valueOf(rid, 'dob');
        return typeof d === 'string' ? Math.round(Date.parse(`${d}T00:00:00Z`) / DAY) : null;
      }),
      email: rids.map((rid) => {
        const e = valueOf(rid, 'email_key');
        if (typeof e !== 'string') return null;
        if (!emailCode.has(e)) emailCode.set(e, emailCode.size);
        return emailCode.get(e)!;
      }),
      edges: { l, r, always: alwaysFlag, probability: prob, nameConflict, nameOnly, dobTolerant },
      never,
    }, options.cluster);

    // Ids: the same rules as a full run over the touched people; a fresh id must not be one in use elsewhere.
    const prior: RegistryRow[] = [];
    records.forEach((k, i) => {
      if (beforeIds[i] !== undefined) prior.push({ TENANT_ID: k.tenant, SOURCE_SYSTEM: k.source, CUSTOMER_ID: k.customerId, CUSTOMER360_ID: beforeIds[i]! });
    });
    const tenants = new Set(records.map((k) => k.tenant));
    const retired = this.retired.filter((x) => tenants.has(x.TENANT_ID));
    const reserved: RetiredRow[] = [];
    const priorIds = new Set(prior.map((p) => p.CUSTOMER360_ID));
    let ids = assignIds(records, result.cluster, prior, retired, options.runId);
    for (let attempt = 0; attempt < 5; attempt++) {
      const fresh = [...new Set(ids.ids)].filter((id) => !priorIds.has(id));
      const clash = fresh.filter((id) => (this.members.get(id) ?? []).some((x) => !setRids.has(x)) || this.retiredIds.has(id));
      if (clash.length === 0) break;
      reserved.push(...clash.map((c) => ({ TENANT_ID: '', RETIRED_ID: c, SURVIVOR_ID: c, RUN_ID: '', REASON: 'RESERVED' })));
      ids = assignIds(records, result.cluster, prior, [...retired, ...reserved], options.runId);
    }
    const newRetired = ids.retired.slice(retired.length + reserved.length);
    step('cluster');

    const touchedRecs: TouchedRecord[] = records.map((k, i) => ({ ...k, before: beforeIds[i], after: ids.ids[i]!, changed: deltaRids.has(rids[i]!) }));
    const ledgerEdges: LedgerEdge[] = [];
    const decisions = result.decisions;
    for (let i = 0; i < m; i++) {
      const d = decisions[i]!;
      if (d === 'SAME_CLUSTER') continue;
      ledgerEdges.push({ l: touchedRecs[l[i]!]!, r: touchedRecs[r[i]!]!, rule: matchRule(i >= alwaysPairs.length ? edges[i - alwaysPairs.length]!.det : null, i < alwaysPairs.length), p: prob[i]!, decision: d });
    }
    const events = deriveChanges(touchedRecs, options.runId, at, ledgerFor(ledgerEdges));

    // One transaction: appends for the delta, updates by record number for ids and decisions that moved.
    const changed = deltaRaw.filter((d) => d.existed).map((d) => d.rid);
    const statements: string[] = [];
    for (const rid of changed) {
      statements.push(`DELETE FROM g.edges WHERE rid_l = ${rid} OR rid_r = ${rid}`, `DELETE FROM g.raw WHERE rid = ${rid}`, `DELETE FROM g.records WHERE rid = ${rid}`);
    }
    const idOf = new Map(rids.map((rid, i) => [rid, ids.ids[i]!]));
    const newEdgeDecisions: Cell[][] = [];
    const storedDecisions: Cell[][] = [];
    edges.forEach((e, k) => {
      const d = decisions[alwaysPairs.length + k]!;
      if (e.stored < 0) newEdgeDecisions.push([e.l, e.r, d]);
      else if (this.eDecision[e.stored] !== d) storedDecisions.push([e.l, e.r, d]);
    });
    const newDecision = new Map(newEdgeDecisions.map((x) => [`${x[0]},${x[1]}`, x[2] as string]));
    const moved: Cell[][] = [];
    rids.forEach((rid, i) => {
      if (!deltaRids.has(rid) && beforeIds[i] !== ids.ids[i]) moved.push([rid, ids.ids[i]!]);
    });
    // A few rows go inline (VALUES); more go through an in-memory staging table filled by the appender before the
    // transaction (one transaction may write to one database only).
    const staged = new Map<string, Cell[][]>();
    const from = (stage: string, rows: Cell[][]) => {
      const { columns, types } = this.stages.get(stage)!;
      if (rows.length > INLINE_ROWS) {
        staged.set(stage, rows);
        return stage;
      }
      return `(VALUES ${rows.map((r) => `(${r.map((v, i) => literal(v, types[i]!)).join(', ')})`).join(', ')}) t(${columns.join(', ')})`;
    };
    statements.push(
      `INSERT INTO g.raw BY NAME SELECT * FROM ${from('id_live_raw_new', deltaRaw.map((d) => [d.rid, ...d.vals]))}`,
      `INSERT INTO g.records BY NAME SELECT rid, ${this.columns.map((c) => (c.type === 'BOOLEAN' || c.type === 'VARCHAR' ? c.name : `CAST(${c.name} AS ${c.type}) AS ${c.name}`)).join(', ')}, customer360_id
        FROM ${from('id_live_rec_new', deltaStd.map((d) => [...(d as Cell[]), idOf.get(d[0] as number)!]))}`,
    );
    if (moved.length > INLINE_ROWS) statements.push(`UPDATE g.records SET customer360_id = m.customer360_id FROM ${from('id_live_moved_new', moved)} m WHERE g.records.rid = m.rid`);
    else for (const [rid, id] of moved) statements.push(`UPDATE g.records SET customer360_id = ${lit(String(id))} WHERE rid = ${rid}`);
    if (newEdges.length) statements.push(`INSERT INTO g.edges BY NAME SELECT * FROM ${from('id_live_edge_new', newEdges.map((e) => [...e.values, newDecision.get(`${e.rid_l},${e.rid_r}`) ?? null]))}`);
    if (storedDecisions.length > INLINE_ROWS) {
      statements.push(`UPDATE g.edges SET decision = d.decision FROM ${from('id_live_decision_new', storedDecisions)} d WHERE g.edges.rid_l = d.rid_l AND g.edges.rid_r = d.rid_r`);
    } else for (const [l, r, d] of storedDecisions) statements.push(`UPDATE g.edges SET decision = ${lit(String(d))} WHERE rid_l = ${l} AND rid_r = ${r}`);
    const ts = `${lit(at)}::TIMESTAMP`;
    if (newRetired.length) {
      statements.push(`INSERT INTO g.retired VALUES ${newRetired.map((x) => `(${[x.TENANT_ID, x.RETIRED_ID, x.SURVIVOR_ID, x.RUN_ID, x.REASON].map(lit).join(', ')}, ${ts})`).join(', ')}`);
    }
    if (events.length) {
      const rows = events.map((ev, i) => [this.seq + i + 1, ev.eventId, ev.type, ev.tenantId, ev.runId, ev.at, JSON.stringify(ev)] as Cell[]);
      statements.push(`INSERT INTO g.changes SELECT SEQ, EVENT_ID, TYPE, TENANT_ID, RUN_ID, CAST(EVENT_AT AS TIMESTAMP), EVENT FROM ${from('id_live_changes_new', rows)}`);
    }
    if (staged.size) {
      await engine.run([...staged.keys()].map((t) => `DELETE FROM ${t}`).join('; '));
      for (const [t, rows] of staged) await appendTyped(engine, t, this.stages.get(t)!.types, rows);
    }
    statements.push(...(options.commitSql ?? []));
    await commitInOneCall(engine, statements);
    step('commit');

    // The commit is in: bring memory to the same state.
    for (const rid of changed) {
      this.unsetRecord(rid);
      this.dropEdgesOf(rid);
    }
    for (const d of deltaStd) this.setRecord(d[0] as number, this.columns.map((c) => dv(d, c.name)));
    for (const d of deltaRaw) {
      this.raw[d.rid] = d.hash;
      this.keyRid.set(d.key, d.rid);
    }
    this.count += newRecords;
    this.nextRid = next;
    rids.forEach((rid, i) => this.setId(rid, ids.ids[i]!));
    edges.forEach((e, k) => {
      const d = decisions[alwaysPairs.length + k]!;
      if (e.stored >= 0) this.eDecision[e.stored] = d;
    });
    for (const [el, er, always, det, conflict, nameOnlyFlag, mp, dobTol] of ne) {
      this.addEdge(el, er, always, det, conflict, nameOnlyFlag, mp, newDecision.get(`${el},${er}`) ?? null, dobTol);
    }
    this.seq += events.length;
    for (const x of newRetired) {
      this.retired.push(x);
      this.retiredIds.add(x.RETIRED_ID);
    }
    return {
      mode: 'incremental', batch, newRecords, changedRecords, unchangedRecords: batch - newRecords - changedRecords, candidates: cand.size, newEdges: ne.length,
      reclustered: rids.length, events, graphRecords: this.count, timingsMs: timings,
    };
  }
}
