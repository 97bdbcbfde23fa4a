// Audience membership, evaluated each run for the audiences that are due (their cadence), with entered/exited events.
//
// The event log is the state: audience_events holds one batch file per run (as_of_date=D/batch-N.parquet), and the
// current members of an audience are the people whose latest event in it is 'entered'. A run evaluates the due
// audiences, diffs them against the members the log says, and commits the differences as the next batch (the batch
// file is the commit). A crash before the commit leaves the log as it was; a re-run computes the same diff; a repeated
// run with unchanged data commits an empty batch. audience_membership (membership spans with history) is derived from
// the whole log after the commit, so it always agrees with the events.
import { join } from 'node:path';
import { columns, type Dataset } from '../catalogue/dataset.ts';
import { conformSql, emptySql, writeDataset } from '../catalogue/runner.ts';
import type { Engine } from '../engine/duckdb.ts';
import { ident, lit, litList } from '../engine/duckdb.ts';
import { customerProfile } from '../gold/customer-profile.ts';
import { GOLD_ROOT, goldDir } from '../gold/paths.ts';
import type { Lake } from '../lake/lake.ts';
import { commitQuery, parquetFiles } from '../lake/parquet.ts';
import { addDays } from '../runtime/days.ts';
import { C360Error } from '../runtime/errors.ts';
import type { JobContext } from '../runtime/job.ts';
import { IDENTITY_DATASETS } from '../silver/datasets.ts';
import { T } from '../warehouse/types.ts';
import { AUDIENCE_SOURCES } from './audience-columns.ts';
import type { Audience, Cadence } from './audience-file.ts';
import { survivorsSql } from './identity.ts';
import { ACTIVATION_ROOT } from './paths.ts';
import { changeBatchPath, committedBatches } from './profile-changes.ts';

const AUDIENCE: readonly [string, typeof T.varchar, string] = ['AUDIENCE', T.varchar, 'Audience name (audiences/<file>: name)'];
const ID: readonly [string, typeof T.varchar, string] = ['CUSTOMER360_ID', T.varchar, 'Person id from identity resolution (CUSTOMER360_ID)'];

export const audienceEvents: Dataset = {
  name: 'audience_events',
  layer: 'gold',
  path: `${GOLD_ROOT}/audience_events`,
  description: 'Audience entered/exited events: one row per person whose membership of an audience changed in a committed batch; and next-best-action triggers the audience\'s rules fired (at most one per person, action and day)',
  grain: 'one row per AUDIENCE, CUSTOMER360_ID and batch (files as_of_date=D/batch-NNNNNNNN.parquet)',
  maintenance: 'append',
  job: 'gold-audiences',
  inputs: ['customer_profile', 'risk_scores', 'customer_segments', IDENTITY_DATASETS.changes, 'profile_changes'],
  primaryKey: ['EVENT_ID'],
  columns: columns([
    ['EVENT_ID', T.varchar, 'Stable event id ae-<batch>-<audience>-<CUSTOMER360_ID> (triggered: nba-<as-of date>-<audience>-<action>-<CUSTOMER360_ID>, once a day): the same event always has the same id'],
    ['BATCH', T.bigint, 'Batch (publish sequence) that committed the event'],
    ['RUN_ID', T.varchar, 'Run that committed the batch'],
    ['AS_OF_DATE', T.date, 'As-of date the audience was evaluated for'],
    AUDIENCE, ID,
    ['EVENT_TYPE', T.varchar, 'entered or exited; triggered (a next-best-action trigger of the audience fired)'],
    ['MERGED_INTO', T.varchar, 'exited only: the person this member\'s id was merged into by identity resolution (re-key to it); NULL otherwise'],
    ['ACTION', T.varchar, 'triggered only: the action of the trigger (audiences/<file>: triggers[].action)'],
    ['REASON', T.varchar, 'triggered only: JSON of why: on = entered, or on = changed with the watched attributes\' changes (attribute, old, new) from the profile change feed'],
  ]),
  warehouse: { schema: 'CUSTOMER_360', table: 'AUDIENCE_EVENTS', strategy: 'append', clusterBy: ['AS_OF_DATE', 'AUDIENCE'] },
};

