// Triggers of the master pipeline: a daily schedule (started on deploy) and a tumbling window for backfills and
// reruns per day (deployed stopped; start it for a backfill range, each window runs with runDate = asOf = its day).
import type { MasterPipeline } from '../../pipelines/ir.ts';
import { param } from './factory-params.ts';
import type { FactoryResource } from './types.ts';

export const TR_DAILY = 'tr_daily_master';
export const TR_BACKFILL = 'tr_backfill_master';
/** Triggers `c360 adf deploy` starts after deploying; the others stay as they were (new ones: stopped). */
export const STARTED_ON_DEPLOY = [TR_DAILY];
/** Where the daily run reads source drops in the lake (the `input` pipeline parameter). */
export const LANDING_PREFIX = 'landing/customer360';

function parametersFor(master: MasterPipeline, values: Record<string, unknown>): Record<string, unknown> {
  const names = new Set(master.parameters.map((p) => p.name));
  return Object.fromEntries(Object.entries(values).filter(([k]) => names.has(k)));
}

export function triggers(master: MasterPipeline): FactoryResource[] {
  const pipelineReference = { referenceName: master.name, type: 'PipelineReference' };
  return [
    {
      kind: 'trigger',
      name: TR_DAILY,
      references: [`pipeline:${master.name}`],
      properties: {
        description: 'Daily run of the master pipeline: ingest today\'s drops from the landing zone, drain the streams, refresh Silver/Gold and load Snowflake.',
        annotations: ['c360', 'generated'],
        type: 'ScheduleTrigger',
        typeProperties: {
          recurrence: { frequency: 'Day', interval: 1, startTime: param('dailyStartTime'), timeZone: 'UTC' },
        },
        pipelines: [
          {
            pipelineReference,
            parameters: parametersFor(master, {
              runDate: "@formatDateTime(trigger().scheduledTime, 'yyyy-MM-dd')",
              input: LANDING_PREFIX,
              stream: true,
              // The daily run processes only what is new (Silver, Gold and the warehouse load stage the changes).
              fullRefresh: false,
            }),
          },
        ],
      },
    },
    {
      kind: 'trigger',
      name: TR_BACKFILL,
      references: [`pipeline:${master.name}`],
      properties: {
        description: 'Backfill / rerun per day: each 24-hour window recomputes Silver/Gold/warehouse from the lake as of the window start date (runDate = asOf = that date).',
        annotations: ['c360', 'generated'],
        type: 'TumblingWindowTrigger',
        typeProperties: {
          frequency: 'Hour',
          interval: 24,
          startTime: param('backfillStartTime'),
          delay: '00:00:00',
          maxConcurrency: 1,
          retryPolicy: { count: 1, intervalInSeconds: 600 },
        },
        pipeline: {
          pipelineReference,
          parameters: parametersFor(master, {
            runDate: "@formatDateTime(trigger().outputs.windowStartTime, 'yyyy-MM-dd')",
            asOf: "@formatDateTime(trigger().outputs.windowStartTime, 'yyyy-MM-dd')",
            // Recompute from what is already in the lake; set input when rerunning a day's drops.
            input: '',
            stream: false,
            // Each window re-runs incrementally against what the lake and warehouse hold; a full rebuild is a manual
            // run with fullRefresh = true (c360 run --full-refresh locally).
            fullRefresh: false,
          }),
        },
      },
    },
  ];
}
