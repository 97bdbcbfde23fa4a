// The activation job: delivers the committed profile changes and audience events to their destinations (topics,
// webhooks, lake files) from where each destination's cursor stands (src/activation/deliver.ts). Runs after the
// warehouse load; `c360 activate` runs it alone.
import { loadAudiences } from '../src/activation/audience-file.ts';
import { activate } from '../src/activation/deliver.ts';
import type { Job } from '../src/runtime/job.ts';
import { audiencesDir } from './gold-audiences.ts';

export const activateJob: Job = {
  name: 'activate',
  description: 'Activation: deliver profile changes and audience events to topics, webhooks and lake files (each destination resumes from its cursor)',
  params: [
    { name: 'audiences', description: 'Folder of audience files (default: $C360_AUDIENCES_DIR, else ./audiences)' },
    { name: 'audience', description: 'Deliver only this audience (and not the profile topic)' },
    { name: 'dryRun', description: 'true: count what would be sent, send nothing, move no cursor' },
  ],
  async run(ctx) {
    const audiences = (await loadAudiences(audiencesDir(ctx.params.audiences))) ?? [];
    const cs = process.env.C360_EVENTHUBS_CONNECTION_STRING;
    const ns = process.env.C360_EVENTHUBS_NAMESPACE;
    const engine = await ctx.openEngine();
    try {
      const results = await activate(ctx, engine, audiences, {
        audience: ctx.params.audience || undefined,
        dryRun: ctx.params.dryRun === 'true',
        eventHubs: cs || ns ? { connectionString: cs, namespace: ns } : undefined,
        backoffMs: process.env.C360_WEBHOOK_BACKOFF_MS ? Number(process.env.C360_WEBHOOK_BACKOFF_MS) : undefined,
      });
      ctx.report.metrics.destinations = results;
      for (const r of results) {
        ctx.report.rowCounts[r.destination] = r.sent;
        ctx.report.outputs.push(...r.files);
        ctx.log.info(`activate ${r.destination}`, { type: r.type, batches: r.batches.join(',') || 'none', sent: r.sent, deadLettered: r.deadLettered, withheldNoConsent: r.skippedNoConsent });
      }
    } finally {
      engine.close();
    }
  },
};
