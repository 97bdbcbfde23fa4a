// C360_SERVE_BUILD_TIMING=1: each snapshot build step's time on stderr, with the wall-clock moment it ended (epoch ms),
// so the benchmark can set a slow request beside the step that was running when it was due.
const on = () => process.env.C360_SERVE_BUILD_TIMING === '1';

/** Logs a step that started at `startMs` (performance.now()) and ends now. */
export function buildStep(startMs: number, what: string): void {
  if (on()) console.error(`build step ${((performance.now() - startMs) / 1000).toFixed(2)} s  ended at ${Date.now()}  ${what.replace(/\s+/g, ' ').slice(0, 90)}`);
}
