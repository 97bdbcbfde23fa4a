// Silver step 2: identity resolution over the staged CUSTOMERS with stable ids kept in the lake.
import { CUSTOMERS } from '../schemas/customers.ts';
import { IDENTITY_LINKS } from '../schemas/identity-links.ts';
import type { Job } from '../src/runtime/job.ts';
import { ident, lit } from '../src/engine/duckdb.ts';
import { linkedIds, linkOverrides, type CollectedLink } from '../src/identity/collected.ts';
import { EMPTY_OVERRIDES, parseOverrides } from '../src/identity/overrides.ts';
import { resolveIdentities } from '../src/identity/resolve.ts';
import { readRegistry, readRetired } from '../src/identity/state.ts';
import { appendRows } from '../src/identity/append.ts';
import { IDENTITY_PATHS, stagingFile } from '../src/silver/paths.ts';
import { getDataset } from '../src/catalogue/index.ts';
import { writeDataset } from '../src/catalogue/runner.ts';
import { IDENTITY_DATASETS } from '../src/silver/datasets.ts';
import { UsageError } from '../src/runtime/errors.ts';

export const silverIdentityJob: Job = {
  name: 'silver-identity',
  description: 'Resolve CUSTOMERS into CUSTOMER360_IDs: crosswalk, match ledger, cluster summaries; ids kept stable in the lake registry',
  params: [
    { name: 'tenant', description: "Tenant id of this lake's records (default 'default')" },
    { name: 'overrides', description: `Lake path of the overrides CSV (default ${IDENTITY_PATHS.overrides}; absent = none)` },
    { name: 'threshold', description: 'Match probability for a link (default 0.5)', type: { kind: 'number', min: 0, max: 1, exclusive: true } },
  ],
  async run(ctx) {
    const tenant = ctx.params.tenant || 'default';
    const staged = stagingFile(CUSTOMERS);
    if (!(await ctx.lake.exists(staged))) throw new UsageError(`${staged} is missing: run silver-standardise for CUSTOMERS first`);
    ctx.report.inputs.push(staged);
    const overridesPath = ctx.params.overrides || IDENTITY_PATHS.overrides;
    const overrides = (await ctx.lake.exists(overridesPath))
      ? parseOverrides((await ctx.lake.read(overridesPath)).toString('utf8'), overridesPath, tenant)
      : undefined;
    if (overrides) ctx.report.inputs.push(overridesPath);
    const engine = await ctx.openEngine();
    try {
      await engine.run(`CREATE TABLE id_input AS
SELECT (row_number() OVER (ORDER BY _source_system, CUSTOMER_ID) - 1)::BIGINT AS rid, ${lit(tenant)} AS TENANT_ID,
  _source_system AS SOURCE_SYSTEM, CUSTOMER_ID, FIRST_NAME, LAST_NAME, EMAIL_ADDRESS, PHONE_NUMBER, DATE_OF_BIRTH, GENDER,
  ADDRESS_LINE_1, CITY, STATE_CODE, ZIP_CODE, COUNTRY_CODE
FROM read_parquet(${lit(await ctx.lake.localPath(staged))})`);
      // Collected identity links (c360 collect): always-match edges between records, and ids to attach afterwards.
      const linksFile = stagingFile(IDENTITY_LINKS);
      let links: CollectedLink[] = [];
      if (await ctx.lake.exists(linksFile)) {
        ctx.report.inputs.push(linksFile);
        links = (
          await engine.all<{ s: string; c: string; l: string; t: string; id: string }>(
            `SELECT SOURCE_SYSTEM AS s, CUSTOMER_ID AS c, LINKED_ID AS l, CAST(LINKED_AT AS VARCHAR) AS t, LINK_ID AS id
             FROM read_parquet(${lit(await ctx.lake.localPath(linksFile))})
             WHERE TENANT_ID = ${lit(tenant)} AND SOURCE_SYSTEM IS NOT NULL AND CUSTOMER_ID IS NOT NULL AND LINKED_ID IS NOT NULL`,
          )
        ).map((r) => ({ source: r.s, customerId: r.c, linkedId: r.l, linkedAt: r.t ?? '', linkId: r.id }));
      }
      const records = new Set(
        (await engine.all<{ k: string }>(`SELECT SOURCE_SYSTEM || chr(0) || CUSTOMER_ID AS k FROM id_input WHERE CUSTOMER_ID IS NOT NULL`)).map((r) => r.k),
      );
      const always = linkOverrides(links, tenant, (source, id) => records.has(`${source}\0${id}`));
      const withLinks = always.length ? { ...(overrides ?? EMPTY_OVERRIDES), always: [...(overrides ?? EMPTY_OVERRIDES).always, ...always] } : overrides;
      const stateFile = async (path: string) => {
        if (!(await ctx.lake.exists(path))) return [];
        ctx.report.inputs.push(path);
        return [await ctx.lake.localPath(path)];
      };
      const prior = await readRegistry(engine, await stateFile(IDENTITY_PATHS.registry));
      const priorRetired = await readRetired(engine, await stateFile(IDENTITY_PATHS.retired));
      const result = await resolveIdentities(engine, 'id_input', {
        runId: ctx.runId,
        tenant,
        threshold: ctx.params.threshold ? Number(ctx.params.threshold) : undefined,
        overrides: withLinks,
        registry: prior,
        retired: priorRetired,
        onStep: (s) => ctx.log.progress(`identity: ${s}`),
      });
      // Linked ids that are no record (anonymousIds, userIds never identified) join the crosswalk beside the records.
      const recordIds = new Map(
        (await engine.all<{ k: string; id: string }>(`SELECT source_system || chr(0) || customer_id AS k, customer360_id AS id FROM id_result`)).map((r) => [r.k, r.id]),
      );
      const attached = linkedIds(links, recordIds);
      await engine.run('CREATE TABLE id_linked (TENANT_ID VARCHAR, SOURCE_SYSTEM VARCHAR, CUSTOMER_ID VARCHAR, CUSTOMER360_ID VARCHAR)');
      await appendRows(engine, 'id_linked', attached.map((a) => [tenant, a.source, a.customerId, a.customer360Id]));
      // A comparison the data cannot make (no birth dates, phones or addresses at all) has no level or weight
      // columns in the ledger: they are declared, so they are written as nulls.
      const ledgerColumns = async () => {
        const have = new Set((await engine.all<{ column_name: string }>('SELECT column_name FROM (DESCRIBE id_ledger)')).map((r) => r.column_name));
        return getDataset(IDENTITY_DATASETS.ledger).columns.map((c) => (have.has(c.name) ? ident(c.name) : `NULL AS ${ident(c.name)}`)).join(', ');
      };
      const write = async (name: keyof typeof IDENTITY_DATASETS, sql: string) => (await writeDataset(ctx, engine, getDataset(IDENTITY_DATASETS[name]), sql)).rows;
      const n = {
        crosswalk: await write(
          'crosswalk',
          `SELECT * FROM (SELECT tenant_id AS TENANT_ID, source_system AS SOURCE_SYSTEM, customer_id AS CUSTOMER_ID, customer360_id AS CUSTOMER360_ID FROM id_result ORDER BY rid)
           UNION ALL (SELECT * FROM id_linked ORDER BY SOURCE_SYSTEM, CUSTOMER_ID)`,
        ),
        ledger: await write('ledger', `SELECT ${await ledgerColumns()} FROM id_ledger ORDER BY SOURCE_SYSTEM_L, CUSTOMER_ID_L, SOURCE_SYSTEM_R, CUSTOMER_ID_R`),
        clusters: await write('clusters', 'SELECT * FROM id_clusters ORDER BY CUSTOMER360_ID'),
      };
      await engine.run('CREATE TABLE reg (TENANT_ID VARCHAR, SOURCE_SYSTEM VARCHAR, CUSTOMER_ID VARCHAR, CUSTOMER360_ID VARCHAR)');
      await appendRows(engine, 'reg', result.registry.map((r) => [r.TENANT_ID, r.SOURCE_SYSTEM, r.CUSTOMER_ID, r.CUSTOMER360_ID]));
      await write('registry', 'SELECT * FROM reg ORDER BY ALL');
      await engine.run('CREATE TABLE ret (TENANT_ID VARCHAR, RETIRED_ID VARCHAR, SURVIVOR_ID VARCHAR, RUN_ID VARCHAR, REASON VARCHAR)');
      await appendRows(engine, 'ret', result.retired.map((r) => [r.TENANT_ID, r.RETIRED_ID, r.SURVIVOR_ID, r.RUN_ID, r.REASON]));
      await write('retired', 'SELECT * FROM ret ORDER BY ALL');
      ctx.report.rowCounts['identity.records'] = result.records;
      ctx.report.rowCounts['identity.crosswalk'] = n.crosswalk;
      ctx.report.rowCounts['identity.collected_links'] = links.length;
      ctx.report.rowCounts['identity.linked_ids'] = attached.length;
      ctx.report.rowCounts['identity.match_ledger'] = n.ledger;
      ctx.report.rowCounts['identity.clusters'] = n.clusters;
      ctx.report.metrics.identity = {
        records: result.records,
        customer360Ids: result.clusters,
        candidatePairs: result.candidatePairs,
        blockingRules: result.blockingRules,
        skippedRules: result.skippedRules,
        links: result.links,
        refusedLinks: result.refusedLinks,
        lambda: result.params.lambda,
        emIterations: result.params.iterations,
        emConverged: result.params.converged,
        idChurn: result.churn,
        overrides: overrides ? { never: overrides.never.length, always: overrides.always.length, block: overrides.block.length } : null,
        collectedLinks: { links: links.length, alwaysMatch: always.length, linkedIds: attached.length },
        timingsMs: result.timingsMs,
      };
      ctx.log.info('identity resolved', { records: result.records, ids: result.clusters, churn: result.churn });
    } finally {
      engine.close();
    }
  },
};
