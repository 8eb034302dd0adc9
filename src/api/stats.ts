/**
 * The stats snapshots moved to core/stats.ts (transports serve them too, and must not import api/).
 * This re-export stays only for api/publisher.ts, which the api branch of issue 14 owns: delete
 * it once publisher.ts imports `statsSnapshot` from '../core/stats.js'.
 */
export { statsSnapshot } from '../core/stats.js';
