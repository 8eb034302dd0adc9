import { boundTarget } from '../lib/targets.js';
import { targetedPublish } from './targeted-publish.js';
import type { Scenario } from './types.js';

/**
 * Issue 5: targeted publish through the HTTP API with the Redis store (Herald with
 * `HERALD_REDIS_URL` to a private redis-server the bench starts and stops), beside the memory
 * store in the same run: closed loop, paced at half that rate, batch endpoint, as in issue 4's
 * targeted-publish scenario.
 */
export const redisStorePublish: Scenario = {
  ...targetedPublish,
  id: 'redis-store-publish',
  title: 'Targeted publish with the Redis store (one node) beside the memory store',
  servers: ['herald', 'herald-redis'],
  ratios: [['herald-redis', 'herald']],
  targets: [
    boundTarget(
      'redis-targeted-rate',
      'Targeted HTTP publish with the Redis store ≥ 12 000 publishes/s on one node (issue 17)',
      'publishesPerSec',
      'herald-redis',
      '>=',
      12_000,
      '/s',
    ),
  ],
  charts: [
    { title: 'Targeted publish, memory vs Redis store', unit: 'publishes/s', keys: [{ key: 'publishesPerSec', label: 'publishes/s' }] },
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
