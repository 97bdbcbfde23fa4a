// `npm start`: the main job on the bundled defaults. Generates the default sample once (HOME/sample), then runs
// the master pipeline on it with the embedded defaults (DuckDB, local lake folder).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { generateSample, DEFAULT_SAMPLE } from '../../sample/generate.ts';
import { openLake } from '../../lake/index.ts';
import { runPipeline } from '../../orchestrator/local-runner.ts';
import { HOME_OPTION, homeOf, type Command } from '../command.ts';

export const command: Command = {
  name: 'start',
  summary: 'Generate the default sample data (once) and run the master pipeline on it',
  options: { ...HOME_OPTION },
  lockScope: () => 'pipeline',
  async run(values, _p, io) {
    const home = homeOf(values);
    const sampleDir = join(home, 'sample');
    if (!existsSync(join(sampleDir, 'CUSTOMERS.parquet'))) {
      io.log.info('generating sample data', { ...DEFAULT_SAMPLE, out: sampleDir });
      await generateSample({ ...DEFAULT_SAMPLE, out: sampleDir, log: io.log });
    }
    const lake = await openLake(home);
    const manifest = await runPipeline({ home, lake, log: io.log, command: 'c360 start', params: { input: sampleDir } });
    io.out(`run ${manifest.runId} ${manifest.status}: manifest ${join(home, 'runs', `${manifest.runId}.json`)}`);
    return manifest.status === 'succeeded' ? 0 : 1;
  },
};
