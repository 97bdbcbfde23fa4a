// `c360 dashboard`: writes the Customer Health Overview (a static site) for the latest Gold snapshot (docs/serving.md).
import { join, resolve } from 'node:path';
import { openLake } from '../../lake/index.ts';
import { UsageError } from '../../runtime/errors.ts';
import { generateDashboard } from '../../serving/dashboard/site.ts';
import { lakeAsOfDates } from '../../serving/sources.ts';
import { HOME_OPTION, homeOf, isoDate, str, type Command } from '../command.ts';

export const command: Command = {
  name: 'dashboard',
  summary: 'Customer Health Overview: a static site (open index.html from disk or any static host; c360 serve shows it at /dashboard)',
  options: {
    ...HOME_OPTION,
    out: { type: 'string', description: 'Folder for the site (default HOME/dashboard)' },
    'as-of': { type: 'string', description: 'As-of date of the Gold snapshot (default: the latest in the lake)' },
  },
  async run(values, _p, io) {
    const home = homeOf(values);
    const lake = await openLake(home);
    const dates = await lakeAsOfDates(lake);
    const asOf = isoDate(values, 'as-of') ?? dates.at(-1);
    if (!asOf) throw new UsageError(`No Gold customer profile in ${lake.location}: run the pipeline first (c360 run)`);
    if (!dates.includes(asOf)) throw new UsageError(`No Gold snapshot as of ${asOf} in ${lake.location} (there are: ${dates.join(', ') || 'none'})`);
    const out = resolve(str(values, 'out') ?? join(home, 'dashboard'));
    const r = await generateDashboard({ home, lake, asOf, out });
    if (r.missingTables.length) io.log.warn('tables without a snapshot are shown empty', { tables: r.missingTables });
    io.log.info('dashboard written', { asOf, customers: r.data.headline.customers, runs: r.data.runs.length });
    io.out(join(out, 'index.html'));
    return 0;
  },
};
