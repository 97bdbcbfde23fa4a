// Run manifests: one JSON document per run with jobs, inputs, outputs, row counts, quality metrics, timings, status.
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Lake } from '../lake/lake.ts';
import type { JobReport } from './job.ts';
import { owned, pidAlive as alive } from './tmp.ts';

export type Status = 'running' | 'succeeded' | 'failed' | 'skipped';

export interface JobRun extends JobReport {
  activity: string;
  stage: string;
  job: string;
  params: Record<string, string>;
  /** The as-of date the job ran with (jobs that use one). */
  asOf?: string;
  status: Status;
  attempts: number;
  startedAt: string;
  endedAt?: string;
  durationMs?: number;
  /** CPU milliseconds of the whole process (all threads, DuckDB's too) while the job ran: jobs of a run run one at a time. */
  cpuMs?: number;
  /** usage: the caller's input or invocation was wrong (exit 2); transient: a retry may help (exit 75). */
  error?: { message: string; transient: boolean; usage?: boolean };
}

export interface RunManifest {
  runId: string;
  loadId: string;
  command: string;
  pipeline: string;
  runDate: string;
  /** The run's one as-of date, resolved once and passed to every job that uses it. */
  asOf?: string;
  /** Where the as-of date came from: the option, a job parameter, or the latest event date in the data. */
  asOfSource?: 'option' | 'param' | 'data';
  home: string;
  lake: string;
  /** The process writing it: a manifest left 'running' by a process that is gone is an interrupted run (c360 runs). */
  pid?: number;
  host?: string;
  status: Status;
  startedAt: string;
  endedAt?: string;
  durationMs?: number;
  jobs: JobRun[];
}

export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Writes the manifest to HOME/runs/<runId>.json and a copy to the lake (_runs/) for lineage in Azure. */
export async function writeManifest(home: string, lake: Lake | undefined, manifest: RunManifest, name = manifest.runId): Promise<string> {
  const dir = join(home, 'runs');
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${name}.json`);
  manifest.pid ??= process.pid;
  manifest.host ??= hostname();
  const body = JSON.stringify(manifest, (_k, v) => (typeof v === 'bigint' ? Number(v) : v), 2);
  // Written under HOME/tmp and renamed over: `c360 runs` (or a test) reading while a run writes sees the old or the
  // new manifest, never a truncated one. What a process killed in between leaves is swept as its other temp files.
  const tmpDir = join(home, 'tmp');
  await mkdir(tmpDir, { recursive: true });
  const tmp = join(tmpDir, owned(`manifest-${name}.json`));
  await writeFile(tmp, body);
  await rename(tmp, file);
  if (lake && !lake.location.startsWith('file://')) await lake.write(`_runs/${name}.json`, body);
  return file;
}

/** A manifest as read back: 'running' becomes 'interrupted' when its process is gone from this host. */
export type ListedStatus = Status | 'interrupted';

/** The home's run manifests, newest first, with interrupted runs told apart from running ones. */
export async function listManifests(home: string): Promise<(RunManifest & { file: string; listedStatus: ListedStatus })[]> {
  const dir = join(home, 'runs');
  const names = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.json'));
  const out: (RunManifest & { file: string; listedStatus: ListedStatus })[] = [];
  for (const name of names) {
    try {
      const m = JSON.parse(await readFile(join(dir, name), 'utf8')) as RunManifest;
      const gone = m.status === 'running' && m.pid !== undefined && m.host === hostname() && !alive(m.pid);
      out.push({ ...m, file: join(dir, name), listedStatus: gone ? 'interrupted' : m.status });
    } catch {
      // not a manifest
    }
  }
  return out.sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0));
}
