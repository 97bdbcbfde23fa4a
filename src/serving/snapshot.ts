// A served snapshot: the profile tables of one as-of date in the server's own embedded DuckDB, so requests never
// touch the warehouse file (which the pipeline must be free to write) or the lake. Built from the local warehouse
// (ATTACH READ_ONLY, copied, detached) or from the Gold Parquet of the lake; copied with indexes for the current
// snapshot, or as views over the Parquet for a past as-of date. Values are cast to JSON-friendly types once, here.
// A snapshot counts the requests using it, so a swap can close it when the last one is done.
import { rm } from 'node:fs/promises';
import { DuckDBInstance, type DuckDBConnection, type DuckDBPreparedStatement, type DuckDBValue } from '@duckdb/node-api';
import { defaultMemoryLimit } from '../engine/duckdb.ts';
import { duckType } from '../catalogue/dataset.ts';
import { macroSql } from '../identity/standardise.ts';
import type { LogicalType, WarehouseTable } from '../warehouse/types.ts';
import {
  DIM_CUSTOMER, IDENTITY_MAP, MODEL_REGISTRY, PRODUCTS, RECOMMENDATIONS, REDIRECTS_TABLE, RISK_SCORES, SCALAR_FIELDS, SEGMENTS,
} from './fields.ts';

type Row = Record<string, unknown>;

/** SQL relations (table names or read_parquet calls) the snapshot is built from; null: the data is absent (empty). */
export interface SnapshotRelations {
  profile: string;
  identityMap: string | null;
  riskScores: string | null;
  segments: string | null;
  recommendations: string | null;
  products: string | null;
  registry: string | null;
  redirects: string | null;
}

export interface BuildOptions {
  /** DuckDB database file for the copy, or ':memory:'. */
  file: string;
  /** copy: tables with indexes (the current snapshot); view: views over the sources (a past as-of date). */
  mode: 'copy' | 'view';
  /** The relations, or a function choosing them once the databases are attached (has: does a table exist). */
  relations: SnapshotRelations | ((has: (database: string, schema: string, table: string) => Promise<boolean>) => Promise<SnapshotRelations>);
  /** Databases to ATTACH READ_ONLY first (alias -> file); detached after a copy. */
  attach?: Record<string, string>;
  /** The as-of date; default: the latest AS_OF_DATE of the profile relation. */
  asOf?: string;
  /** Where it came from, for /health and logs. */
  source: string;
  /** Read connections (default 4). */
  connections?: number;
  memoryLimit?: string;
}

export interface ModelInfo {
  MODEL_NAME: string;
  MODEL_VERSION: string;
  MODEL_TYPE: string | null;
  TRAINED_AT: string | null;
  TRAINING_WINDOW_START: string | null;
  TRAINING_WINDOW_END: string | null;
  METRICS: unknown;
}

export interface Redirect {
  RETIRED_ID: string;
  CUSTOMER360_ID: string;
  REASON: string | null;
  RETIRED_AT: string | null;
}

/** A value as JSON: money and counts as numbers, dates as YYYY-MM-DD, timestamps as ISO 8601 UTC. */
export function jsonExpr(expr: string, t: LogicalType): string {
  switch (t.kind) {
    case 'decimal':
    case 'bigint': return `CAST(${expr} AS DOUBLE)`;
    case 'date': return `strftime(${expr}, '%Y-%m-%d')`;
    case 'timestamp': return `strftime(${expr}, '%Y-%m-%dT%H:%M:%SZ')`;
    default: return expr;
  }
}

const q = (name: string) => `"${name.replaceAll('"', '""')}"`;
const dateLit = (d: string) => {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(d)) throw new Error(`Invalid as-of date '${d}'`);
  return `DATE '${d}'`;
};

/** An empty relation with a table's columns: data that has not been produced yet reads as no rows. */
function emptyOf(t: WarehouseTable | { columns: readonly { name: string; type: LogicalType }[] }): string {
  return `(SELECT ${t.columns.map((c) => `CAST(NULL AS ${duckType(c.type)}) AS ${q(c.name)}`).join(', ')} WHERE false)`;
}

