// Silver step 2: identity resolution, incremental. The customers staging changed since the graph last consumed it
// (its change files; the whole staged table when the graph is new, a full refresh, or the change log no longer
// reaches back) are linked into the persisted identity graph kept in the lake (src/silver/identity-graph-lake.ts),
// with the graph's model, overrides and merge protection (src/identity/incremental.ts). Then the identity datasets
// are written from the graph: crosswalk, ledger, clusters, registry and retired ids, this run's change events
// (identity_changes, appended) and the retired-id redirects (customer_id_redirects). `fullRefresh=true` resolves
// every record again, retraining the model and keeping ids wherever a person survives.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { CUSTOMERS } from '../schemas/customers.ts';
import { IDENTITY_LINKS } from '../schemas/identity-links.ts';
import type { Job, JobContext } from '../src/runtime/job.ts';
import type { Engine } from '../src/engine/duckdb.ts';
import { lit } from '../src/engine/duckdb.ts';
import { linkedIds, linkOverrides, type CollectedLink } from '../src/identity/collected.ts';
import { EMPTY_OVERRIDES, parseOverrides, type Overrides } from '../src/identity/overrides.ts';
import { hasRecords, openGraph } from '../src/identity/graph.ts';
import { updateGraph } from '../src/identity/incremental.ts';
import { appendRows } from '../src/identity/append.ts';
import type { RegistryRow, RetiredRow } from '../src/identity/ids.ts';
import { readRegistry, readRetired } from '../src/identity/state.ts';
import { IDENTITY_PATHS, stagingFile } from '../src/silver/paths.ts';
import { getDataset } from '../src/catalogue/index.ts';
import { conformSql, writeDataset } from '../src/catalogue/runner.ts';
import { changesSince, datasetDataFiles, readDatasetSql, readDatasetState } from '../src/catalogue/partitioned.ts';
import { commitQuery } from '../src/lake/parquet.ts';
import { joinLake } from '../src/lake/lake.ts';
import { IDENTITY_DATASETS, stagedName } from '../src/silver/datasets.ts';
import { truthy, VERSION_ORDER } from '../src/silver/incremental.ts';
import { checkoutGraph, commitGraph } from '../src/silver/identity-graph-lake.ts';
import {
  buildChanges, buildRedirects, GRAPH_CLUSTERS_SQL, GRAPH_CROSSWALK_SQL, GRAPH_RETIRED_SQL, graphLedgerSql, lastChangeSeq,
} from '../src/silver/identity-outputs.ts';
import { UsageError } from '../src/runtime/errors.ts';

/** The matcher's input columns of a staged CUSTOMERS row. */
const INPUT_COLUMNS = 'CUSTOMER_ID, FIRST_NAME, LAST_NAME, EMAIL_ADDRESS, PHONE_NUMBER, DATE_OF_BIRTH, GENDER, ADDRESS_LINE_1, CITY, STATE_CODE, ZIP_CODE, COUNTRY_CODE';

/** Collected identity links (c360 collect): always-match edges between records, and ids to attach afterwards. */
async function readLinks(ctx: JobContext, engine: Engine, tenant: string): Promise<CollectedLink[]> {
  const linksFile = stagingFile(IDENTITY_LINKS);
  if (!(await ctx.lake.exists(linksFile))) return [];
  ctx.report.inputs.push(linksFile);
  return (
    await engine.all<{ s: string; c: string; l: string; t: string; id: string }>(
      `SELECT SOURCE_SYSTEM AS s, CUSTOMER_ID AS c, LINKED_ID AS l, CAST(LINKED_AT AS VARCHAR) AS t, LINK_ID AS id
       FROM read_parquet(${lit(await ctx.lake.localPath(linksFile))})
       WHERE TENANT_ID = ${lit(tenant)} AND SOURCE_SYSTEM IS NOT NULL AND CUSTOMER_ID IS NOT NULL AND LINKED_ID IS NOT NULL`,
    )
  ).map((r) => ({ source: r.s, customerId: r.c, linkedId: r.l, linkedAt: r.t ?? '', linkId: r.id }));
}

