// `c360 resolve`: standardisation and identity resolution alone, on a CSV or Parquet file of person records.
import { existsSync, realpathSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { extname, join, resolve as resolvePath } from 'node:path';
import { Engine, lit } from '../../engine/duckdb.ts';
import { loadPersonRecords } from '../../identity/input.ts';
import { parseOverrides } from '../../identity/overrides.ts';
import { resolveIdentities } from '../../identity/resolve.ts';
import { readRegistry, readRetired, writeRegistry, writeRetired } from '../../identity/state.ts';
import { UsageError } from '../../runtime/errors.ts';
import { newRunId } from '../../runtime/manifest.ts';
import { HOME_OPTION, requireStr, str, type Command } from '../command.ts';

export const command: Command = {
  name: 'resolve',
  summary: 'Resolve identities in a CSV/Parquet file of CUSTOMERS records: one output row per input record with its CUSTOMER360_ID',
  options: {
    ...HOME_OPTION,
    input: { type: 'string', description: 'CSV or Parquet with CUSTOMERS columns (any subset; common aliases accepted)' },
    output: { type: 'string', description: 'Output file (.csv or .parquet): CUSTOMER_ID, SOURCE_SYSTEM, CUSTOMER360_ID' },
    tenant: { type: 'string', description: 'Tenant id for records without a TENANT_ID column', default: 'default' },
    overrides: { type: 'string', description: 'Overrides CSV: KIND(never_match|always_match|block),TENANT_ID,SOURCE_SYSTEM_L,CUSTOMER_ID_L,SOURCE_SYSTEM_R,CUSTOMER_ID_R,VALUE' },
    state: { type: 'string', description: 'Folder keeping the id registry between runs (stable ids); none: ids are minted from the data' },
    threshold: { type: 'string', description: 'Match probability for a link', default: '0.5' },
    ledger: { type: 'string', description: 'Also write the match ledger to this Parquet file' },
  },
  async run(values, _p, io) {
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