const REDIRECT_COLUMNS = [
  { name: 'RETIRED_ID', type: { kind: 'varchar' } as LogicalType },
  { name: 'CUSTOMER360_ID', type: { kind: 'varchar' } as LogicalType },
  { name: 'RETIRED_AT', type: { kind: 'timestamp' } as LogicalType },
  { name: 'REASON', type: { kind: 'varchar' } as LogicalType },
];

/** The SELECT that shapes the profile relation (with that date's scores and segment) into served fields. */
function profileSql(r: SnapshotRelations, asOf: string, order: boolean): string {
  const alias: Record<string, string> = {
    [`${DIM_CUSTOMER.schema}.${DIM_CUSTOMER.name}`]: 'd',
    [`${RISK_SCORES.schema}.${RISK_SCORES.name}`]: 'r',
    [`${SEGMENTS.schema}.${SEGMENTS.name}`]: 's',
  };
  const cols = SCALAR_FIELDS.map((f) => `${jsonExpr(`${alias[f.table]}.${q(f.column)}`, f.type)} AS ${q(f.name)}`);
  const d = dateLit(asOf);
  return `SELECT ${cols.join(', ')}, d."IDENTIFIERS" AS "IDENTIFIERS",
    c360_email_key(c360_email_norm(d."EMAIL_ADDRESS")) AS "_EMAIL_KEY",
    -- the golden phone is E.164 when standardisation could parse it; spacing in an international number is dropped
    CASE WHEN starts_with(trim(d."PHONE_NUMBER"), '+') THEN '+' || regexp_replace(d."PHONE_NUMBER", '[^0-9]', '', 'g') END AS "_PHONE_KEY"
  FROM ${r.profile} d
  LEFT JOIN (SELECT * FROM ${r.riskScores ?? emptyOf(RISK_SCORES)} WHERE "AS_OF_DATE" = ${d}) r USING ("CUSTOMER360_ID")
  LEFT JOIN (SELECT * FROM ${r.segments ?? emptyOf(SEGMENTS)} WHERE "AS_OF_DATE" = ${d}) s USING ("CUSTOMER360_ID")
  ${order ? 'ORDER BY d."CUSTOMER360_ID"' : ''}`;
}

function recommendationsSql(r: SnapshotRelations, asOf: string, order: boolean): string {
  return `SELECT x."CUSTOMER360_ID", x."ALGORITHM", x."RANK", x."PRODUCT_ID", p."PRODUCT_NAME", p."CATEGORY", p."BRAND",
    x."SCORE", x."REASON", x."MODEL_VERSION"
  FROM (SELECT * FROM ${r.recommendations ?? emptyOf(RECOMMENDATIONS)} WHERE "AS_OF_DATE" = ${dateLit(asOf)}) x
  LEFT JOIN ${r.products ?? emptyOf(PRODUCTS)} p USING ("PRODUCT_ID")
  ${order ? 'ORDER BY x."CUSTOMER360_ID", x."ALGORITHM", x."RANK"' : ''}`;
}

interface Conn {
  connection: DuckDBConnection;
  statements: Map<string, DuckDBPreparedStatement>;
}

/** A few connections, each running one query at a time; callers queue for a free one. */
class Pool {
  private readonly idle: Conn[];
  private readonly waiting: ((c: Conn) => void)[] = [];
  constructor(readonly all: Conn[]) {
    this.idle = [...all];
  }
  async query<T = Row>(sql: string, params: DuckDBValue[] = [], cache = true): Promise<T[]> {
    const conn = this.idle.pop() ?? (await new Promise<Conn>((resolve) => this.waiting.push(resolve)));
    try {
      let stmt = conn.statements.get(sql);
      if (!stmt) {
        stmt = await conn.connection.prepare(sql);
        if (cache) conn.statements.set(sql, stmt);
      }
      if (params.length) stmt.bind(params);
      const reader = await stmt.runAndReadAll();
      return reader.getRowObjectsJson() as T[];
    } finally {
      const next = this.waiting.shift();
      if (next) next(conn);
      else this.idle.push(conn);
    }
  }
}

const REC_COLUMNS = ['ALGORITHM', 'RANK', 'PRODUCT_ID', 'PRODUCT_NAME', 'CATEGORY', 'BRAND', 'SCORE', 'REASON', 'MODEL_VERSION'];

const PROFILE_COLUMNS = [...SCALAR_FIELDS.map((f) => q(f.name)), '"IDENTIFIERS"'].join(', ');