/** A stable signature of the overrides in force (a change re-clusters the people they name). */
function overridesSignature(o: Overrides): string {
  const pair = ([l, r]: Overrides['never'][number]) => [l.tenant, l.source, l.customerId, r.tenant, r.source, r.customerId].join('\u0001');
  return createHash('sha256').update(JSON.stringify([o.never.map(pair).sort(), o.always.map(pair).sort(), [...o.block].sort()])).digest('hex').slice(0, 32);
}

export const silverIdentityJob: Job = {
  name: 'silver-identity',
  description: 'Link the customers staging changed into the identity graph kept in the lake (stable CUSTOMER360_IDs); write crosswalk, ledger, clusters, change events and retired-id redirects',
  params: [
    { name: 'tenant', description: "Tenant id of this lake's records (default 'default')" },
    { name: 'overrides', description: `Lake path of the overrides CSV (default ${IDENTITY_PATHS.overrides}; absent = none)` },
    { name: 'threshold', description: 'Match probability for a link when the model is (re)trained (default: the graph\'s, else 0.5)', type: { kind: 'number', min: 0, max: 1, exclusive: true } },
    { name: 'fullRefresh', description: "'true': resolve every staged customer again (retrains the model; ids kept wherever a person survives)", type: { kind: 'bool' } },
  ],
  async run(ctx) {
    const tenant = ctx.params.tenant || 'default';
    const full = truthy(ctx.params.fullRefresh);
    const stagedDs = getDataset(stagedName(CUSTOMERS));
    const staged = await readDatasetState(ctx.lake, stagedDs.path);
    if (!staged) throw new UsageError(`${stagedDs.path} has no state: run silver-standardise for CUSTOMERS first`);
    const overridesPath = ctx.params.overrides || IDENTITY_PATHS.overrides;
    const fileOverrides = (await ctx.lake.exists(overridesPath))
      ? parseOverrides((await ctx.lake.read(overridesPath)).toString('utf8'), overridesPath, tenant)
      : EMPTY_OVERRIDES;
    if (fileOverrides !== EMPTY_OVERRIDES) ctx.report.inputs.push(overridesPath);

    // Where the time goes: fetching the graph, linking, writing the datasets, committing the graph.
    const ms: Record<string, number> = {};
    let t = Date.now();
    const lap = (name: string) => ((ms[name] = Date.now() - t), (t = Date.now()));
    ctx.report.metrics.identityTimingsMs = ms;
    const checkout = await checkoutGraph(ctx.lake, join(ctx.home, 'tmp', 'identity'));
    lap('checkout');
    try {
      const prev = checkout.state;
      if (prev) ctx.report.inputs.push(prev.graph);
      // The staged customers to link: the versions written since the graph's last commit (the latest version of each
      // key wins, as in staging), else every staged customer.
      const since = prev && !full ? changesSince(staged, prev.inputs.stagedCustomers) : undefined;
      const changeFiles = since?.flatMap((c) => (c.file ? [c.file] : []));
      const incremental = !!since && since.every((c) => c.file);
      const files = incremental ? changeFiles! : await datasetDataFiles(ctx.lake, stagedDs.path, staged);
      ctx.report.metrics.identityInput = incremental ? { mode: 'changes', stagingCommits: since!.length, files: files.length } : { mode: 'all staged customers', files: files.length };

      const engine = await openGraph(checkout.dir);
      let graphChanged = false;
      let signature = prev?.inputs.overrides ?? '';
      try {
        const links = await readLinks(ctx, engine, tenant);
        ctx.report.inputs.push(...files);
        const empty = [...INPUT_COLUMNS.split(', '), '_source_system', '_bronze_record_hash'].map((c) => `NULL::VARCHAR AS ${c}`).join(', ');
        const rel = await readDatasetSql(ctx.lake, files, `SELECT ${empty}, NULL::TIMESTAMP AS _ingested_at WHERE false`);
        await engine.run(`CREATE TABLE id_input AS
SELECT (row_number() OVER (ORDER BY _source_system, CUSTOMER_ID) - 1)::BIGINT AS rid, ${lit(tenant)} AS TENANT_ID, _source_system AS SOURCE_SYSTEM, ${INPUT_COLUMNS}
FROM (SELECT * FROM ${rel} QUALIFY row_number() OVER (PARTITION BY _source_system, CUSTOMER_ID ORDER BY ${VERSION_ORDER}) = 1)`);
        // Always-match edges from collected links between records the graph holds (or this batch brings).
        const records = new Set(
          (await engine.all<{ k: string }>(`SELECT SOURCE_SYSTEM || chr(0) || CUSTOMER_ID AS k FROM id_input WHERE CUSTOMER_ID IS NOT NULL
            ${(await hasRecords(engine)) ? `UNION SELECT source_system || chr(0) || customer_id FROM g.records WHERE tenant_id = ${lit(tenant)}` : ''}`)).map((r) => r.k),
        );
        const always = linkOverrides(links, tenant, (source, id) => records.has(`${source}\0${id}`));
        const overrides: Overrides = { ...fileOverrides, always: [...fileOverrides.always, ...always] };
        signature = overridesSignature(overrides);
        const batch = Number(await engine.scalar('SELECT count(*) FROM id_input'));
        if (prev && !full && batch === 0 && signature === prev.inputs.overrides) {
          ctx.report.metrics.identity = { mode: 'unchanged', batch: 0 };
          ctx.log.info('identity: no customer changed since the last run; graph and outputs unchanged');
          if (prev.inputs.stagedCustomers !== staged.seq) await commitGraph(ctx.lake, checkout, { inputs: { stagedCustomers: staged.seq, overrides: signature }, runId: ctx.runId, graphChanged: false });
          return;
        }
        const stored = await hasRecords(engine);
        if (!stored && batch === 0) {
          ctx.report.metrics.identity = { mode: 'empty', batch: 0 };
          ctx.log.warn('identity: no staged customers yet; nothing to resolve');
          return;
        }
        const seqBefore = stored ? await lastChangeSeq(engine) : 0;
        const threshold = ctx.params.threshold ? Number(ctx.params.threshold) : undefined;
        // A lake whose identity ran before the graph existed keeps its ids: the first build inherits the id registry
        // and retired-id pointers found in the lake.
        const seed = stored ? undefined : await legacyIds(ctx, engine);
        lap('input');
        const result = await updateGraph(engine, 'id_input', {
          runId: ctx.runId, tenant, overrides, fullRefresh: full, threshold, seed, onStep: (s) => ctx.log.progress(`identity: ${s}`),
        });
        graphChanged = result.mode === 'full' || result.newRecords + result.changedRecords > 0 || result.reclustered > 0 || result.events.length > 0;
        const counts: Record<string, number> = {};
        for (const e of result.events) counts[e.type] = (counts[e.type] ?? 0) + 1;
        ctx.report.metrics.identity = {
          mode: result.mode, batch: result.batch, newRecords: result.newRecords, changedRecords: result.changedRecords, unchangedRecords: result.unchangedRecords,
          candidates: result.candidates, newEdges: result.newEdges, reclustered: result.reclustered, graphRecords: result.graphRecords, records: result.graphRecords,
          customer360Ids: Number(await engine.scalar('SELECT count(DISTINCT customer360_id) FROM g.records')), events: counts,
          timingsMs: result.timingsMs,
        };
        ctx.log.info('identity linked', { mode: result.mode, batch: result.batch, new: result.newRecords, changed: result.changedRecords, events: counts });
        lap('link');
        if (graphChanged) await writeOutputs(ctx, engine, tenant, links, seqBefore, (prev?.seq ?? 0) + 1);
        lap('outputs');
        await engine.run('CHECKPOINT g');
      } finally {
        engine.close();
      }
      await commitGraph(ctx.lake, checkout, { inputs: { stagedCustomers: staged.seq, overrides: signature }, runId: ctx.runId, graphChanged });
      lap('commit');
    } finally {
      await checkout.release();
    }
  },
};