export const audienceMembership: Dataset = {
  name: 'audience_membership',
  layer: 'gold',
  path: `${GOLD_ROOT}/audience_membership`,
  description: 'Audience membership with history: one row per stay of a person in an audience (entered, and exited unless still a member)',
  grain: 'one row per AUDIENCE, CUSTOMER360_ID and entry batch',
  maintenance: 'snapshot',
  job: 'gold-audiences',
  inputs: ['audience_events'],
  primaryKey: ['AUDIENCE', 'CUSTOMER360_ID', 'ENTERED_BATCH'],
  columns: columns([
    AUDIENCE, ID,
    ['ENTERED_BATCH', T.bigint, 'Batch of the entered event'],
    ['ENTERED_AS_OF', T.date, 'As-of date the person entered'],
    ['EXITED_BATCH', T.bigint, 'Batch of the exited event (NULL: still a member)'],
    ['EXITED_AS_OF', T.date, 'As-of date the person exited (NULL: still a member)'],
    ['IS_MEMBER', T.boolean, 'Still a member as of AS_OF_DATE'],
    ['AS_OF_DATE', T.date, 'As-of date of this snapshot of the history'],
  ]),
  warehouse: {
    schema: 'CUSTOMER_360', table: 'AUDIENCE_MEMBERSHIP', strategy: 'snapshot', clusterBy: ['AUDIENCE', 'CUSTOMER360_ID'],
    comment: 'Audience membership with history: one row per stay of a person in an audience; IS_MEMBER marks current members',
  },
};

/** When each audience was last evaluated (for cadences), and with which filter. Written after the commit. */
export const EVALUATIONS_PATH = `${ACTIVATION_ROOT}/state/audience_evaluations.json`;
type Evaluations = Record<string, { asOf: string; batch: number; filter: string }>;

function addMonth(iso: string): string {
  const d = new Date(`${iso}T00:00:00Z`);
  d.setUTCMonth(d.getUTCMonth() + 1);
  return d.toISOString().slice(0, 10);
}

/** Whether an audience is evaluated this run: its cadence elapsed since the last evaluation, or its filter changed. */
export function isDue(cadence: Cadence, last: { asOf: string; filter: string } | undefined, filter: string, asOf: string): boolean {
  if (!last || last.filter !== filter || cadence === 'every-run') return true;
  if (cadence === 'daily') return asOf > last.asOf;
  if (cadence === 'weekly') return asOf >= addDays(last.asOf, 7);
  return asOf >= addMonth(last.asOf);
}

/** Registers a_base (or `table`): the profile with the score and segment columns the audiences use, as of the date. */
export async function registerBase(engine: Engine, lake: Lake, asOf: string, needed: ReadonlySet<string>, table = 'a_base'): Promise<string[]> {
  const read: string[] = [];
  const rel = async (ds: Dataset) => {
    const files = await parquetFiles(lake, goldDir(ds.name, asOf));
    if (files.length === 0) throw new C360Error(`Audiences read ${ds.name}, which has no snapshot as of ${asOf} (${goldDir(ds.name, asOf)}): run its job first`);
    read.push(...files);
    return `read_parquet(${litList(await Promise.all(files.map((f) => lake.localPath(f))))})`;
  };
  let sql = `SELECT p.* FROM ${await rel(customerProfile)} p`;
  for (const s of AUDIENCE_SOURCES.slice(1)) {
    const cols = s.columns.filter((c) => needed.has(c));
    if (!cols.length) continue;
    const alias = `j_${s.dataset.name}`;
    sql = sql.replace(/^SELECT (.*?) FROM/, `SELECT $1, ${cols.map((c) => `${alias}.${ident(c)}`).join(', ')} FROM`);
    sql += ` LEFT JOIN (SELECT CUSTOMER360_ID, ${cols.map(ident).join(', ')} FROM ${await rel(s.dataset)}) ${alias} USING (CUSTOMER360_ID)`;
  }
  await engine.run(`CREATE OR REPLACE TEMP TABLE ${table} AS ${sql}`);
  return read;
}

