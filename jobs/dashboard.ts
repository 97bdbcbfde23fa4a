// The Customer Health Overview (src/serving/dashboard): regenerated after each warehouse load from the same Gold
// snapshot, so it is always current. Locally into HOME/dashboard (what `c360 serve` shows at /dashboard); with a
// remote lake also published to the lake's dashboard/ folder, which the profile API's Container App serves.
import { join } from 'node:path';
import { jobAsOf } from '../src/catalogue/runner.ts';
import type { Job } from '../src/runtime/job.ts';
import { generateDashboard } from '../src/serving/dashboard/site.ts';

export const dashboardJob: Job = {
  name: 'dashboard',
  description: 'Customer Health Overview: static dashboard site (HTML, Chart.js, pre-aggregated data) from the Gold snapshot and recent run manifests',
  usesAsOf: true,
  params: [
    { name: 'asOf', description: "As-of date of the Gold snapshot YYYY-MM-DD (default: the run's, else the latest event date in the data)" },
    { name: 'out', description: 'Folder for the site (default: HOME/dashboard)' },
  ],
  async run(ctx) {
    const asOf = await jobAsOf(ctx);
    const out = ctx.params.out || join(ctx.home, 'dashboard');
    const r = await generateDashboard({ home: ctx.home, lake: ctx.lake, asOf, out, publish: !ctx.lake.location.startsWith('file://') });
    ctx.report.outputs.push(...r.files);
    ctx.report.metrics.dashboard = { customers: r.data.headline.customers, runs: r.data.runs.length, missingTables: r.missingTables };
    if (r.missingTables.length) ctx.log.warn('dashboard: tables without a snapshot shown empty', { tables: r.missingTables });
  },
};
