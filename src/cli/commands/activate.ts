// `c360 activate [--audience NAME] [--dry-run]`: the activation job alone (what the pipeline runs after the warehouse
// load): every destination receives the committed batches after its cursor.
import { activateJob } from '../../../jobs/activate.ts';
import { openLake } from '../../lake/index.ts';
import { makeJobContext } from '../../orchestrator/local-runner.ts';
import { newRunId } from '../../runtime/manifest.ts';
import type { DeliveryResult } from '../../activation/deliver.ts';
import { HOME_OPTION, homeOf, str, type Command } from '../command.ts';

export const command: Command = {
  name: 'activate',
  summary: 'Deliver profile changes and audience events to topics, webhooks and lake files (resumes where each stopped)',
  options: {
    ...HOME_OPTION,
    audience: { type: 'string', description: "Deliver only this audience's destinations (not the profile topic)" },
    'dry-run': { type: 'boolean', description: 'Count what would be sent; send nothing, move no cursor' },
    audiences: { type: 'string', description: 'Folder of audience files (default: $C360_AUDIENCES_DIR, else ./audiences)' },
    lake: { type: 'string', description: 'Lake location (default: $C360_LAKE_URL or HOME/lake)' },
  },
  // One writer per home (and per lake scope on ADLS), the scope `c360 job activate` takes: destination cursors,
  // dead letters and export files are written here, and a second activator would send the same batches again.
  lockScope: () => 'activate',
  async run(values, _positionals, io) {
    const home = homeOf(values);
    const lake = await openLake(home, str(values, 'lake'));
    const runId = newRunId();
    const params: Record<string, string> = {};
    for (const k of ['audience', 'audiences'] as const) if (str(values, k)) params[k] = str(values, k)!;
    if (values['dry-run']) params.dryRun = 'true';
    const ctx = makeJobContext({ home, lake, log: io.log, runId, loadId: runId, runDate: new Date().toISOString().slice(0, 10), params });
    await activateJob.run(ctx);
    for (const r of (ctx.report.metrics.destinations as DeliveryResult[]) ?? []) {
      io.out(`${r.destination.padEnd(40)} ${r.type.padEnd(8)} batches ${r.batches.join(',') || '-'}  ${values['dry-run'] ? 'would send' : 'sent'} ${r.sent}` +
        `${r.deadLettered ? `  dead-lettered ${r.deadLettered}` : ''}${r.skippedNoConsent ? `  withheld (no consent) ${r.skippedNoConsent}` : ''}`);
    }
    return 0;
  },
};
