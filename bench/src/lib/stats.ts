/** Median and range of repeated runs: the median is the figure, the range shows the noise. */
export interface Stat {
  median: number;
  min: number;
  max: number;
  samples: number[];
}

export function stat(samples: number[]): Stat {
  if (samples.length === 0) throw new Error("stat: no samples");
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median =
    sorted.length % 2 === 1
      ? (sorted[mid] as number)
      : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return { median, min: sorted[0] as number, max: sorted[sorted.length - 1] as number, samples };
}

/**
 * Ratios of runs measured back to back (run i of the subject against run i of its baseline):
 * pairing cancels most of the drift a shared, busy machine adds between runs.
 */
export function pairedRatio(subject: number[], baseline: number[]): Stat {
  return stat(subject.map((value, i) => value / (baseline[i] as number)));
}

/** 12345.6 → "12.3k", 0.42 → "0.42". */
export function formatRate(value: number): string {
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)}M`;
  if (value >= 1e4) return `${(value / 1e3).toFixed(1)}k`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(2)}k`;
  if (value >= 100) return value.toFixed(0);
  return value.toFixed(1);
}

export function formatStat(s: Stat, format: (n: number) => string = formatRate): string {
  return `${format(s.median)} (${format(s.min)}–${format(s.max)})`;
}

export function formatRatio(s: Stat): string {
  const f = (n: number) => (n >= 10 ? n.toFixed(1) : n.toFixed(2));
  return `${f(s.median)}× (${f(s.min)}–${f(s.max)})`;
}
