// Retention (src/privacy/retention.ts): rows past their table's retention period (schemas/retention.ts) leave every
// layer; the report goes to the lake's PII-free audit folder _audit/privacy/retention/.
import { jobAsOf } from '../src/catalogue/runner.ts';
import { applyRetention } from '../src/privacy/retention.ts';
import type { Job } from '../src/runtime/job.ts';

export const retentionJob: Job = {
  name: 'retention',
  description: 'Retention: remove rows past their retention period from Bronze, quarantine, Silver, Gold and the warehouse; Snowflake DELETE plan; report per dataset',
  usesAsOf: true,
  params: [{ name: 'asOf', description: "As-of date YYYY-MM-DD the periods count back from (default: the run's)" }],
  async run(ctx) {
    const asOf = await jobAsOf(ctx);
    const r = await applyRetention({ home: ctx.home, lake: ctx.lake, log: ctx.log, asOf });
    ctx.report.outputs.push(r.path, r.snowflakePlan.path);
    ctx.report.rowCounts['retention.removed'] = r.rowsRemoved;
    ctx.report.metrics.retention = Object.fromEntries(r.datasets.filter((d) => d.rowsRemoved > 0).map((d) => [`${d.layer}:${d.dataset}`, d.rowsRemoved]));
  },
};
