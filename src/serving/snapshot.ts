// A served snapshot: the profile tables of one as-of date in the server's own embedded DuckDB, so requests never
// touch the warehouse file (which the pipeline must be free to write) or the lake. Built from the local warehouse
// (ATTACH READ_ONLY, copied, detached) or from the Gold Parquet of the lake; copied for the current snapshot, or as
// views over the Parquet for a past as-of date. Values are cast to JSON-friendly types once, here. The current
// snapshot also writes every profile as the API sends it (bodies.ts) and sorted lookup keys for c360 ids, e-mail keys,
// phones and source ids (sorted-keys.ts), so a profile lookup runs no query at all: the copy's tables serve the pages
// of /customers and the match links. A snapshot counts the requests using it, so a swap can close it when the last
// one is done.
import { readdir, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection, type DuckDBPreparedStatement, type DuckDBValue } from '@duckdb/node-api';
import { defaultMemoryLimit } from '../engine/duckdb.ts';
import { ProfileBodies } from './bodies.ts';
import { buildStep } from './build-timing.ts';
import { emailKey } from './email-key.ts';
import { SortedKeys } from './sorted-keys.ts';
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
  /** DuckDB threads (default: all cores); 1 for a build beside a serving snapshot, so requests keep a core. */
  threads?: number;
  /** DuckDB's memory limit once a copy is built (default 256MB): it then only pages /customers and reads links. */
  servingMemoryLimit?: string;
  /** People per body file (default 100,000): bounds the memory DuckDB needs to list their recommendations. */
  bodyBatch?: number;
}

