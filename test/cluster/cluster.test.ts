import { clusterSuite } from '../support/cluster-suite.js';

/** The cluster behaviour suite on one redis-server (see test/support/cluster-suite.ts). */
clusterSuite('single');
