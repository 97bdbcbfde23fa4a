// What a job is: a small idempotent step, parameterised by run date / as-of date / partition, that reads and
// writes only through the lake and engine seams and reports what it did for the run manifest.
import type { Engine, EngineOptions } from '../engine/duckdb.ts';
import type { Lake } from '../lake/lake.ts';
import type { Logger } from './logger.ts';
import type { ParamType } from './params.ts';

export interface JobReport {
  /** Lake paths (or external sources) read. */
  inputs: string[];
  /** Lake paths written. */
  outputs: string[];
  /** Row counts by name, e.g. { 'CUSTOMERS.bronze': 1990, 'CUSTOMERS.quarantine': 10 }. */
  rowCounts: Record<string, number>;
  /** Quality and other metrics by name. */
  metrics: Record<string, unknown>;
}

export interface JobContext {
  runId: string;
  /** Stamped on every row written (ADF passes @pipeline().RunId). */
  loadId: string;
  home: string;
  lake: Lake;
  log: Logger;
  /** Partition date for ingestion, YYYY-MM-DD. */
  runDate: string;
  /**
   * The run's as-of date: only data with event time on or before it is used. Set for every job that uses it
   * (`usesAsOf`) by the pipeline runner or `c360 job`, which resolve it once (src/runtime/as-of.ts).
   */
  asOf?: string;
  /** Job parameters (strings, as on a command line). */
  params: Record<string, string>;
  report: JobReport;
  /** A scratch DuckDB engine with spill space under HOME/tmp; the caller closes it. */
  openEngine(options?: EngineOptions): Promise<Engine>;
}

export interface JobParamSpec {
  name: string;
  description: string;
  required?: boolean;
  /** What a value must be; checked before the job runs (src/runtime/params.ts). Default: any string. */
  type?: ParamType;
}

export interface Job {
  /** kebab-case, unique; the CLI runs it as `c360 job <name>`. */
  name: string;
  description: string;
  params?: readonly JobParamSpec[];
  /** Reads the as-of date: the runner resolves it before the job runs and records it in the manifest. */
  usesAsOf?: boolean;
  run(ctx: JobContext): Promise<void>;
}

export function emptyReport(): JobReport {
  return { inputs: [], outputs: [], rowCounts: {}, metrics: {} };
}
