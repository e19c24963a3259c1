import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DEFAULT_DOWNLOAD_BUDGET } from '../src/parse/limits.js';

/**
 * Issue 26 §4 in `npm run bench:hostile`: signed repositories whose indexes never end, downloaded at once from
 * 127.0.0.1, with the default total budget and without one (each download then bounded only by its own
 * compressed size limit). Each run in a child (bench/hostile-budget-load.ts) that reports its peak memory.
 */
export interface BudgetFigure {
  downloads: number;
  budget: string;
  ms: number;
  peakRssMiB: number;
  baselineRssMiB: number;
  maxHeldBytes: number;
  outcomes: string;
}

const child = fileURLToPath(new URL('./hostile-budget-load.js', import.meta.url));

export async function measureBudget(downloads = 4): Promise<BudgetFigure[]> {
  const figures: BudgetFigure[] = [];
  for (const budget of [DEFAULT_DOWNLOAD_BUDGET, Infinity]) {
    const out = JSON.parse(
      execFileSync(process.execPath, [child, String(downloads), String(budget)], { encoding: 'utf8' }),
    ) as Omit<BudgetFigure, 'downloads' | 'budget'>;
    figures.push({
      downloads,
      budget: Number.isFinite(budget) ? `${budget / 2 ** 20} MiB (the default)` : 'none',
      ...out,
    });
  }
  return figures;
}