/** The id registry and retired ids of the lake (written by every identity run), to seed a first graph build. */
async function legacyIds(ctx: JobContext, engine: Engine): Promise<{ registry: RegistryRow[]; retired: RetiredRow[] } | undefined> {
  const files = async (path: string) => ((await ctx.lake.exists(path)) ? [await ctx.lake.localPath(path)] : []);
  const registry = await readRegistry(engine, await files(IDENTITY_PATHS.registry));
  if (registry.length === 0) return undefined;
  ctx.report.inputs.push(IDENTITY_PATHS.registry);
  return { registry, retired: await readRetired(engine, await files(IDENTITY_PATHS.retired)) };
}

/** Writes the identity datasets from the graph (`seq`: the graph commit these outputs belong to). */
async function writeOutputs(ctx: JobContext, engine: Engine, tenant: string, links: CollectedLink[], seqBefore: number, seq: number): Promise<void> {
  // Linked ids that are no record (anonymousIds, userIds never identified) join the crosswalk beside the records.
  const recordIds = new Map(
    (await engine.all<{ k: string; id: string }>(`SELECT source_system || chr(0) || customer_id AS k, customer360_id AS id FROM g.records WHERE tenant_id = ${lit(tenant)}`)).map((r) => [r.k, r.id]),
  );
  const attached = linkedIds(links, recordIds);
  await engine.run('CREATE OR REPLACE TABLE id_linked (TENANT_ID VARCHAR, SOURCE_SYSTEM VARCHAR, CUSTOMER_ID VARCHAR, CUSTOMER360_ID VARCHAR)');
  await appendRows(engine, 'id_linked', attached.map((a) => [tenant, a.source, a.customerId, a.customer360Id]));
  const write = async (name: keyof typeof IDENTITY_DATASETS, sql: string) => (await writeDataset(ctx, engine, getDataset(IDENTITY_DATASETS[name]), sql)).rows;
  await engine.run(`CREATE OR REPLACE TABLE ledger AS ${await graphLedgerSql(engine, ctx.runId)}`);
  const n = {
    crosswalk: await write('crosswalk', `SELECT * FROM (${GRAPH_CROSSWALK_SQL} ORDER BY rid) UNION ALL (SELECT * FROM id_linked ORDER BY SOURCE_SYSTEM, CUSTOMER_ID)`),
    ledger: await write('ledger', 'SELECT * FROM ledger'),
    clusters: await write('clusters', GRAPH_CLUSTERS_SQL),
    registry: await write('registry', `${GRAPH_CROSSWALK_SQL} ORDER BY ALL`),
    retired: await write('retired', GRAPH_RETIRED_SQL),
  };
  await buildRedirects(engine);
  const redirects = await write('redirects', 'SELECT * FROM redirects ORDER BY RETIRED_ID');
  // Change events are appended: one file per graph commit, named by its sequence, so a run that crashed before its
  // commit and runs again writes the same file instead of a second one.
  const events = await buildChanges(engine, seqBefore);
  const changesDs = getDataset(IDENTITY_DATASETS.changes);
  const changesFile = joinLake(changesDs.path, `part-${String(seq).padStart(6, '0')}.parquet`);
  if (events > 0) {
    await commitQuery(engine, ctx.lake, await conformSql(engine, changesDs, 'SELECT * FROM changes'), changesFile, { tmpDir: join(ctx.home, 'tmp', 'silver') });
    ctx.report.outputs.push(changesFile);
  } else if (await ctx.lake.exists(changesFile)) {
    await ctx.lake.delete(changesFile);
  }
  ctx.report.rowCounts['identity.crosswalk'] = n.crosswalk;
  ctx.report.rowCounts['identity.collected_links'] = links.length;
  ctx.report.rowCounts['identity.linked_ids'] = attached.length;
  ctx.report.rowCounts['identity.match_ledger'] = n.ledger;
  ctx.report.rowCounts['identity.clusters'] = n.clusters;
  ctx.report.rowCounts['identity.changes'] = events;
  ctx.report.rowCounts['identity.redirects'] = redirects;
}
