// The lake seam: a local folder by default, ADLS Gen2 in Azure. Paths are lake-relative with forward slashes,
// e.g. bronze/customer360/transactions/ingest_date=2026-11-21/part-....parquet.
import type { Holder } from '../runtime/lock.ts';

export interface LakeFile {
  path: string;
  size: number;
}

export interface Lake {
  /** Human-readable location, e.g. file:///home/me/.c360/lake or abfss://lake@acct.dfs.core.windows.net. */
  readonly location: string;
  /** Files under a prefix, recursively, sorted by path. Never includes uncommitted temporary files. */
  list(prefix: string): Promise<LakeFile[]>;
  exists(path: string): Promise<boolean>;
  read(path: string): Promise<Buffer>;
  /** Writes a whole file atomically: readers see either nothing or the complete file. */
  write(path: string, data: Buffer | string): Promise<void>;
  /** Commits a finished local file to the lake atomically (rename locally, single upload commit on ADLS). */
  putFile(localFile: string, path: string): Promise<void>;
  /**
   * A local filesystem path DuckDB can read for a lake file: the file itself for a local lake,
   * a downloaded copy in a cache folder for ADLS.
   */
  localPath(path: string): Promise<string>;
  delete(path: string): Promise<void>;
  /**
   * One writer per scope of a shared lake (ADLS: a blob lease on _locks/<scope>, renewed while held, expiring within a
   * minute of a crash). Waits up to waitMs, then throws a TransientError naming the holder. A local lake has one lock
   * file for the whole lake (a lake folder two homes share).
   */
  lock?(scope: string, holder: Holder, waitMs: number): Promise<() => Promise<void>>;
}

export function joinLake(...parts: string[]): string {
  return parts
    .flatMap((p) => p.split('/'))
    .filter((p) => p.length > 0 && p !== '.')
    .join('/');
}