/** SQL of one audience's members: the filter over a_base with its rank columns computed over everyone. */
export function membersSql(a: Audience): string {
  const ranks = Object.entries(a.compiled.ranks).map(([name, r]) => {
    const c = ident(r.column);
    const over = `OVER (PARTITION BY ${c} IS NULL ORDER BY ${c}, CUSTOMER360_ID)`;
    return r.fn === 'decile'
      ? `CASE WHEN ${c} IS NOT NULL THEN ntile(10) ${over} END AS ${ident(name)}`
      : `CASE WHEN ${c} IS NOT NULL THEN 100 * percent_rank() OVER (PARTITION BY ${c} IS NULL ORDER BY ${c}) END AS ${ident(name)}`;
  });
  const from = ranks.length ? `(SELECT *, ${ranks.join(', ')} FROM a_base)` : 'a_base';
  return `SELECT ${lit(a.name)} AS AUDIENCE, CUSTOMER360_ID FROM ${from} WHERE ${a.compiled.sql}`;
}

/** Current members per audience according to the committed event log. */
function currentMembersSql(logFiles: readonly string[]): string {
  if (!logFiles.length) return `SELECT CAST(NULL AS VARCHAR) AS AUDIENCE, CAST(NULL AS VARCHAR) AS CUSTOMER360_ID WHERE false`;
  return `SELECT AUDIENCE, CUSTOMER360_ID FROM read_parquet(${litList(logFiles)}) WHERE EVENT_TYPE IN ('entered', 'exited')
QUALIFY row_number() OVER (PARTITION BY AUDIENCE, CUSTOMER360_ID ORDER BY BATCH DESC) = 1 AND EVENT_TYPE = 'entered'`;
}

/**
 * SQL of the next-best-action triggers the due audiences fire this run (undefined: none declared): 'entered' for the
 * members entering now (a_events), 'changed' for the members (a_now) whose watched columns changed in the profile
 * change feed batches of the as-of date. One event per member, action and day: ids already in the log are left out.
 */
async function triggersSql(lake: Lake, due: readonly Audience[], o: { batch: number; runId: string; asOf: string; logFiles: readonly string[] }): Promise<string | undefined> {
  const parts: string[] = [];
  const changeFiles = await Promise.all((await committedBatches(lake)).filter((b) => b.asOf === o.asOf).map((b) => lake.localPath(b.path)));
  const head = (a: Audience, action: string, reason: string) => `SELECT 'nba-' || ${lit(o.asOf)} || '-' || ${lit(a.name)} || '-' || ${lit(action)} || '-' || CUSTOMER360_ID AS EVENT_ID,
    CAST(${o.batch} AS BIGINT) AS BATCH, ${lit(o.runId)} AS RUN_ID, DATE ${lit(o.asOf)} AS AS_OF_DATE, ${lit(a.name)} AS AUDIENCE, CUSTOMER360_ID,
    'triggered' AS EVENT_TYPE, CAST(NULL AS VARCHAR) AS MERGED_INTO, ${lit(action)} AS ACTION, ${reason} AS REASON`;
  for (const a of due) {
    for (const t of a.triggers) {
      if (t.on === 'entered') {
        parts.push(`${head(a, t.action, `'{"on":"entered"}'`)} FROM a_events WHERE EVENT_TYPE = 'entered' AND AUDIENCE = ${lit(a.name)}`);
      } else if (changeFiles.length) {
        const cols = `[${t.columns.map(lit).join(', ')}]`;
        const changed = `SELECT CUSTOMER360_ID, CAST(to_json({'on': 'changed', 'changes': list_filter(CAST(CAST(CHANGES AS JSON) AS JSON[]), x -> list_contains(${cols}, x->>'attribute'))}) AS VARCHAR) AS R
          FROM read_parquet(${litList(changeFiles)}) WHERE CHANGE_TYPE = 'updated' AND list_has_any(string_split(CHANGED_ATTRIBUTES, ','), ${cols})
          QUALIFY row_number() OVER (PARTITION BY CUSTOMER360_ID ORDER BY BATCH DESC) = 1`;
        parts.push(`${head(a, t.action, 'c.R')} FROM (SELECT CUSTOMER360_ID FROM a_now WHERE AUDIENCE = ${lit(a.name)}) m JOIN (${changed}) c USING (CUSTOMER360_ID)`);
      }
    }
  }
  if (!parts.length) return undefined;
  const fired = o.logFiles.length ? ` WHERE EVENT_ID NOT IN (SELECT EVENT_ID FROM read_parquet(${litList(o.logFiles)}) WHERE EVENT_TYPE = 'triggered')` : '';
  return `SELECT * FROM (${parts.join('\nUNION ALL\n')})${fired}`;
}

