import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The folder holding package.json, upward from this file (src/api in development, dist/api when
 * built): where the pages under `public/` and the compiled SDK under `dist/` are served from. One
 * place for the dashboard, docs and demo routes, so none of them imports another.
 */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('package root not found; pass { root }');
}
