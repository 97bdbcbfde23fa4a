// Gold job: the profile change feed (src/activation/profile-changes.ts): the next committed batch of created, updated
// and deleted profiles since the last published state.
import { join } from 'node:path';
import { commitProfileChanges } from '../src/activation/profile-changes.ts';
import { jobAsOf } from '../src/catalogue/runner.ts';
import type { Job } from '../src/runtime/job.ts';

export const goldProfileChangesJob: Job = {
  name: 'gold-profile-changes',
  description: 'Gold: profile change feed (created/updated/deleted since the last published profile state), one committed batch per run',
  usesAsOf: true,
  params: [{ name: 'asOf', description: "As-of date of the Gold profile YYYY-MM-DD (default: the run's, else the latest event date in the data)" }],
  async run(ctx) {
    const asOf = await jobAsOf(ctx);
    const engine = await ctx.openEngine();
    try {
      const r = await commitProfileChanges(engine, ctx.lake, { asOf, runId: ctx.runId, tmpDir: join(ctx.home, 'tmp', 'activation') });
      ctx.report.outputs.push(r.path);
      ctx.report.rowCounts.profile_changes = r.rows;
      ctx.report.metrics.profileChanges = { batch: r.batch, previous: r.previous, ...r.byType };
      ctx.log.info('profile changes', { batch: r.batch, rows: r.rows, ...r.byType });
    } finally {
      engine.close();
    }
  },
};
