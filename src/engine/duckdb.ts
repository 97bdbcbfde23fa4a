// The engine seam: all Silver/Gold SQL runs through this thin wrapper over @duckdb/node-api.
import { mkdir } from 'node:fs/promises';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { UsageError } from '../runtime/errors.ts';
import { owned } from '../runtime/tmp.ts';

let instances = 0;

export type SqlParams = Record<string, DuckDBValue> | DuckDBValue[];
export type Row = Record<string, unknown>;

export interface EngineOptions {
  /** Database file; ':memory:' (default) for a scratch engine. */
  path?: string;
  threads?: number;
  /** DuckDB memory_limit, e.g. '8GB' (default: $C360_DUCKDB_MEMORY_LIMIT, else defaultMemoryLimit()). */
  memoryLimit?: string;
  tempDirectory?: string;
}

/**
 * 40% of the machine's (or the container's) memory. DuckDB's own default, 80%, bounds its buffer manager only: at 1M
 * customers the recommendations job then peaked at 24 GB on a 24 GB machine and was killed; with 60% (14.4 GB) the
 * full refresh peaked at 18.8 GB, ~5 GB of it outside DuckDB's limit (JS arrays, query results, allocator slack), over
 * the 12 GB aim (issue 12). Past the limit DuckDB spills to its temp directory.
 */
export function defaultMemoryLimit(): string {
  const constrained = (process as { constrainedMemory?: () => number | undefined }).constrainedMemory?.();
  const bytes = Math.min(totalmem(), constrained && constrained > 0 ? constrained : Infinity);
  return `${Math.max(256, Math.floor((bytes * 0.4) / 2 ** 20))}MiB`;
}

export class Engine {
  private constructor(
    private readonly instance: DuckDBInstance,
    readonly connection: DuckDBConnection,
    readonly path: string,
    /** A session's (session()): called on close instead of closing the instance it shares. */
    private readonly release?: () => void,
  ) {}

  static async open(options: EngineOptions = {}): Promise<Engine> {
    const path = options.path ?? ':memory:';
    const config: Record<string, string> = {};
    if (options.threads) config.threads = String(options.threads);
    const fromEnv = options.memoryLimit === undefined && !!process.env.C360_DUCKDB_MEMORY_LIMIT;
    config.memory_limit = options.memoryLimit ?? (process.env.C360_DUCKDB_MEMORY_LIMIT || defaultMemoryLimit());
    // Its own folder per instance: DuckDB names spill files alike in every instance (duckdb_temp_storage_S32K-0.tmp)
    // and deletes the duckdb_temp_* files of its folder on close, so two engines sharing one folder overwrite and
    // delete each other's spilled blocks (a segfault in a test). DuckDB removes the folder it created on close; a
    // killed process's is swept by the next command (src/runtime/tmp.ts).
    if (options.tempDirectory) {
      await mkdir(options.tempDirectory, { recursive: true });
      config.temp_directory = join(options.tempDirectory, owned(String(++instances)));
    }
    let instance: DuckDBInstance;
    try {
      instance = await DuckDBInstance.create(path, config);
    } catch (e) {
      // DuckDB only says "Failed to set config"; the memory limit is the setting a user types.
      if (!/failed to set config/i.test((e as Error).message)) throw e;
      const source = fromEnv ? 'C360_DUCKDB_MEMORY_LIMIT' : 'memory limit';
      throw new UsageError(`DuckDB refused its settings: ${source} '${config.memory_limit}' must be a size with a unit, such as 8GB, 512MB or 12GiB (DuckDB: ${(e as Error).message})`);
    }
    const connection = await instance.connect();
    // Timestamps are UTC throughout the lake; never let the machine's zone leak into results.
    await connection.run("SET TimeZone = 'UTC'");
    return new Engine(instance, connection, path);
  }

  async run(sql: string, params?: SqlParams): Promise<void> {
    await this.connection.run(sql, params as never);
  }

  /** Rows as plain JSON-friendly objects (BIGINT/DECIMAL as strings, timestamps as ISO-like strings). */
  async all<T = Row>(sql: string, params?: SqlParams): Promise<T[]> {
    const reader = await this.connection.runAndReadAll(sql, params as never);
    return reader.getRowObjectsJson() as T[];
  }

  /** Rows with JS values: numbers for INTEGER/DOUBLE, bigint for BIGINT, DuckDB value objects otherwise. */
  async rows<T = Row>(sql: string, params?: SqlParams): Promise<T[]> {
    const reader = await this.connection.runAndReadAll(sql, params as never);
    return reader.getRowObjects() as T[];
  }

  async scalar<T = unknown>(sql: string, params?: SqlParams): Promise<T> {
    const rows = await this.all<Row>(sql, params);
    const first = rows[0];
    return (first ? Object.values(first)[0] : undefined) as T;
  }

  /**
   * A new connection on this engine's instance whose default database is a new in-memory one named `database`: its
   * tables, views and macros (and the connection's temporary objects) are its own, and `release` detaches it on
   * close. Settings are the instance's. Saves opening an instance (~20-50 ms, src/orchestrator/engines.ts).
   */
  async session(database: string, release: () => void): Promise<Engine> {
    const connection = await this.instance.connect();
    try {
      await connection.run(`ATTACH ':memory:' AS ${ident(database)}`);
      await connection.run(`USE ${ident(database)}`);
      await connection.run("SET TimeZone = 'UTC'");
    } catch (e) {
      connection.closeSync();
      throw e;
    }
    return new Engine(this.instance, connection, this.path, release);
  }

  close(): void {
    this.connection.closeSync();
    if (this.release) this.release();
    else this.instance.closeSync();
  }
}

/** Quotes an identifier for DuckDB. */
export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Quotes a string literal (for paths and other values DuckDB cannot take as parameters, e.g. in COPY/read_parquet). */
export function lit(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** A list of file paths as a DuckDB list literal, for read_parquet([...]). */
export function litList(values: readonly string[]): string {
  return `[${values.map(lit).join(', ')}]`;
}

/**
 * Runs a statement with preserve_insertion_order off (parallel inserts and writes need not keep input order). One
 * statement string, so no other statement on this connection runs with the setting.
 */
export async function unordered(engine: Engine, sql: string): Promise<void> {
  try {
    await engine.run(`SET preserve_insertion_order = false;\n${sql};\nRESET preserve_insertion_order`);
  } catch (e) {
    await engine.run('RESET preserve_insertion_order');
    throw e;
  }
}
