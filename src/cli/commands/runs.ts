// `c360 runs`: the home's run manifests, newest first, including failed runs and runs that were killed (a manifest
// left 'running' by a process that is gone).
import { listManifests } from '../../runtime/manifest.ts';
import { HOME_OPTION, homeOf, int, type Command } from '../command.ts';

export const command: Command = {
  name: 'runs',
  summary: 'List the run manifests of a home: status (succeeded, failed, interrupted, running), command, duration, the failing job',
  options: { ...HOME_OPTION, limit: { type: 'string', description: 'Newest N runs', default: '20' } },
  async run(values, _p, io) {
    const runs = (await listManifests(homeOf(values))).slice(0, int(values, 'limit', 20));
    for (const m of runs) {
      const failed = m.jobs.find((j) => j.status === 'failed');
      const last = m.jobs.at(-1);
      if (values.json) {
        io.out(JSON.stringify({ runId: m.runId, status: m.listedStatus, command: m.command, startedAt: m.startedAt, durationMs: m.durationMs, jobs: m.jobs.length, lastJob: last?.activity, error: failed?.error?.message, manifest: m.file }));
        continue;
      }
      const took = m.durationMs !== undefined ? `${(m.durationMs / 1000).toFixed(1)} s` : '-';
      const detail = failed ? `  ${failed.activity}: ${failed.error?.message ?? ''}` : m.listedStatus === 'interrupted' ? `  stopped after ${m.jobs.length} job(s)${last ? `, last ${last.activity}` : ''}` : '';
      io.out(`${m.runId}  ${m.listedStatus.padEnd(11)} ${m.startedAt}  ${took.padStart(8)}  ${m.command}${detail}`);
    }
    if (runs.length === 0) io.out('no runs');
    return 0;
  },
};
