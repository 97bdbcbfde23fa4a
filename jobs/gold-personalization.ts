// Gold job: content and recommendation dimensions and the personalization event fact, around the recommendations
// the intelligence jobs wrote for this as-of date (runs after them).
import type { Job } from '../src/runtime/job.ts';
import { PERSONALIZATION_DATASETS } from '../src/gold/datasets.ts';
import { registerRecommendationInputs } from '../src/gold/intelligence-inputs.ts';
import { runGoldDatasets } from '../src/gold/run-gold.ts';

export const goldPersonalizationJob: Job = {
  name: 'gold-personalization',
  description: 'Gold: content and recommendation dimensions, personalization events on recommended products',
  async run(ctx) {
    await runGoldDatasets(ctx, PERSONALIZATION_DATASETS, {
      async prepare(engine, asOf) {
        const { files } = await registerRecommendationInputs(engine, ctx.lake, asOf);
        ctx.report.inputs.push(...files);
      },
    });
  },
};
