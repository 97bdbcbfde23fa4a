// Gold job: content and recommendation dimensions and the personalization event fact, around the recommendations
// the intelligence jobs wrote for this as-of date (the catalogue orders it after them from its inputs).
import { registerRecommendationInputs } from '../src/gold/intelligence-inputs.ts';
import { goldSqlJob } from '../src/gold/run-gold.ts';

export const goldPersonalizationJob = goldSqlJob({
  name: 'gold-personalization',
  description: 'Gold: content and recommendation dimensions, personalization events on recommended products',
  hooks: (ctx) => ({
    async prepare(engine, asOf) {
      const { files } = await registerRecommendationInputs(engine, ctx.lake, asOf);
      ctx.report.inputs.push(...files);
    },
  }),
});
