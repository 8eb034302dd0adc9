import { readFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { REPO_DIR } from './children.js';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  node: string;
  openFileLimit: string;
  loadAverage: number[];
  versions: Record<string, string>;
}

function version(pkg: string): string {
  try {
    const path = pkg === 'herald' ? join(REPO_DIR, 'package.json') : join(REPO_DIR, 'node_modules', pkg, 'package.json');
    return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function fileLimit(): string {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    return line?.split(/\s{2,}/)[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The machine and the versions under test, recorded with every run (absolute numbers only mean something with these). */
export function machineInfo(): MachineInfo {
  const c = cpus();
  return {
    cpuModel: c[0]?.model.trim() ?? 'unknown',
    cores: c.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    openFileLimit: fileLimit(),
    loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
    versions: Object.fromEntries(['herald', 'ws', 'socket.io', 'engine.io', 'fastify', 'bufferutil'].map((p) => [p, version(p)])),
  };
}