export interface AudienceRunResult {
  batch: number;
  asOf: string;
  evaluated: string[];
  skipped: string[];
  /** Audiences whose file is gone: their members exit. */
  removed: string[];
  /** Per audience: members after the run, entered, exited. */
  counts: Record<string, { members: number; entered: number; exited: number; triggered: number }>;
  eventsPath?: string;
  inputs: string[];
}

/**
 * Evaluates the due audiences as of `asOf` and, unless dryRun, commits their entered/exited events as the next batch
 * of audience_events and writes the audience_membership snapshot.
 */
export async function runAudiences(
  ctx: JobContext,
  engine: Engine,
  audiences: readonly Audience[],
  o: { asOf: string; dryRun?: boolean; only?: string; /** Audiences absent from the list keep their members (no folder). */ keepRemoved?: boolean },
): Promise<AudienceRunResult> {
  const lake = ctx.lake;
  const tmpDir = join(ctx.home, 'tmp', 'activation');
  const evaluations: Evaluations = (await lake.exists(EVALUATIONS_PATH)) ? JSON.parse((await lake.read(EVALUATIONS_PATH)).toString('utf8')) : {};
  const batches = await committedBatches(lake, audienceEvents.path);
  const batch = (batches.at(-1)?.batch ?? 0) + 1;
  const logFiles = await Promise.all(batches.map((b) => lake.localPath(b.path)));
  const due = audiences.filter((a) => (!o.only || a.name === o.only) && isDue(a.cadence, evaluations[a.name], a.filter, o.asOf));
  const skipped = audiences.filter((a) => !due.includes(a)).map((a) => a.name);
  await engine.run(`CREATE OR REPLACE TEMP TABLE a_current AS ${currentMembersSql(logFiles)}`);
  const known = new Set(audiences.map((a) => a.name));
  const removed = o.only || o.keepRemoved ? [] : (await engine.all<{ a: string }>('SELECT DISTINCT AUDIENCE AS a FROM a_current ORDER BY 1')).map((r) => r.a).filter((a) => !known.has(a));

  const inputs = due.length ? await registerBase(engine, lake, o.asOf, new Set(due.flatMap((a) => [...a.compiled.columns, ...a.attributes]))) : [];
  const nowSql = due.length ? due.map(membersSql).join('\nUNION ALL\n') : `SELECT CAST(NULL AS VARCHAR) AS AUDIENCE, CAST(NULL AS VARCHAR) AS CUSTOMER360_ID WHERE false`;
  await engine.run(`CREATE OR REPLACE TEMP TABLE a_now AS ${nowSql}`);
  const scope = [...due.map((a) => a.name), ...removed];
  const inScope = scope.length ? `AUDIENCE IN (${scope.map(lit).join(', ')})` : 'false';
  // A member who left because a merge retired their id exits saying where they went, so a destination can re-key.
  const survivors = (await survivorsSql(lake)) ?? 'SELECT CAST(NULL AS VARCHAR) AS RETIRED_ID, CAST(NULL AS VARCHAR) AS SURVIVOR_ID WHERE false';
  const eventsSql = `SELECT 'ae-' || ${batch} || '-' || AUDIENCE || '-' || CUSTOMER360_ID AS EVENT_ID, CAST(${batch} AS BIGINT) AS BATCH,
  ${lit(ctx.runId)} AS RUN_ID, DATE ${lit(o.asOf)} AS AS_OF_DATE, AUDIENCE, CUSTOMER360_ID, EVENT_TYPE, MERGED_INTO,
  CAST(NULL AS VARCHAR) AS ACTION, CAST(NULL AS VARCHAR) AS REASON
FROM (
  SELECT AUDIENCE, CUSTOMER360_ID, 'entered' AS EVENT_TYPE, CAST(NULL AS VARCHAR) AS MERGED_INTO FROM (SELECT * FROM a_now EXCEPT SELECT * FROM a_current WHERE ${inScope})
  UNION ALL
  SELECT x.AUDIENCE, x.CUSTOMER360_ID, 'exited', sv.SURVIVOR_ID FROM (SELECT * FROM a_current WHERE ${inScope} EXCEPT SELECT * FROM a_now) x
    LEFT JOIN (${survivors}) sv ON sv.RETIRED_ID = x.CUSTOMER360_ID
)
ORDER BY AUDIENCE, CUSTOMER360_ID`;
  await engine.run(`CREATE OR REPLACE TEMP TABLE a_events AS ${await conformSql(engine, audienceEvents, eventsSql)}`);
  const triggers = await triggersSql(lake, due, { batch, runId: ctx.runId, asOf: o.asOf, logFiles });
  if (triggers) await engine.run(`INSERT INTO a_events BY NAME ${triggers}`);
  const counts: AudienceRunResult['counts'] = {};
  const rows = await engine.all<{ a: string; members: number; entered: number; exited: number; triggered: number }>(`
    SELECT a, CAST(sum(members) AS INTEGER) AS members, CAST(sum(entered) AS INTEGER) AS entered, CAST(sum(exited) AS INTEGER) AS exited,
      CAST(sum(triggered) AS INTEGER) AS triggered FROM (
      SELECT AUDIENCE AS a, count(*) AS members, 0 AS entered, 0 AS exited, 0 AS triggered FROM a_now GROUP BY 1
      UNION ALL SELECT AUDIENCE, 0, count(*) FILTER (WHERE EVENT_TYPE = 'entered'), count(*) FILTER (WHERE EVENT_TYPE = 'exited'),
        count(*) FILTER (WHERE EVENT_TYPE = 'triggered') FROM a_events GROUP BY 1
      UNION ALL SELECT unnest(${scope.length ? `[${scope.map(lit).join(', ')}]` : 'CAST([] AS VARCHAR[])'}), 0, 0, 0, 0
    ) GROUP BY 1 ORDER BY 1`);
  for (const r of rows) counts[r.a] = { members: r.members, entered: r.entered, exited: r.exited, triggered: r.triggered };
  const result: AudienceRunResult = { batch, asOf: o.asOf, evaluated: due.map((a) => a.name), skipped, removed, counts, inputs };
  if (o.dryRun) return result;

  const eventsPath = changeBatchPath(o.asOf, batch, audienceEvents);
  const written = await commitQuery(engine, lake, 'SELECT * FROM a_events ORDER BY AUDIENCE, CUSTOMER360_ID, EVENT_ID', eventsPath, { tmpDir, compression: 'zstd' });
  ctx.report.outputs.push(eventsPath);
  ctx.report.rowCounts.audience_events = written;
  result.eventsPath = eventsPath;

  const log = [...logFiles, await lake.localPath(eventsPath)];
  const spans = `SELECT AUDIENCE, CUSTOMER360_ID, ENTERED_BATCH, ENTERED_AS_OF, EXITED_BATCH, EXITED_AS_OF, EXITED_BATCH IS NULL AS IS_MEMBER, DATE ${lit(o.asOf)} AS AS_OF_DATE
FROM (
  SELECT AUDIENCE, CUSTOMER360_ID, EVENT_TYPE, BATCH AS ENTERED_BATCH, AS_OF_DATE AS ENTERED_AS_OF,
    lead(BATCH) OVER w AS EXITED_BATCH, lead(AS_OF_DATE) OVER w AS EXITED_AS_OF
  FROM read_parquet(${litList(log)}) WHERE EVENT_TYPE IN ('entered', 'exited')
  WINDOW w AS (PARTITION BY AUDIENCE, CUSTOMER360_ID ORDER BY BATCH)
) WHERE EVENT_TYPE = 'entered'
ORDER BY AUDIENCE, CUSTOMER360_ID, ENTERED_BATCH`;
  await writeDataset(ctx, engine, audienceMembership, log.length ? spans : emptySql(audienceMembership), { asOf: o.asOf, compression: 'zstd' });

  for (const a of due) evaluations[a.name] = { asOf: o.asOf, batch, filter: a.filter };
  for (const r of removed) delete evaluations[r];
  await lake.write(EVALUATIONS_PATH, JSON.stringify(evaluations, null, 2) + '\n');
  return result;
}
