// `c360 resolve`: standardisation and identity resolution alone, on a CSV or Parquet file of person records.
import { existsSync, realpathSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { extname, join, resolve as resolvePath } from 'node:path';
import { Engine, lit } from '../../engine/duckdb.ts';
import { explainPair, formatExplanation } from '../../identity/explain.ts';
import { GRAPH_FILE, graphExists, openGraph } from '../../identity/graph.ts';
import { updateGraph } from '../../identity/incremental.ts';
import { loadPersonRecords } from '../../identity/input.ts';
import { parseOverrides } from '../../identity/overrides.ts';
import { resolveIdentities } from '../../identity/resolve.ts';
import { readRegistry, readRetired, writeRegistry, writeRetired } from '../../identity/state.ts';
import { UsageError } from '../../runtime/errors.ts';
import { newRunId } from '../../runtime/manifest.ts';
import { HOME_OPTION, requireStr, str, type Command, type CommandIO, type Values } from '../command.ts';

async function explain(values: Values, positionals: string[], io: CommandIO): Promise<number> {
  const state = requireStr(values, 'state');
  if (positionals.length !== 2) throw new UsageError(`--explain takes two records (SOURCE_SYSTEM:CUSTOMER_ID), got ${positionals.length}: c360 resolve --explain CRM:1 POS:7 --state DIR`);
  if (!graphExists(state)) throw new UsageError(`--state ${state} holds no identity graph (${GRAPH_FILE}): build it with c360 resolve --incremental --state ${state} --input F`);
  const engine = await openGraph(state);
  try {
    const x = await explainPair(engine, positionals[0]!, positionals[1]!, str(values, 'tenant') ?? 'default');
    for (const line of formatExplanation(x)) io.out(line);
    return 0;
  } finally {
    engine.close();
  }
}

async function incremental(values: Values, io: CommandIO): Promise<number> {
  const state = requireStr(values, 'state');
  const fullRefresh = values['full-refresh'] === true;
  const inputArg = str(values, 'input');
  if (!inputArg && !fullRefresh) throw new UsageError('--input is required (or --full-refresh alone to re-resolve the graph)');
  const input = inputArg ? resolvePath(inputArg) : undefined;
  if (input && !existsSync(input)) throw new UsageError(`--input ${input} does not exist`);
  const output = str(values, 'output');
  if (output && !['.csv', '.parquet'].includes(extname(output).toLowerCase())) throw new UsageError(`--output must end in .csv or .parquet, got '${output}'`);
  // Never write over a file this command reads.
  const reads = [input, str(values, 'overrides') ? resolvePath(str(values, 'overrides')!) : undefined].filter((f): f is string => !!f).map(realOrSelf);
  for (const flag of ['output', 'changes'] as const) {
    const file = str(values, flag);
    if (file && reads.includes(realOrSelf(resolvePath(file)))) throw new UsageError(`--${flag} ${file} is a file this command reads: write the result to another file`);
  }
  const tenant = str(values, 'tenant') ?? 'default';
  const overridesFile = str(values, 'overrides');
  const overrides = overridesFile ? parseOverrides(await readFile(overridesFile, 'utf8'), overridesFile, tenant) : undefined;
  const thresholdArg = str(values, 'threshold');
  const threshold = thresholdArg === undefined || thresholdArg === '0.5' ? undefined : Number(thresholdArg);
  if (threshold !== undefined && !(threshold > 0 && threshold < 1)) throw new UsageError(`--threshold must be between 0 and 1, got '${thresholdArg}'`);
  const engine = await openGraph(state);
  try {
    if (input) await loadPersonRecords(engine, input, 'id_input');
    else await engine.run(`CREATE OR REPLACE TABLE id_input AS SELECT NULL::BIGINT AS rid, NULL::VARCHAR AS CUSTOMER_ID WHERE false`);
    const result = await updateGraph(engine, 'id_input', { runId: newRunId(), tenant, overrides, fullRefresh, threshold, onStep: (s) => io.log.progress(`resolve: ${s}`) });
    if (output) {
      const format = extname(output).toLowerCase() === '.csv' ? '(FORMAT csv, HEADER true)' : '(FORMAT parquet)';
      await engine.run(`COPY (SELECT r.CUSTOMER_ID, r.SOURCE_SYSTEM, g.customer360_id AS CUSTOMER360_ID FROM id_batch r
        JOIN g.records g ON g.tenant_id = r.TENANT_ID AND g.source_system = r.SOURCE_SYSTEM AND g.customer_id = r.CUSTOMER_ID) TO ${lit(resolvePath(output))} ${format}`);
    }
    const changes = str(values, 'changes');
    if (changes) await writeFile(resolvePath(changes), result.events.map((e) => JSON.stringify(e) + '\n').join(''));
    const counts: Record<string, number> = {};
    for (const e of result.events) counts[e.type] = (counts[e.type] ?? 0) + 1;
    io.log.info('resolved', { mode: result.mode, batch: result.batch, new: result.newRecords, changed: result.changedRecords, unchanged: result.unchangedRecords,
      candidates: result.candidates, newEdges: result.newEdges, reclustered: result.reclustered, events: counts, ms: result.timingsMs });
    io.out(`${result.mode}: ${result.newRecords} new, ${result.changedRecords} changed, ${result.unchangedRecords} unchanged records; ${result.graphRecords} records in the graph; changes: ${Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(', ') || 'none'}`);
    return 0;
  } finally {
    engine.close();
  }
}

export const command: Command = {
  name: 'resolve',
  args: '[REC1 REC2 with --explain]',
  summary: 'Resolve identities in a CSV/Parquet file of CUSTOMERS records (one output row per record with its CUSTOMER360_ID); --incremental links into a kept graph; --explain REC1 REC2',
  options: {
    ...HOME_OPTION,
    input: { type: 'string', description: 'CSV or Parquet with CUSTOMERS columns (any subset; common aliases accepted)' },
    output: { type: 'string', description: 'Output file (.csv or .parquet): CUSTOMER_ID, SOURCE_SYSTEM, CUSTOMER360_ID' },
    tenant: { type: 'string', description: 'Tenant id for records without a TENANT_ID column', default: 'default' },
    overrides: { type: 'string', description: 'Overrides CSV: KIND(never_match|always_match|block),TENANT_ID,SOURCE_SYSTEM_L,CUSTOMER_ID_L,SOURCE_SYSTEM_R,CUSTOMER_ID_R,VALUE' },
    state: { type: 'string', description: 'Folder keeping the id registry between runs (stable ids); none: ids are minted from the data' },
    threshold: { type: 'string', description: 'Match probability for a link', default: '0.5' },
    ledger: { type: 'string', description: 'Also write the match ledger to this Parquet file' },
    incremental: { type: 'boolean', description: 'Link the input into the identity graph in --state (DIR/graph.duckdb): only new and changed records are matched; the first run resolves everything' },
    'full-refresh': { type: 'boolean', description: 'With --incremental: resolve every record of the graph (and the input) again, retraining the model; ids are kept wherever a person survives' },
    changes: { type: 'string', description: 'With --incremental: write this run\'s change events (linked/merged/split/unlinked) as JSON lines to this file' },
    explain: { type: 'boolean', description: 'c360 resolve --explain REC1 REC2 --state DIR: why two records (SOURCE_SYSTEM:CUSTOMER_ID) are or are not the same person' },
  },
  async run(values, positionals, io) {
    if (values.explain) return explain(values, positionals, io);
    // Records are arguments of --explain only; elsewhere a stray word was ignored (`--input a.csv b.csv` read a.csv alone).
    if (positionals.length > 0) throw new UsageError(`Unexpected argument '${positionals[0]}': c360 resolve takes records as arguments only with --explain; give its input as --input FILE`);
    if (values.incremental || values['full-refresh']) return incremental(values, io);
    const input = resolvePath(requireStr(values, 'input'));
    const output = resolvePath(requireStr(values, 'output'));
    if (!existsSync(input)) throw new UsageError(`--input ${input} does not exist`);
    // Never write over a file this command reads (a typo would destroy the input it was meant to resolve).
    const ledgerOut = str(values, 'ledger') ? resolvePath(str(values, 'ledger')!) : undefined;
    const reads = [input, str(values, 'overrides') ? resolvePath(str(values, 'overrides')!) : undefined].filter((f): f is string => !!f).map(realOrSelf);
    for (const [flag, file] of [['--output', output], ['--ledger', ledgerOut]] as const) {
      if (file && reads.includes(realOrSelf(file))) throw new UsageError(`${flag} ${file} is a file this command reads: write the result to another file`);
    }
    if (ledgerOut && realOrSelf(ledgerOut) === realOrSelf(output)) throw new UsageError(`--ledger and --output are the same file (${output}): pick two files`);
    const outExt = extname(output).toLowerCase();
    if (outExt !== '.csv' && outExt !== '.parquet') throw new UsageError(`--output must end in .csv or .parquet, got '${output}'`);
    const threshold = Number(str(values, 'threshold') ?? '0.5');
    if (!(threshold > 0 && threshold < 1)) throw new UsageError(`--threshold must be between 0 and 1, got '${values.threshold}'`);
    const tenant = str(values, 'tenant') ?? 'default';
    const overridesFile = str(values, 'overrides');
    const overrides = overridesFile ? parseOverrides(await readFile(overridesFile, 'utf8'), overridesFile, tenant) : undefined;
    const state = str(values, 'state');
    const engine = await Engine.open();
    try {
      const { rows, mapped } = await loadPersonRecords(engine, input, 'id_input');
      io.log.info('records loaded', { rows, columns: mapped });
      const registryFile = state ? join(resolvePath(state), 'id_registry.parquet') : undefined;
      const retiredFile = state ? join(resolvePath(state), 'retired_ids.parquet') : undefined;
      const runId = newRunId();
      const result = await resolveIdentities(engine, 'id_input', {
        runId,
        tenant,
        threshold,
        overrides,
        registry: registryFile && existsSync(registryFile) ? await readRegistry(engine, [registryFile]) : [],
        retired: retiredFile && existsSync(retiredFile) ? await readRetired(engine, [retiredFile]) : [],
        onStep: (s) => io.log.progress(`resolve: ${s}`),
      });
      const format = outExt === '.csv' ? '(FORMAT csv, HEADER true)' : '(FORMAT parquet)';
      await engine.run(`COPY (SELECT customer_id AS CUSTOMER_ID, source_system AS SOURCE_SYSTEM, customer360_id AS CUSTOMER360_ID FROM id_result ORDER BY rid) TO ${lit(output)} ${format}`);
      const ledger = str(values, 'ledger');
      if (ledger) await engine.run(`COPY id_ledger TO ${lit(resolvePath(ledger))} (FORMAT parquet)`);
      if (state && registryFile && retiredFile) {
        await mkdir(resolvePath(state), { recursive: true });
        await writeRegistry(engine, result.registry, registryFile);
        await writeRetired(engine, result.retired, retiredFile);
      }
      io.log.info('resolved', {
        records: result.records, clusters: result.clusters, candidatePairs: result.candidatePairs, links: result.links,
        refused: result.refusedLinks, churn: result.churn, ms: result.timingsMs,
      });
      io.out(`${result.records} records -> ${result.clusters} CUSTOMER360_IDs (${output})`);
      return 0;
    } finally {
      engine.close();
    }
  },
};

/** The real path of a file (through symlinks), or the path itself when it does not exist yet. */
function realOrSelf(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return file;
  }
}