export class Snapshot {
  private refs = 0;
  private retired = false;
  private closed = false;
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly pool: Pool,
    readonly file: string,
    readonly asOf: string,
    readonly source: string,
    readonly customers: number,
    readonly models: ReadonlyMap<string, ModelInfo>,
    readonly redirects: ReadonlyMap<string, Redirect>,
    /** Distinguishes snapshots (ETags, logs): as-of date, source and build time. */
    readonly id: string,
    readonly loadedAt: string,
    /** Copy mode: profiles are JSON documents (docs); view mode reads the profile row and recommendations. */
    private readonly hasDocs: boolean,
  ) {}

  static async build(o: BuildOptions): Promise<Snapshot> {
    const config: Record<string, string> = { memory_limit: o.memoryLimit ?? (process.env.C360_DUCKDB_MEMORY_LIMIT || defaultMemoryLimit()) };
    const instance = await DuckDBInstance.create(o.file, config);
    const conns: Conn[] = [];
    try {
      const c = await instance.connect();
      conns.push({ connection: c, statements: new Map() });
      const run = (sql: string) => c.run(sql);
      const one = async (sql: string) => (await c.runAndReadAll(sql)).getRowObjectsJson()[0] as Row | undefined;
      await run("SET TimeZone = 'UTC'");
      for (const sql of macroSql().filter((s) => /MACRO c360_email/.test(s))) await run(sql);
      for (const [alias, file] of Object.entries(o.attach ?? {})) await run(`ATTACH '${file.replaceAll("'", "''")}' AS ${q(alias)} (READ_ONLY)`);
      const has = async (database: string, schema: string, table: string) =>
        !!(await one(`SELECT 1 AS x FROM duckdb_tables() WHERE database_name = '${database}' AND schema_name = '${schema}' AND table_name = '${table}'`));
      const r = typeof o.relations === 'function' ? await o.relations(has) : o.relations;
      const asOf = o.asOf ?? ((await one(`SELECT strftime(max("AS_OF_DATE"), '%Y-%m-%d') AS d FROM ${r.profile}`))?.d as string | null);
      if (!asOf) throw new Error(`No customer profile to serve in ${o.source}: run the pipeline first`);
      const kind = o.mode === 'copy' ? 'TABLE' : 'VIEW';
      await run(`CREATE ${kind} profile AS ${profileSql(r, asOf, o.mode === 'copy')}`);
      await run(`CREATE ${kind} idmap AS SELECT "SOURCE_SYSTEM", "CUSTOMER_ID", "CUSTOMER360_ID" FROM ${r.identityMap ?? emptyOf(IDENTITY_MAP)}`);
      await run(`CREATE ${kind} recs AS ${recommendationsSql(r, asOf, o.mode === 'copy')}`);
      const models = await c.runAndReadAll(`SELECT "MODEL_NAME", "MODEL_VERSION", "MODEL_TYPE",
          ${jsonExpr('"TRAINED_AT"', { kind: 'timestamp' })} AS "TRAINED_AT", ${jsonExpr('"TRAINING_WINDOW_START"', { kind: 'date' })} AS "TRAINING_WINDOW_START",
          ${jsonExpr('"TRAINING_WINDOW_END"', { kind: 'date' })} AS "TRAINING_WINDOW_END", "METRICS_JSON"
        FROM ${r.registry ?? emptyOf(MODEL_REGISTRY)}`);
      const redirects = await c.runAndReadAll(`SELECT "RETIRED_ID", "CUSTOMER360_ID", "REASON", ${jsonExpr('"RETIRED_AT"', { kind: 'timestamp' })} AS "RETIRED_AT"
        FROM ${r.redirects ?? emptyOf({ columns: REDIRECT_COLUMNS })}`);
      if (o.mode === 'copy') {
        // Each person's profile as one JSON document with the recommendations inside: a lookup then reads one value
        // by index. Reading the ~150 columns of one row instead decompresses ~150 column segments (10x slower).
        await run(`CREATE TABLE docs AS SELECT x."CUSTOMER360_ID" AS id, to_json(x)::VARCHAR AS doc FROM (
            SELECT p.* EXCLUDE ("_EMAIL_KEY", "_PHONE_KEY"), r.list AS "RECOMMENDATIONS"
            FROM profile p LEFT JOIN (
              SELECT "CUSTOMER360_ID", list(struct_pack(${REC_COLUMNS.map((c) => `${q(c)} := ${q(c)}`).join(', ')}) ORDER BY "ALGORITHM", "RANK") AS list
              FROM recs GROUP BY 1) r USING ("CUSTOMER360_ID")) x
          ORDER BY 1`);
        // ART indexes make the point lookups index scans instead of scans of every person.
        await run('CREATE INDEX docs_id ON docs (id)');
        await run('CREATE INDEX profile_email ON profile ("_EMAIL_KEY")');
        await run('CREATE INDEX profile_phone ON profile ("_PHONE_KEY")');
        await run('CREATE INDEX idmap_key ON idmap ("SOURCE_SYSTEM", "CUSTOMER_ID")');
        await run('CREATE INDEX idmap_person ON idmap ("CUSTOMER360_ID")');
        await run('CREATE INDEX recs_person ON recs ("CUSTOMER360_ID")');
        for (const alias of Object.keys(o.attach ?? {})) await run(`DETACH ${q(alias)}`);
        await run('CHECKPOINT');
      }
      const customers = Number((await one('SELECT count(*) AS n FROM profile'))?.n ?? 0);
      for (let i = 1; i < (o.connections ?? 4); i++) conns.push({ connection: await instance.connect(), statements: new Map() });
      for (const x of conns.slice(1)) await x.connection.run("SET TimeZone = 'UTC'");
      const modelMap = new Map<string, ModelInfo>();
      for (const m of models.getRowObjectsJson() as Row[]) {
        let metrics: unknown = null;
        try {
          metrics = m.METRICS_JSON ? JSON.parse(String(m.METRICS_JSON)) : null;
        } catch {
          metrics = String(m.METRICS_JSON);
        }
        const info: ModelInfo = {
          MODEL_NAME: String(m.MODEL_NAME), MODEL_VERSION: String(m.MODEL_VERSION), MODEL_TYPE: (m.MODEL_TYPE as string) ?? null,
          TRAINED_AT: (m.TRAINED_AT as string) ?? null, TRAINING_WINDOW_START: (m.TRAINING_WINDOW_START as string) ?? null,
          TRAINING_WINDOW_END: (m.TRAINING_WINDOW_END as string) ?? null, METRICS: metrics,
        };
        modelMap.set(info.MODEL_VERSION, info);
      }
      const redirectMap = new Map<string, Redirect>();
      for (const x of redirects.getRowObjectsJson() as unknown as Redirect[]) redirectMap.set(x.RETIRED_ID, x);
      const loadedAt = new Date().toISOString();
      return new Snapshot(instance, new Pool(conns), o.file, asOf, o.source, customers, modelMap, redirectMap, `${asOf}@${Date.now().toString(36)}`, loadedAt, o.mode === 'copy');
    } catch (e) {
      for (const x of conns) x.connection.closeSync();
      instance.closeSync();
      if (o.file !== ':memory:') await rm(o.file, { force: true }).catch(() => {});
      throw e;
    }
  }

  /** Marks a request as using this snapshot; pair with release(). */
  acquire(): this {
    this.refs++;
    return this;
  }

  release(): void {
    this.refs--;
    if (this.retired && this.refs === 0) void this.close();
  }

  /** No new requests will use it; closed when the last one releases it. */
  retire(): void {
    this.retired = true;
    if (this.refs === 0) void this.close();
  }

  get inUse(): number {
    return this.refs;
  }

  private async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const c of this.pool.all) c.connection.closeSync();
    this.instance.closeSync();
    if (this.file !== ':memory:') {
      await rm(this.file, { force: true }).catch(() => {});
      await rm(`${this.file}.wal`, { force: true }).catch(() => {});
    }
  }

  /** Follows retired ids to the surviving id (undefined when the id was never retired). */
  survivorOf(id: string): Redirect | undefined {
    let r = this.redirects.get(id);
    if (!r) return undefined;
    const seen = new Set([id]);
    let next = this.redirects.get(r.CUSTOMER360_ID);
    while (next && !seen.has(next.RETIRED_ID)) {
      seen.add(next.RETIRED_ID);
      r = { ...r, CUSTOMER360_ID: next.CUSTOMER360_ID };
      next = this.redirects.get(r.CUSTOMER360_ID);
    }
    return r;
  }

  /** The person's profile row with IDENTIFIERS (as stored) and RECOMMENDATIONS, or undefined. */
  async profile(id: string): Promise<Row | undefined> {
    if (this.hasDocs) {
      const doc = (await this.pool.query<{ doc: string }>('SELECT doc FROM docs WHERE id = $1', [id]))[0]?.doc;
      if (doc === undefined) return undefined;
      const row = JSON.parse(doc) as Row;
      row.RECOMMENDATIONS ??= [];
      return row;
    }
    const row = (await this.pool.query(`SELECT ${PROFILE_COLUMNS} FROM profile WHERE "CUSTOMER360_ID" = $1`, [id]))[0];
    if (row) row.RECOMMENDATIONS = await this.recommendations(id);
    return row;
  }

  async idsBySource(system: string, customerId: string): Promise<string[]> {
    const rows = await this.pool.query<{ CUSTOMER360_ID: string }>(`SELECT "CUSTOMER360_ID" FROM idmap WHERE "SOURCE_SYSTEM" = $1 AND "CUSTOMER_ID" = $2`, [system, customerId]);
    return rows.map((r) => r.CUSTOMER360_ID);
  }

  async idsByEmail(email: string): Promise<string[]> {
    const key = (await this.pool.query<{ k: string | null }>('SELECT c360_email_key(c360_email_norm($1)) AS k', [email]))[0]?.k;
    if (!key) return [];
    const rows = await this.pool.query<{ CUSTOMER360_ID: string }>(`SELECT "CUSTOMER360_ID" FROM profile WHERE "_EMAIL_KEY" = $1 ORDER BY 1`, [key]);
    return rows.map((r) => r.CUSTOMER360_ID);
  }

  async idsByPhone(e164: string): Promise<string[]> {
    const rows = await this.pool.query<{ CUSTOMER360_ID: string }>(`SELECT "CUSTOMER360_ID" FROM profile WHERE "_PHONE_KEY" = $1 ORDER BY 1`, [e164]);
    return rows.map((r) => r.CUSTOMER360_ID);
  }

  async recommendations(id: string): Promise<Row[]> {
    return this.pool.query(
      `SELECT ${REC_COLUMNS.map(q).join(', ')}
       FROM recs WHERE "CUSTOMER360_ID" = $1 ORDER BY "ALGORITHM", "RANK"`,
      [id],
    );
  }

  async records(id: string): Promise<{ SOURCE_SYSTEM: string; CUSTOMER_ID: string }[]> {
    return this.pool.query(`SELECT "SOURCE_SYSTEM", "CUSTOMER_ID" FROM idmap WHERE "CUSTOMER360_ID" = $1 ORDER BY 1, 2`, [id]);
  }

  /** One page of people matching the filters, by CUSTOMER360_ID after `after`. */
  async list(o: { columns: readonly string[]; segment?: string; rfmSegment?: string; churnRiskMin?: number; after?: string; limit: number }): Promise<Row[]> {
    const where: string[] = [];
    const params: DuckDBValue[] = [];
    const p = (v: DuckDBValue) => {
      params.push(v);
      return `$${params.length}`;
    };
    if (o.segment !== undefined) where.push(`"SEGMENT_LABEL" = ${p(o.segment)}`);
    if (o.rfmSegment !== undefined) where.push(`"RFM_SEGMENT" = ${p(o.rfmSegment)}`);
    if (o.churnRiskMin !== undefined) where.push(`"CHURN_RISK" >= ${p(o.churnRiskMin)}`);
    if (o.after !== undefined) where.push(`"CUSTOMER360_ID" > ${p(o.after)}`);
    const sql = `SELECT ${o.columns.map(q).join(', ')} FROM profile ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY "CUSTOMER360_ID" LIMIT ${p(Math.floor(o.limit))}`;
    return this.pool.query(sql, params);
  }

  /** Runs a read-only query on the snapshot (the match ledger join, tests); cache=false for one-off SQL text. */
  async query<T = Row>(sql: string, params: DuckDBValue[] = [], cache = true): Promise<T[]> {
    return this.pool.query<T>(sql, params, cache);
  }
}

export { REDIRECTS_TABLE };
