// Gold job: audience membership (src/activation/audiences.ts): evaluates the audiences defined in audiences/*.yaml
// that are due, commits their entered/exited events and writes the membership history.
import { resolve } from 'node:path';
import { loadAudiences } from '../src/activation/audience-file.ts';
import { runAudiences } from '../src/activation/audiences.ts';
import { jobAsOf } from '../src/catalogue/runner.ts';
import type { Job } from '../src/runtime/job.ts';

/** The audiences folder: the job parameter, else $C360_AUDIENCES_DIR, else ./audiences. */
export function audiencesDir(param?: string): string {
  return resolve(param || process.env.C360_AUDIENCES_DIR || 'audiences');
}

export const goldAudiencesJob: Job = {
  name: 'gold-audiences',
  description: 'Gold: audience membership from audiences/*.yaml (due audiences evaluated, entered/exited events committed, membership history)',
  usesAsOf: true,
  params: [
    { name: 'asOf', description: "As-of date YYYY-MM-DD (default: the run's, else the latest event date in the data)" },
    { name: 'audiences', description: 'Folder of audience files (default: $C360_AUDIENCES_DIR, else ./audiences)' },
  ],
  async run(ctx) {
    const asOf = await jobAsOf(ctx);
    const dir = audiencesDir(ctx.params.audiences);
    const audiences = await loadAudiences(dir);
    // No folder at all (a deployment without audiences) evaluates nothing and exits nobody; the datasets are still written.
    if (!audiences) ctx.log.warn('no audiences folder: nothing evaluated', { dir });
    const engine = await ctx.openEngine();
    try {
      const r = await runAudiences(ctx, engine, audiences ?? [], { asOf, keepRemoved: !audiences });
      ctx.report.inputs.push(...r.inputs);
      ctx.report.metrics.audiences = { batch: r.batch, evaluated: r.evaluated, skipped: r.skipped, removed: r.removed, counts: r.counts };
      for (const [name, c] of Object.entries(r.counts)) ctx.log.info(`audience ${name}`, { members: c.members, entered: c.entered, exited: c.exited });
    } finally {
      engine.close();
    }
  },
};
