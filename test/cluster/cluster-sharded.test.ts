import { clusterSuite } from '../support/cluster-suite.js';

/** The cluster behaviour suite on a Redis Cluster of three shards, REDIS_CLUSTER=true (issue 17). */
clusterSuite('sharded');