/** What a snapshot built in another process hands over besides its files (snapshot-builder.ts). */
export interface SnapshotMeta {
  asOf: string;
  source: string;
  customers: number;
  models: ModelInfo[];
  redirects: Redirect[];
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

/** The model registry, one row per version (the latest trained), values as the API shows them; METRICS parsed. */
function registrySql(r: SnapshotRelations): string {
  return `SELECT "MODEL_NAME"::VARCHAR AS "MODEL_NAME", "MODEL_VERSION"::VARCHAR AS "MODEL_VERSION", "MODEL_TYPE"::VARCHAR AS "MODEL_TYPE",
      ${jsonExpr('"TRAINED_AT"', { kind: 'timestamp' })} AS "TRAINED_AT", ${jsonExpr('"TRAINING_WINDOW_START"', { kind: 'date' })} AS "TRAINING_WINDOW_START",
      ${jsonExpr('"TRAINING_WINDOW_END"', { kind: 'date' })} AS "TRAINING_WINDOW_END",
      -- metrics that are not JSON are shown as the text they are
      CASE WHEN "METRICS_JSON" IS NULL OR "METRICS_JSON" = '' THEN NULL ELSE coalesce(try_cast("METRICS_JSON" AS JSON), to_json("METRICS_JSON")) END AS "METRICS"
    FROM ${r.registry ?? emptyOf(MODEL_REGISTRY)}
    WHERE "MODEL_VERSION" IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY "MODEL_VERSION" ORDER BY "TRAINED_AT" DESC NULLS LAST) = 1`;
}

const MODEL_FIELDS = ['MODEL_NAME', 'MODEL_VERSION', 'MODEL_TYPE', 'TRAINED_AT', 'TRAINING_WINDOW_START', 'TRAINING_WINDOW_END', 'METRICS'] as const;
/** A version the registry does not know: named, everything else null. */
const NO_MODEL = { MODEL_NAME: null, MODEL_TYPE: null, TRAINED_AT: null, TRAINING_WINDOW_START: null, TRAINING_WINDOW_END: null, METRICS: null };

/** IDENTIFIERS as stored ('SYSTEM:ID|SYSTEM:ID') as the list the API shows. */
function identifiers(raw: unknown): { SOURCE_SYSTEM: string; CUSTOMER_ID: string }[] {
  if (typeof raw !== 'string' || raw === '') return [];
  return raw.split('|').map((x) => {
    const i = x.indexOf(':');
    return { SOURCE_SYSTEM: x.slice(0, i), CUSTOMER_ID: x.slice(i + 1) };
  });
}

if (SCALAR_FIELDS[0]?.name !== 'CUSTOMER360_ID') throw new Error('The profile body must start with CUSTOMER360_ID (bodies.ts reads it there)');

/**
 * Every person's profile exactly as the API answers an agent, one row each in _ROW order: the scalar fields, then
 * IDENTIFIERS, RECOMMENDATIONS and MODELS as the lists the view snapshot builds in JavaScript (profile()).
 */
function bodiesSql(fromRow: number, toRow: number, fromId: string, toId: string | null): string {
  const idLit = (v: string) => `'${v.replaceAll("'", "''")}'`;
  const struct = (cols: readonly string[], from = '') => `struct_pack(${cols.map((c) => `${q(c)} := ${from}${q(c)}`).join(', ')})`;
  const noModel = `struct_pack(${MODEL_FIELDS.map((f) => `${q(f)} := ${f === 'MODEL_VERSION' ? 'v' : f === 'METRICS' ? 'NULL::JSON' : 'NULL::VARCHAR'}`).join(', ')})`;
  return `WITH reg AS (SELECT coalesce(map(list("MODEL_VERSION"), list(${struct(MODEL_FIELDS)})), MAP {}) AS m FROM registry),
    batch AS (SELECT * FROM profile WHERE "_ROW" >= ${fromRow} AND "_ROW" < ${toRow}),
    r AS (
      -- the struct starts with ALGORITHM, RANK: sorting the list orders it as ORDER BY would, 5x faster than an ordered aggregate
      SELECT "CUSTOMER360_ID", list_sort(list(${struct(REC_COLUMNS)})) AS list, list(DISTINCT "MODEL_VERSION") AS versions
      -- recs are sorted by id: constant bounds let DuckDB skip the other batches' row groups
      FROM recs WHERE "CUSTOMER360_ID" >= ${idLit(fromId)}${toId === null ? '' : ` AND "CUSTOMER360_ID" < ${idLit(toId)}`} GROUP BY 1)
    SELECT ${SCALAR_FIELDS.map((f) => `p.${q(f.name)}`).join(', ')},
      CASE WHEN p."IDENTIFIERS" IS NULL OR p."IDENTIFIERS" = '' THEN [] ELSE list_transform(string_split(p."IDENTIFIERS", '|'),
        x -> struct_pack("SOURCE_SYSTEM" := x[1:strpos(x, ':') - 1], "CUSTOMER_ID" := x[strpos(x, ':') + 1:])) END AS "IDENTIFIERS",
      coalesce(r.list, []) AS "RECOMMENDATIONS",
      list_transform(
        list_sort(list_distinct(list_concat([p."CHURN_MODEL_VERSION", p."CLV_MODEL_VERSION", p."SEGMENT_MODEL_VERSION"], coalesce(r.versions, [])))),
        v -> coalesce(map_extract_value(reg.m, v), ${noModel})) AS "MODELS"
    FROM batch p LEFT JOIN r ON r."CUSTOMER360_ID" = p."CUSTOMER360_ID" CROSS JOIN reg
    ORDER BY p."_ROW"`;
}

export interface Lookups {
  bodies: ProfileBodies;
  email: SortedKeys;
  phone: SortedKeys;
  source: SortedKeys;
}

/** Removes a copied snapshot's files: the database, its WAL, the lookups and the body files. */
export async function removeFiles(file: string): Promise<void> {
  for (const f of [file, `${file}.wal`, `${file}.lookups`]) await rm(f, { force: true }).catch(() => {});
  const dir = dirname(file);
  const bodies = `${basename(file)}.bodies.`;
  for (const f of await readdir(dir).catch(() => [] as string[])) if (f.startsWith(bodies)) await rm(join(dir, f), { force: true }).catch(() => {});
}

/** A recommendation's fields; ALGORITHM and RANK first, the order the lists are sorted in. */
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
    /** Copy mode: the profile bodies and lookup keys (null: a view snapshot, read by query). */
    private readonly lookups: Lookups | null,
  ) {}

  static async build(o: BuildOptions): Promise<Snapshot> {
    const config: Record<string, string> = { memory_limit: o.memoryLimit ?? (process.env.C360_DUCKDB_MEMORY_LIMIT || defaultMemoryLimit()) };
    if (o.threads) config.threads = String(o.threads);
    if (o.file !== ':memory:') await removeFiles(o.file); // left by a process that was killed
    const instance = await DuckDBInstance.create(o.file, config);
    const conns: Conn[] = [];
    try {
      const c = await instance.connect();
      conns.push({ connection: c, statements: new Map() });
      const run = async (sql: string) => {
        const t = performance.now();
        await c.run(sql);
        buildStep(t, sql);
      };
      const one = async (sql: string) => (await c.runAndReadAll(sql)).getRowObjectsJson()[0] as Row | undefined;
      await run("SET TimeZone = 'UTC'");
      for (const sql of macroSql().filter((s) => /MACRO c360_email/.test(s))) await run(sql);
      for (const [alias, file] of Object.entries(o.attach ?? {})) await run(`ATTACH '${file.replaceAll("'", "''")}' AS ${q(alias)} (READ_ONLY)`);
      const has = async (database: string, schema: string, table: string) =>
        !!(await one(`SELECT 1 AS x FROM duckdb_tables() WHERE database_name = '${database}' AND schema_name = '${schema}' AND table_name = '${table}'`));
      const r = typeof o.relations === 'function' ? await o.relations(has) : o.relations;
      const asOf = o.asOf ?? ((await one(`SELECT strftime(max("AS_OF_DATE"), '%Y-%m-%d') AS d FROM ${r.profile}`))?.d as string | null);
      if (!asOf) throw new Error(`No customer profile to serve in ${o.source}: run the pipeline first`);
      const copy = o.mode === 'copy';
      const kind = copy ? 'TABLE' : 'VIEW';
      // _ROW: the person's position in CUSTOMER360_ID order, the line of their body and the row the lookup keys name.
      await run(copy
        ? `CREATE TABLE profile AS SELECT (row_number() OVER (ORDER BY "CUSTOMER360_ID") - 1)::INTEGER AS "_ROW", x.* FROM (${profileSql(r, asOf, false)}) x ORDER BY "CUSTOMER360_ID"`
        : `CREATE VIEW profile AS ${profileSql(r, asOf, false)}`);
      await run(`CREATE ${kind} idmap AS SELECT "SOURCE_SYSTEM", "CUSTOMER_ID", "CUSTOMER360_ID" FROM ${r.identityMap ?? emptyOf(IDENTITY_MAP)}`);
      await run(`CREATE ${kind} recs AS ${recommendationsSql(r, asOf, copy)}`);
      await run(`CREATE ${kind} registry AS ${registrySql(r)}`);
      const models = await c.runAndReadAll('SELECT * EXCLUDE ("METRICS"), "METRICS"::VARCHAR AS "METRICS" FROM registry');
      const redirects = await c.runAndReadAll(`SELECT "RETIRED_ID", "CUSTOMER360_ID", "REASON", ${jsonExpr('"RETIRED_AT"', { kind: 'timestamp' })} AS "RETIRED_AT"
        FROM ${r.redirects ?? emptyOf({ columns: REDIRECT_COLUMNS })}`);
      const customers = Number((await one('SELECT count(*) AS n FROM profile'))?.n ?? 0);
      let lookups: Lookups | null = null;
      if (copy) {
        if (o.file === ':memory:') throw new Error('A copied snapshot needs a database file (its profile bodies are written beside it)');
        // Batches of people by _ROW: DuckDB lists each batch's recommendations in bounded memory.
        const batch = o.bodyBatch ?? 100_000;
        const bounds = (await c.runAndReadAll(`SELECT "CUSTOMER360_ID" FROM profile WHERE "_ROW" % ${batch} = 0 ORDER BY "_ROW"`)).getRows().map((x) => String(x[0]));
        const selects = bounds.map((id, i) => bodiesSql(i * batch, (i + 1) * batch, id, bounds[i + 1] ?? null));
        if (selects.length === 0) selects.push(bodiesSql(0, 1, '', null)); // no people: an empty file
        const bodies = await ProfileBodies.write(c, selects, `${o.file}.bodies`, customers);
        const keys = async (what: string, sql: string) => {
          const t = performance.now();
          const k = await SortedKeys.fromQuery(c, sql);
          buildStep(t, `${what} keys`);
          return k;
        };
        lookups = {
          bodies,
          email: await keys('e-mail', 'SELECT "_EMAIL_KEY", "_ROW" FROM profile WHERE "_EMAIL_KEY" IS NOT NULL ORDER BY 1, 2'),
          phone: await keys('phone', 'SELECT "_PHONE_KEY", "_ROW" FROM profile WHERE "_PHONE_KEY" IS NOT NULL ORDER BY 1, 2'),
          // SOURCE_SYSTEM has no '/', so SOURCE_SYSTEM/CUSTOMER_ID names one source record
          source: await keys('source', `SELECT DISTINCT i."SOURCE_SYSTEM" || '/' || i."CUSTOMER_ID", p."_ROW" FROM idmap i JOIN profile p USING ("CUSTOMER360_ID")
            WHERE i."SOURCE_SYSTEM" IS NOT NULL AND i."CUSTOMER_ID" IS NOT NULL ORDER BY 1, 2`),
        };
        // The bodies hold the recommendations; the person's records are read by index for /links.
        await run('DROP TABLE recs');
        await run('CREATE INDEX idmap_person ON idmap ("CUSTOMER360_ID")');
        for (const alias of Object.keys(o.attach ?? {})) await run(`DETACH ${q(alias)}`);
        await run('CHECKPOINT');
        // What the build cached is written: a small buffer pool is enough for paging /customers and reading links.
        await run(`SET memory_limit = '${o.servingMemoryLimit ?? '256MB'}'`);
      }
      for (let i = 1; i < (o.connections ?? 4); i++) conns.push({ connection: await instance.connect(), statements: new Map() });
      for (const x of conns.slice(1)) await x.connection.run("SET TimeZone = 'UTC'");
      const modelMap = new Map<string, ModelInfo>();
      for (const m of models.getRowObjectsJson() as Row[]) {
        const info = { ...m, METRICS: m.METRICS === null ? null : JSON.parse(String(m.METRICS)) } as unknown as ModelInfo;
        modelMap.set(info.MODEL_VERSION, info);
      }
      const redirectMap = new Map<string, Redirect>();
      for (const x of redirects.getRowObjectsJson() as unknown as Redirect[]) redirectMap.set(x.RETIRED_ID, x);
      const loadedAt = new Date().toISOString();
      return new Snapshot(instance, new Pool(conns), o.file, asOf, o.source, customers, modelMap, redirectMap, `${asOf}@${Date.now().toString(36)}`, loadedAt, lookups);
    } catch (e) {
      for (const x of conns) x.connection.closeSync();
      instance.closeSync();
      if (o.file !== ':memory:') await removeFiles(o.file);
      throw e;
    }
  }

  /**
   * Opens a copied snapshot another process built (its database file, body file and lookups): the database with a
   * small buffer pool, as a build leaves it.
   */
  static async open(file: string, meta: SnapshotMeta, lookups: Lookups, o: { connections?: number; memoryLimit?: string } = {}): Promise<Snapshot> {
    const instance = await DuckDBInstance.create(file, { memory_limit: o.memoryLimit ?? '256MB' });
    const conns: Conn[] = [];
    try {
      for (let i = 0; i < (o.connections ?? 4); i++) {
        const connection = await instance.connect();
        await connection.run("SET TimeZone = 'UTC'");
        conns.push({ connection, statements: new Map() });
      }
    } catch (e) {
      for (const x of conns) x.connection.closeSync();
      instance.closeSync();
      lookups.bodies.close();
      throw e;
    }
    const loadedAt = new Date().toISOString();
    return new Snapshot(instance, new Pool(conns), file, meta.asOf, meta.source, meta.customers, new Map(meta.models.map((m) => [m.MODEL_VERSION, m])),
      new Map(meta.redirects.map((r) => [r.RETIRED_ID, r])), `${meta.asOf}@${Date.now().toString(36)}`, loadedAt, lookups);
  }

  /** What another process needs to open this snapshot (with its lookups), for a build done in a child process. */
  handOver(): { meta: SnapshotMeta; lookups: Lookups | null } {
    return {
      meta: { asOf: this.asOf, source: this.source, customers: this.customers, models: [...this.models.values()], redirects: [...this.redirects.values()] },
      lookups: this.lookups,
    };
  }

  /** Closes the database and body file but keeps the files, for the process that opens them next. */
  closeKeepingFiles(): void {
    this.closed = true;
    for (const c of this.pool.all) c.connection.closeSync();
    this.instance.closeSync();
    this.lookups?.bodies.close();
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
    const t = performance.now();
    for (const c of this.pool.all) c.connection.closeSync();
    this.instance.closeSync();
    this.lookups?.bodies.close();
    if (this.file !== ':memory:') buildStep(t, 'server: closed the old snapshot (on the main thread)');
    if (this.file !== ':memory:') await removeFiles(this.file);
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

  /** Does the snapshot have this person? */
  async has(id: string): Promise<boolean> {
    if (this.lookups) return this.lookups.bodies.rowOf(id) !== undefined;
    return (await this.pool.query('SELECT 1 AS x FROM profile WHERE "CUSTOMER360_ID" = $1', [id])).length > 0;
  }

  /**
   * The person's whole profile as an agent sees it, as bytes (a JSON object), without a query; undefined when the
   * snapshot has no such person or keeps no bodies (a past date's views: use profile()).
   */
  async body(id: string): Promise<Buffer | undefined> {
    const row = this.lookups?.bodies.rowOf(id);
    return row === undefined ? undefined : this.lookups!.bodies.body(row);
  }

  /** The person's whole profile (every field, IDENTIFIERS, RECOMMENDATIONS, MODELS), or undefined. */
  async profile(id: string): Promise<Row | undefined> {
    if (this.lookups) {
      const body = await this.body(id);
      return body && (JSON.parse(body.toString('utf8')) as Row);
    }
    const row = (await this.pool.query(`SELECT ${PROFILE_COLUMNS} FROM profile WHERE "CUSTOMER360_ID" = $1`, [id]))[0];
    if (!row) return undefined;
    const recs = await this.recommendations(id);
    const out: Row = {};
    for (const f of SCALAR_FIELDS) out[f.name] = row[f.name] ?? null;
    out.IDENTIFIERS = identifiers(row.IDENTIFIERS);
    out.RECOMMENDATIONS = recs;
    const versions = new Set([row.CHURN_MODEL_VERSION, row.CLV_MODEL_VERSION, row.SEGMENT_MODEL_VERSION, ...recs.map((x) => x.MODEL_VERSION)]);
    out.MODELS = [...versions].filter((v): v is string => typeof v === 'string').sort().map((v) => this.models.get(v) ?? { ...NO_MODEL, MODEL_VERSION: v });
    return out;
  }

  private idsOfRows(rows: number[]): string[] {
    return rows.map((r) => this.lookups!.bodies.ids.keyAt(r));
  }

  async idsBySource(system: string, customerId: string): Promise<string[]> {
    if (this.lookups) return this.idsOfRows(this.lookups.source.rows(`${system}/${customerId}`));
    const rows = await this.pool.query<{ CUSTOMER360_ID: string }>(`SELECT DISTINCT "CUSTOMER360_ID" FROM idmap WHERE "SOURCE_SYSTEM" = $1 AND "CUSTOMER_ID" = $2 ORDER BY 1`, [system, customerId]);
    return rows.map((r) => r.CUSTOMER360_ID);
  }

  async idsByEmail(email: string): Promise<string[]> {
    const key = emailKey(email);
    if (!key) return [];
    if (this.lookups) return this.idsOfRows(this.lookups.email.rows(key));
    const rows = await this.pool.query<{ CUSTOMER360_ID: string }>(`SELECT "CUSTOMER360_ID" FROM profile WHERE "_EMAIL_KEY" = $1 ORDER BY 1`, [key]);
    return rows.map((r) => r.CUSTOMER360_ID);
  }

  async idsByPhone(e164: string): Promise<string[]> {
    if (this.lookups) return this.idsOfRows(this.lookups.phone.rows(e164));
    const rows = await this.pool.query<{ CUSTOMER360_ID: string }>(`SELECT "CUSTOMER360_ID" FROM profile WHERE "_PHONE_KEY" = $1 ORDER BY 1`, [e164]);
    return rows.map((r) => r.CUSTOMER360_ID);
  }

  private async recommendations(id: string): Promise<Row[]> {
    return this.pool.query(
      `SELECT ${REC_COLUMNS.map(q).join(', ')}
       FROM recs WHERE "CUSTOMER360_ID" = $1 ORDER BY "ALGORITHM", "RANK"`,
      [id],
    );
  }

  /** Memory the lookups hold (for /health and the benchmark). */
  get lookupBytes(): number {
    const l = this.lookups;
    return l ? l.bodies.indexBytes + l.email.byteSize + l.phone.byteSize + l.source.byteSize : 0;
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
