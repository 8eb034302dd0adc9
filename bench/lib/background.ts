import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { sleep } from './children.js';

function cpuTimes(): { busy: number; total: number } | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

/**
 * Cores kept busy by others over `ms` (measured between scenarios, when no bench process runs):
 * on a machine shared with other people's tests this says how much of it the bench really had.
 */
export async function backgroundCores(ms = 1000): Promise<number | null> {
  const a = cpuTimes();
  await sleep(ms);
  const b = cpuTimes();
  if (!a || !b || b.total === a.total) return null;
  return ((b.busy - a.busy) / (b.total - a.total)) * cpus().length;
}

/**
 * Waits (at most `maxWaitMs`) for the others' load to drop under `cores`; returns the last
 * measurement. Full runs use it so their numbers come from the quieter moments of a shared machine.
 */
export async function waitForQuiet(cores: number, maxWaitMs: number): Promise<number | null> {
  const deadline = Date.now() + maxWaitMs;
  for (;;) {
    const busy = await backgroundCores();
    if (busy === null || busy <= cores || Date.now() >= deadline) return busy;
  }
}
