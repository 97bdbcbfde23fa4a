// `c360 serve` wired together: the snapshot source (the local warehouse, or the lake's latest Gold snapshot), the
// store that swaps snapshots when the source changes, past snapshots from the lake for asOf=, the match ledger for
// links, authentication, the audit log and the HTTP server.
import { readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { getDataset } from '../catalogue/index.ts';
import { litList } from '../engine/duckdb.ts';
import type { Lake } from '../lake/lake.ts';
import type { Logger } from '../runtime/logger.ts';
import { IDENTITY_DATASETS } from '../silver/datasets.ts';
import { AuditLog } from './audit.ts';
import { DASHBOARD_LAKE_DIR } from './dashboard/site.ts';
import { Authenticator, type ApiKey, type TokenVerifier } from './auth.ts';
import { DIM_CUSTOMER, IDENTITY_MAP, RISK_SCORES, SEGMENTS, RECOMMENDATIONS } from './fields.ts';
import type { LedgerReader } from './profile.ts';
import { IdRedactor } from './redact.ts';
import { RuntimeStats } from './runtime-stats.ts';
import { buildServer } from './server.ts';
import { Snapshot, type SnapshotRelations } from './snapshot.ts';
import { chooseDir, expectedBytes, MEMORY_DIR, memoryRoom, removeLeftovers, snapshotBytes } from './snapshot-dir.ts';
import { BuildProcesses, besideBuildCpus, buildInChild } from './snapshot-builder.ts';
import { lakeAsOfDates, lakeSource } from './sources.ts';
import { SnapshotStore } from './store.ts';

export interface ServeOptions {
  lake: Lake;
  /** Serve the local warehouse file (default) or the lake's latest Gold snapshot (in Azure). */
  source: { kind: 'warehouse'; path: string } | { kind: 'lake' };
  apiKeys: readonly ApiKey[];
  verifyToken?: TokenVerifier;
  port: number;
  host: string;
  rateLimit: { perSecond: number; burst?: number };
  /** Audit log file ('-': stdout; null: none). */
  auditLog: string | null;
  /** Seconds between checks for a new snapshot (0: never). */
  pollSeconds: number;
  /** Folder for the snapshot database files. */
  snapshotDir?: string;
  /** Memory file system folder for builds beside a serving snapshot, when it has room (default MEMORY_DIR; null: never). */
  memoryDir?: string | null;
  /**
   * CPU priority of a snapshot build beside a serving one: 'idle' (default: SCHED_IDLE, all cores, only CPU the
   * requests leave) or a nice value (then one DuckDB thread, so the requests keep a core of two).
   */
  buildPriority?: 'idle' | number;
  /** Read connections per snapshot. */
  connections?: number;
  log: Logger;
  logRequests?: boolean;
  extend?: (app: FastifyInstance) => void | Promise<void>;
  /** Folder of the dashboard site (local); with the lake source, the lake's dashboard/ folder is served instead. */
  dashboardDir?: string;
  /** Who may open /dashboard/ (default: callers of the API). */
  dashboardAccess?: 'authenticated' | 'public';
  /** HMAC key for e-mail and phone ids in the audit log and request logs (default: random per process). */
  auditKey?: Buffer;
}

export interface RunningServer {
  url: string;
  app: FastifyInstance;
  store: SnapshotStore;
  /** Resolves when the first snapshot load has finished (true: loaded). */
  ready: Promise<boolean>;
  close(): Promise<void>;
}

/** The lake's match ledger as a relation (null when identity resolution has not run). */
export function ledgerReader(lake: Lake): LedgerReader {
  return async () => {
    const files = (await lake.list(getDataset(IDENTITY_DATASETS.ledger).path)).filter((f) => f.path.endsWith('.parquet'));
    if (files.length === 0) return null;
    return `read_parquet(${litList(await Promise.all(files.map((f) => lake.localPath(f.path))))}, union_by_name = true)`;
  };
}

/** The latest as-of date whose profile and identity map are in the lake, and the files that make its content. */
async function lakeFingerprint(lake: Lake): Promise<string | null> {
  const dates = await lakeAsOfDates(lake);
  for (const d of dates.reverse()) {
    const parts: string[] = [];
    for (const t of [DIM_CUSTOMER, IDENTITY_MAP, RISK_SCORES, SEGMENTS, RECOMMENDATIONS]) {
      for (const f of await lake.list(`${getDataset(t.source).path}/as_of_date=${d}`)) parts.push(`${f.path}:${f.size}`);
    }
    if (parts.some((p) => p.includes(`/${DIM_CUSTOMER.source}/`)) && parts.some((p) => p.includes(`/${IDENTITY_MAP.source}/`))) return `${d}|${parts.join('|')}`;
  }
  return null;
}

/** CPUs in a taskset list ('1', '1-3', '1,3'). */
function cpuCount(list: string): number {
  let n = 0;
  for (const part of list.split(',')) {
    const [a, b] = part.split('-').map(Number);
    n += b === undefined ? 1 : b - a! + 1;
  }
  return Math.max(1, n);
}

export function snapshotStore(o: Pick<ServeOptions, 'lake' | 'source' | 'snapshotDir' | 'memoryDir' | 'connections' | 'log' | 'buildPriority'>): SnapshotStore {
  // C360_SERVE_SNAPSHOT_DIR: where the snapshot files go whatever the caller chose. Otherwise a build beside a serving
  // snapshot goes to the memory file system when it has room (snapshot-dir.ts), the first build to the disk folder.
  const forced = process.env.C360_SERVE_SNAPSHOT_DIR || null;
  const dir = forced ?? o.snapshotDir ?? join(tmpdir(), 'c360-serve');
  const memoryDir = o.memoryDir === undefined ? MEMORY_DIR : o.memoryDir;
  if (!forced) for (const d of [dir, ...(memoryDir ? [memoryDir] : [])]) void removeLeftovers(d);
  const source = o.source;
  const prio = o.buildPriority ?? 'idle';
  // Beside a serving snapshot: off the first CPU (besideBuildCpus), with a DuckDB thread per CPU it may use.
  const cpus = besideBuildCpus();
  const processes = new BuildProcesses({ priority: prio, ...(cpus ? { cpus } : {}) });
  return new SnapshotStore({
    dir,
    dirFor: async (current) => {
      if (forced || !current || !memoryDir) return dir;
      const need = expectedBytes(await snapshotBytes(current.file));
      const chosen = chooseDir(need, await memoryRoom(memoryDir), memoryDir, dir);
      o.log.info('snapshot folder', { dir: chosen, needMb: Math.round(need / 2 ** 20) });
      return chosen;
    },
    stopBuilds: () => processes.stop(),
    buildCounts: () => ({ ...processes.counts }),
    log: o.log,
    fingerprint: async () => {
      if (source.kind === 'lake') return lakeFingerprint(o.lake);
      const st = await stat(source.path).catch(() => null);
      return st ? `${st.mtimeMs}:${st.size}` : null;
    },
    buildCurrent: async (file, beside) => {
      // Built in a child process (snapshot-builder.ts). A first build has no requests to make way for: the server
      // forks it, and the build host that will fork every later one, placed below the requests.
      if (!beside) processes.startHost();
      const threads = cpus ? cpuCount(cpus) : prio === 'idle' ? undefined : 1;
      const run = { processes, beside, ...(beside ? { priority: prio, threads } : { priority: 0 }) };
      if (source.kind === 'warehouse') return buildInChild({ file, connections: o.connections, ...run, from: { kind: 'warehouse', path: source.path } });
      const print = await lakeFingerprint(o.lake);
      if (!print) throw new Error(`No Gold customer profile in the lake ${o.lake.location} yet`);
      const src = await lakeSource(o.lake, print.slice(0, 10));
      if (!src) throw new Error(`The lake's snapshot of ${print.slice(0, 10)} is incomplete`);
      return buildInChild({ file, connections: o.connections, ...run, from: { kind: 'relations', relations: src.relations as SnapshotRelations, source: src.source, asOf: src.asOf } });
    },
    buildPast: async (asOf) => {
      const src = await lakeSource(o.lake, asOf);
      return src ? Snapshot.build({ file: ':memory:', mode: 'view', connections: 2, memoryLimit: '512MB', ...src }) : null;
    },
    pastDates: () => lakeAsOfDates(o.lake),
  });
}

export async function startServer(o: ServeOptions): Promise<RunningServer> {
  const store = snapshotStore(o);
  const audit = o.auditLog ? new AuditLog(o.auditLog) : undefined;
  const runtimeStats = process.env.C360_SERVE_RUNTIME_STATS === '1' ? new RuntimeStats() : undefined;
  const app = await buildServer({
    runtimeStats,
    store, audit, log: o.log, logRequests: o.logRequests, rateLimit: o.rateLimit, ledger: ledgerReader(o.lake),
    auth: new Authenticator(o.apiKeys, o.verifyToken), extend: o.extend,
    redactor: new IdRedactor(o.auditKey), dashboardAccess: o.dashboardAccess,
    dashboard: async (file) => {
      if (o.source.kind === 'lake') return o.lake.read(`${DASHBOARD_LAKE_DIR}/${file}`).catch(() => null);
      return o.dashboardDir ? readFile(join(o.dashboardDir, file)).catch(() => null) : null;
    },
  });
  const address = await app.listen({ port: o.port, host: o.host });
  const url = address.replace('[::1]', 'localhost').replace('0.0.0.0', 'localhost');
  // The first snapshot loads once the server listens: /health answers 503 until it is in, then 200.
  const ready = store.reload();
  store.poll(o.pollSeconds * 1000);
  return {
    url, app, store, ready,
    async close() {
      await app.close();
      await store.close();
      await audit?.close();
      runtimeStats?.close();
    },
  };
}
