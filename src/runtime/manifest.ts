// Run manifests: one JSON document per run with jobs, inputs, outputs, row counts, quality metrics, timings, status.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Lake } from '../lake/lake.ts';
import type { JobReport } from './job.ts';

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
  const body = JSON.stringify(manifest, (_k, v) => (typeof v === 'bigint' ? Number(v) : v), 2);
  await writeFile(file, body);
  if (lake && !lake.location.startsWith('file://')) await lake.write(`_runs/${name}.json`, body);
  return file;
}
