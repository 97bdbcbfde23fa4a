// Process measurements shared by the benchmarks: CPU time (steadier than wall time on a shared machine) and memory.

/** CPU seconds (user + system, every thread of this process, DuckDB's included) since process start. */
export function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** The process's peak resident set so far, in MB (DuckDB's native memory included). */
export function maxRssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

/** Samples the current RSS every `intervalMs` until stopped; returns the peak in bytes (for the peak of one phase). */
export function sampleRss(intervalMs: number): { stop(): number } {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), intervalMs);
  return { stop: () => (clearInterval(timer), Math.max(peak, process.memoryUsage.rss())) };
}
