import { boundTarget } from '../lib/targets.js';
import { targetedPublish } from './targeted-publish.js';
import type { Scenario } from './types.js';

/**
 * Issue 16: targeted publish through the HTTP API with the PostgreSQL store (Herald with
 * `HERALD_DATABASE_URL` to a private PostgreSQL the bench starts and stops, with PostgreSQL's
 * default durability: fsync and synchronous commit on), beside the memory store in the same run:
 * closed loop, paced at half that rate, batch endpoint, as in issue 4's targeted-publish scenario.
 * Concurrent publishes leave for PostgreSQL together, one `append_batch` call per round trip.
 */
export const postgresStorePublish: Scenario = {
  ...targetedPublish,
  id: 'postgres-store-publish',
  title: 'Targeted publish with the PostgreSQL store (one node) beside the memory store',
  servers: ['herald', 'herald-postgres'],
  ratios: [['herald-postgres', 'herald']],
  targets: [
    boundTarget(
      'postgres-targeted-rate',
      'Targeted HTTP publish with the PostgreSQL store ≥ 5 000 publishes/s on one node',
      'publishesPerSec',
      'herald-postgres',
      '>=',
      5000,
      '/s',
    ),
  ],
  charts: [
    { title: 'Targeted publish, memory vs PostgreSQL store', unit: 'publishes/s', keys: [{ key: 'publishesPerSec', label: 'publishes/s' }] },
    {
      title: 'Targeted publish latency (paced), by store',
      unit: 'ms',
      log: true,
      keys: [
        { key: 'pacedP50', label: 'p50' },
        { key: 'pacedP99', label: 'p99' },
      ],
    },
  ],
};
