// The persisted identity graph: one DuckDB file (DIR/graph.duckdb) that holds everything incremental linking needs,
// so a new record is matched against resolved people without re-resolving them:
//   raw       the input values of every record (a full refresh re-standardises from these)
//   records   the standardised match keys of every record with its CUSTOMER360_ID
//   edges     every scored pair at or above the threshold (or deterministic) with its levels, weights and decision
//   overrides the overrides applied last (a changed override re-clusters the people it names)
//   retired   retired CUSTOMER360_IDs with their survivor (merge pointers)
//   changes   the change events (linked / merged / split / unlinked), in commit order (an outbox: see identity-stream)
//   meta      the model (m/u, prior, comparisons and blocking rules in use, threshold), kept until a full refresh
// Every update is one transaction, so a crash leaves the graph as it was before or after a batch, never between.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Engine, lit } from '../engine/duckdb.ts';
import type { ModelParams } from './em.ts';
import { BLOCKING_RULES, COMPARISONS, DETERMINISTIC_RULES, type BlockingRule, type Comparison } from './model.ts';
import { MATCH_INPUT_COLUMNS } from './standardise.ts';

export const GRAPH_FILE = 'graph.duckdb';

export interface GraphModel {
  params: ModelParams;
  comparisons: string[];
  blockingRules: string[];
  deterministic: string[];
  threshold: number;
  trainedAt: string;
  trainedRecords: number;
  /** Placeholder values blocked on top of the built-in lists when the graph was built (kept for every batch). */
  block: string[];
}

export interface ModelParts {
  comparisons: Comparison[];
  rules: BlockingRule[];
  deterministic: (typeof DETERMINISTIC_RULES)[number][];
}

/** The comparison, blocking and deterministic rule objects a stored model names, in the stored order. */
export function modelParts(model: GraphModel): ModelParts {
  const byName = <T extends { name: string }>(all: readonly T[], names: string[]) =>
    names.map((n) => {
      const found = all.find((x) => x.name === n);
      if (!found) throw new Error(`The identity graph's model names '${n}', which this version does not define: run a full refresh (--full-refresh)`);
      return found;
    });
  return {
    comparisons: byName(COMPARISONS, model.comparisons),
    rules: byName(BLOCKING_RULES, model.blockingRules),
    deterministic: byName(DETERMINISTIC_RULES, model.deterministic),
  };
}

/** Raw input columns kept per record: the matcher's input columns, all text. */
export const RAW_COLUMNS = MATCH_INPUT_COLUMNS;

export function graphPath(dir: string): string {
  return join(resolve(dir), GRAPH_FILE);
}

export function graphExists(dir: string): boolean {
  return existsSync(graphPath(dir));
}

/**
 * A scratch in-memory engine with the graph attached as `g`. Matching work happens in memory; only the final
 * transaction writes to `g` (DuckDB lets one transaction write to one attached database).
 */
export async function openGraph(dir: string): Promise<Engine> {
  await mkdir(resolve(dir), { recursive: true });
  const engine = await Engine.open();
  try {
    await engine.run(`ATTACH ${lit(graphPath(dir))} AS g`);
    await engine.run(`CREATE TABLE IF NOT EXISTS g.meta (key VARCHAR PRIMARY KEY, value VARCHAR)`);
    await engine.run(`CREATE TABLE IF NOT EXISTS g.retired (TENANT_ID VARCHAR, RETIRED_ID VARCHAR, SURVIVOR_ID VARCHAR, RUN_ID VARCHAR, REASON VARCHAR, RETIRED_AT TIMESTAMP)`);
    await engine.run(`CREATE TABLE IF NOT EXISTS g.changes (SEQ BIGINT, EVENT_ID VARCHAR, TYPE VARCHAR, TENANT_ID VARCHAR, RUN_ID VARCHAR, EVENT_AT TIMESTAMP, EVENT VARCHAR)`);
    await engine.run(`CREATE TABLE IF NOT EXISTS g.overrides (KIND VARCHAR, TENANT_ID VARCHAR, SOURCE_SYSTEM_L VARCHAR, CUSTOMER_ID_L VARCHAR, SOURCE_SYSTEM_R VARCHAR, CUSTOMER_ID_R VARCHAR)`);
  } catch (e) {
    engine.close();
    throw e;
  }
  return engine;
}

export async function readModel(engine: Engine): Promise<GraphModel | undefined> {
  const v = await engine.scalar<string | undefined>(`SELECT value FROM g.meta WHERE key = 'model'`);
  return v ? (JSON.parse(v) as GraphModel) : undefined;
}

export async function hasRecords(engine: Engine): Promise<boolean> {
  const n = await engine.scalar<string | number | undefined>(`SELECT count(*) FROM information_schema.tables WHERE table_catalog = 'g' AND table_name = 'records'`);
  return Number(n) > 0;
}

/** Statement writing the model (inside the caller's transaction). */
export function writeModelSql(model: GraphModel): string {
  return `INSERT OR REPLACE INTO g.meta VALUES ('model', ${lit(JSON.stringify(model))})`;
}
