// `c360 snowflake ddl [--write|--check]` prints (or writes, or checks) the Snowflake golden files rendered from the
// warehouse model; `c360 snowflake load --as-of D` runs the load plan against Snowflake (key-pair auth from the
// environment or Key Vault); `--dry-run` prints the plan instead.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openLake } from '../../lake/index.ts';
import { newRunId } from '../../runtime/manifest.ts';
import { C360Error, UsageError } from '../../runtime/errors.ts';
import { isCurrentVersion, sourceDir, WAREHOUSE_TABLES } from '../../warehouse/model.ts';
import { snowflakeConfigFromEnv } from '../../warehouse/snowflake/config.ts';
import { DDL_FILES, renderGoldenFiles } from '../../warehouse/snowflake/golden-files.ts';
import { snowflakeLoadPlan } from '../../warehouse/snowflake/load-plan.ts';
import { snowflakeDialect } from '../../warehouse/dialects/snowflake.ts';
import { marksFrom, planIncrement, renderMarksQuery, type LoadMark } from '../../warehouse/increment.ts';
import type { TableIncrement } from '../../warehouse/load-plan.ts';
import type { WarehouseTable } from '../../warehouse/types.ts';
import { DEFAULT_SETUP, renderDatabase, renderMasking, renderRolesAndGrants, renderStage, renderTables } from '../../warehouse/snowflake/setup.ts';
import { HOME_OPTION, homeOf, isoDate, str, type Command } from '../command.ts';


export const SNOWFLAKE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'snowflake');

/** Golden files that differ from what the model renders now (paths relative to snowflake/). */
export async function staleGoldenFiles(dir = SNOWFLAKE_DIR): Promise<string[]> {
  const stale: string[] = [];
  for (const [rel, text] of Object.entries(renderGoldenFiles())) {
    const onDisk = await readFile(join(dir, rel), 'utf8').catch(() => undefined);
    if (onDisk !== text) stale.push(rel);
  }
  return stale;
}

const ddl: Command = {
  name: 'snowflake ddl',
  summary: 'Print the Snowflake DDL (database, tables, masking, stage, roles/grants) rendered from the warehouse model',
  options: {
    write: { type: 'boolean', description: 'Write the golden files under snowflake/ (ddl/*.sql, load/load-plan.sql)' },
    check: { type: 'boolean', description: 'Exit 1 when the golden files differ from the rendering' },
  },
  async run(values, _p, io) {
    const files = renderGoldenFiles();
    if (values.write) {
      for (const [rel, text] of Object.entries(files)) {
        await mkdir(dirname(join(SNOWFLAKE_DIR, rel)), { recursive: true });
        await writeFile(join(SNOWFLAKE_DIR, rel), text);
        io.out(`wrote snowflake/${rel}`);
      }
      return 0;
    }
    if (values.check) {
      const stale = await staleGoldenFiles();
      for (const s of stale) io.out(`stale: snowflake/${s} (run c360 snowflake ddl --write)`);
      return stale.length ? 1 : 0;
    }
    for (const rel of DDL_FILES) io.out(files[rel]!);
    return 0;
  },
};

const load: Command = {
  name: 'snowflake load',
  summary: 'Load the Gold snapshot of an as-of date into Snowflake: stage -> COPY INTO staging -> MERGE by load id',
  options: {
    ...HOME_OPTION,
    'as-of': { type: 'string', description: 'As-of date of the Gold snapshot YYYY-MM-DD (required)' },
    'load-id': { type: 'string', description: 'Load id (ADF: @pipeline().RunId; default: new run id)' },
    lake: { type: 'string', description: 'Lake location, to find which Gold datasets exist (default: $C360_LAKE_URL or HOME/lake)' },
    setup: { type: 'boolean', description: 'Apply the DDL first (database, tables, masking; not the account-level integration)' },
    'dry-run': { type: 'boolean', description: 'Print the statements instead of running them' },
    'full-refresh': { type: 'string', description: "true: restage and rewrite every row; false (default): only what changed (ADF passes the pipeline's fullRefresh)" },
  },
  async run(values, _p, io) {
    const asOf = isoDate(values, 'as-of');
    const refresh = (str(values, 'full-refresh') ?? 'false').toLowerCase();
    if (!['true', 'false'].includes(refresh)) throw new UsageError(`--full-refresh takes true or false, got '${str(values, 'full-refresh')}'`);
    if (!asOf) throw new UsageError('--as-of YYYY-MM-DD is required');
    const loadId = str(values, 'load-id') ?? newRunId();
    const lake = await openLake(homeOf(values), str(values, 'lake'));
    const available = new Set<string>();
    for (const t of WAREHOUSE_TABLES) {
      if ((await lake.list(sourceDir(t, asOf))).some((f) => f.path.endsWith('.parquet'))) available.add(t.source);
    }
    const setup = { ...DEFAULT_SETUP, database: process.env.SNOWFLAKE_DATABASE || DEFAULT_SETUP.database };
    const pre = values.setup
      ? [...renderDatabase(setup), ...renderTables(setup), ...renderMasking(setup), ...renderStage(setup).slice(1), ...renderRolesAndGrants(setup)].map((sql, i) => ({ label: `setup:${i + 1}`, sql }))
      : [];
    const plan = (increment?: (t: WarehouseTable) => TableIncrement | undefined) => [...pre, ...snowflakeLoadPlan(setup, { loadId, asOf, available, fullRefresh: refresh === 'true', increment })];
    // A current-version dataset not written yet (identity redirects before identity ever ran) is skipped, not fatal.
    const skipped = WAREHOUSE_TABLES.filter((t) => !available.has(t.source) && !isCurrentVersion(t)).map((t) => `${t.schema}.${t.name}`);
    if (skipped.length && !values['dry-run']) {
      // A load that leaves tables behind must not report success.
      throw new C360Error(`No Gold snapshot as of ${asOf} for ${skipped.join(', ')} in ${lake.location}: nothing was loaded`);
    }
    if (skipped.length) io.log.warn('no Gold snapshot, tables skipped in this dry run', { tables: skipped.join(', ') });
    // The day-partitioned facts: the days changed since what OPS.LOAD_STATE says the last load read (a dry run,
    // which reads no warehouse, compares every day).
    const increments = async (marks: ReadonlyMap<string, LoadMark>) => {
      const out = new Map<WarehouseTable, TableIncrement>();
      for (const t of WAREHOUSE_TABLES) {
        if (!available.has(t.source)) continue;
        const p = await planIncrement(lake, t, asOf, { mark: marks.get(`${t.schema}.${t.name}`), compareAll: refresh === 'true' });
        if (p) out.set(t, p.increment);
      }
      return (t: WarehouseTable) => out.get(t);
    };
    if (values['dry-run']) {
      for (const p of plan(await increments(new Map()))) io.out(`-- ${p.label}\n${p.sql};\n`);
      return 0;
    }
    const config = snowflakeConfigFromEnv();
    const { SnowflakeSession } = await import('../../warehouse/snowflake/client.ts');
    const session = await SnowflakeSession.connect(config);
    try {
      // (no OPS.LOAD_STATE yet: a warehouse set up before it existed; --setup creates it; every day is compared)
      const marks = await session.execute(renderMarksQuery(snowflakeDialect)).then((r) => marksFrom(r.rows as Record<string, unknown>[]), () => new Map<string, LoadMark>());
      await session.run(plan(await increments(marks)), io.log);
    } finally {
      await session.close();
    }
    io.log.info('snowflake load done', { asOf, loadId, tables: available.size });
    return 0;
  },
};

export const commands: Command[] = [ddl, load];
