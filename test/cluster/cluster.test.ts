import { clusterSuite } from '../support/cluster-suite.js';

/**
 * The cluster behaviour suite (test/support/cluster-suite.ts) on one redis-server, then on a Redis
 * Cluster of three shards with REDIS_CLUSTER=true (issue 17).
 */
clusterSuite('single');
clusterSuite('sharded');
