// ADF daily and backfill: the generated triggers run the incremental path (fullRefresh false) and a backfill re-runs
// each window of a range as of its own day; the pipeline's fullRefresh reaches the warehouse load in both executors
// (the Snowflake load's command line in Azure, the job parameter locally). Validated against the official schema.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MASTER } from '../pipelines/master.ts';
import { compileFactory } from '../src/adf/compile.ts';
import { renderArmTemplate } from '../src/adf/render.ts';
import { dataFactoryChecker } from '../src/adf/schema-check.ts';
import { TR_BACKFILL, TR_DAILY } from '../src/adf/triggers.ts';
import { SHARED } from './shared.ts';

const checker = dataFactoryChecker(join(SHARED, 'schemas', 'arm'));
const resources = compileFactory(MASTER);
const arm = renderArmTemplate(resources) as { resources: Record<string, unknown>[] };
const trigger = (name: string) => resources.find((r) => r.kind === 'trigger' && r.name === name)!.properties as Record<string, any>;

describe('ADF triggers for daily runs and backfills', () => {
  it('pass the official Data Factory schema', () => {
    const triggers = arm.resources.filter((r) => String(r.name).includes(TR_DAILY) || String(r.name).includes(TR_BACKFILL));
    expect(triggers.length).toBe(2);
    for (const r of triggers) expect(checker.check(r), String(r.name)).toEqual([]);
  });

  it("the daily schedule runs the incremental path on the day's landing drops", () => {
    const t = trigger(TR_DAILY);
    expect(t.type).toBe('ScheduleTrigger');
    expect(t.typeProperties.recurrence.frequency).toBe('Day');
    expect(t.pipelines[0].parameters).toMatchObject({ input: 'landing/customer360', fullRefresh: false });
  });

  it('the backfill re-runs each day of a window as of that day, one window at a time', () => {
    const t = trigger(TR_BACKFILL);
    expect(t.type).toBe('TumblingWindowTrigger');
    expect(t.typeProperties).toMatchObject({ frequency: 'Hour', interval: 24, maxConcurrency: 1 });
    const p = t.pipeline.parameters as Record<string, unknown>;
    expect(p.fullRefresh).toBe(false);
    // the window's day is both the run date and the as-of date of every job (the simulator has no trigger())
    for (const k of ['runDate', 'asOf']) expect(p[k], k).toBe("@formatDateTime(trigger().outputs.windowStartTime, 'yyyy-MM-dd')");
  });

  it('the warehouse load takes fullRefresh from the pipeline: the Snowflake command in Azure, the job parameter locally', () => {
    const load = MASTER.stages.flatMap((s) => s.activities).find((a) => a.job.name === 'warehouse-load')!;
    expect(load.params).toMatchObject({ fullRefresh: '{{fullRefresh}}' });
    expect(MASTER.parameters.find((p) => p.name === 'fullRefresh')).toMatchObject({ type: 'Bool', default: false });
    const pipeline = JSON.stringify(resources.find((r) => r.kind === 'pipeline' && r.name === 'c360_snowflake_load')!.properties);
    expect(pipeline).toContain("concat('--full-refresh=', toLower(string(pipeline().parameters.fullRefresh)))");
  });
});
