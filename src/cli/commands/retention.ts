// `c360 retention`: apply the retention periods (schemas/retention.ts) as of a date, outside a pipeline run.
import { openLake } from '../../lake/index.ts';
import { applyRetention } from '../../privacy/retention.ts';
import { resolveAsOf } from '../../runtime/as-of.ts';
import { Engine } from '../../engine/duckdb.ts';
import { HOME_OPTION, homeOf, isoDate, str, type Command } from '../command.ts';

export const command: Command = {
  name: 'retention',
  summary: 'Remove rows past their retention period from Bronze, quarantine, Silver, Gold and the warehouse; write a report',
  options: {
    ...HOME_OPTION,
    'as-of': { type: 'string', description: 'Date the periods count back from, YYYY-MM-DD (default: the latest event date in the data)' },
    lake: { type: 'string', description: 'Lake location: folder, or ADLS URL (default: $C360_LAKE_URL or HOME/lake)' },
  },
  // One writer per home, as for c360 forget: retention rewrites and deletes files of every layer.
  lockScope: () => 'pipeline',
  async run(values, _p, io) {
    const home = homeOf(values);
    const lake = await openLake(home, str(values, 'lake'));
    const asOf = isoDate(values, 'as-of') ?? (await resolveAsOf({ lake, openEngine: () => Engine.open() })).asOf;
    const crash = process.env.C360_TEST_CRASH_AFTER_OBJECTS;
    const r = await applyRetention({ home, lake, log: io.log, asOf, crashAfterObjects: crash ? Number(crash) : undefined });
    io.out(JSON.stringify({ asOf: r.asOf, report: r.path, objects: r.objects.length, rowsRemoved: r.rowsRemoved, resumed: r.resumed }));
  },
};
