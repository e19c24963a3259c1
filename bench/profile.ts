/** One function's self time in a CPU profile. */
export interface ProfileEntry {
  name: string;
  /** `file:line`, the last two path segments. */
  where: string;
  ms: number;
  /** Share of the busy time (idle left out). */
  share: number;
}

export interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
  samples: number[];
  timeDeltas: number[];
}

/** The top entries by self time of a CPU profile (the inspector's `Profiler.stop`), idle left out. */
export function topOfProfile(profile: CpuProfile, count = 15): ProfileEntry[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const self = new Map<string, { name: string; where: string; micros: number }>();
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id)!;
    // Idle, and the profiler's own stop call at the end.
    if (frame.functionName === '(idle)' || frame.url.startsWith('node:inspector')) return;
    const micros = profile.timeDeltas[i] ?? 0;
    busy += micros;
    const where = frame.url ? `${frame.url.split('/').slice(-2).join('/')}:${frame.lineNumber + 1}` : '';
    const key = `${frame.functionName} ${where}`;
    const entry = self.get(key) ?? { name: frame.functionName || '(anonymous)', where, micros: 0 };
    entry.micros += micros;
    self.set(key, entry);
  });
  return [...self.values()]
    .sort((a, b) => b.micros - a.micros)
    .slice(0, count)
    .map((e) => ({ name: e.name, where: e.where, ms: e.micros / 1000, share: e.micros / busy }));
}
