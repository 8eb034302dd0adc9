/**
 * How big and how long each scenario runs. The full run uses the sizes; `--quick` is a
 * smoke run of about two minutes on this 2-core machine (fewer devices, shorter windows), whose
 * ratios are indicative only.
 */
export interface Sizes {
  mode: 'quick' | 'full';
  /** Settling time after connecting, before memory is read. */
  memorySettleMs: number;
  memoryCounts: number[];
  connectCount: number;
  fanoutDevices: number;
  fanoutWarmup: number;
  fanoutBroadcasts: number;
  sustainedDevices: number;
  sustainedRate: number;
  sustainedSeconds: number;
  /** The sustained time per server is cut into this many windows, the servers taking turns. */
  sustainedWindows: number;
  targetedDevices: number;
  targetedSeconds: number;
  pacedSeconds: number;
  /** The paced phase's rate: half the closed-loop rate, at most this (the "half of 20 000/s"). */
  pacedRateCap: number;
  batchSeconds: number;
  batchSize: number;
  heartbeatDevices: number;
  heartbeatMs: number;
  heartbeatSeconds: number;
  /** Reconnect storm (issue 5): devices, publishing rate and time around the storm. */
  stormDevices: number;
  stormRate: number;
  stormSeconds: number;
  /** Cluster (issue 7): devices over the 3 nodes, seconds per targeted phase, broadcasts. */
  clusterDevices: number;
  clusterSeconds: number;
  clusterBroadcasts: number;
  /** Cluster scaling (issue 17): seconds of closed-loop targeted publishing per node count (devices and broadcasts as the cluster's). */
  scalingSeconds: number;
}

export const FULL: Sizes = {
  mode: 'full',
  memorySettleMs: 1500,
  memoryCounts: [1000, 15_000],
  connectCount: 10_000,
  fanoutDevices: 10_000,
  fanoutWarmup: 5,
  fanoutBroadcasts: 30,
  sustainedDevices: 10_000,
  sustainedRate: 10,
  sustainedSeconds: 15,
  sustainedWindows: 3,
  targetedDevices: 10_000,
  targetedSeconds: 8,
  pacedSeconds: 8,
  pacedRateCap: 10_000,
  batchSeconds: 5,
  batchSize: 500,
  heartbeatDevices: 15_000,
  heartbeatMs: 1000,
  heartbeatSeconds: 10,
  stormDevices: 10_000,
  stormRate: 2000,
  stormSeconds: 15,
  clusterDevices: 9000,
  clusterSeconds: 6,
  clusterBroadcasts: 12,
  scalingSeconds: 6,
};

export const QUICK: Sizes = {
  mode: 'quick',
  memorySettleMs: 800,
  memoryCounts: [1000, 2000],
  connectCount: 2000,
  fanoutDevices: 3000,
  fanoutWarmup: 2,
  fanoutBroadcasts: 8,
  sustainedDevices: 3000,
  sustainedRate: 10,
  sustainedSeconds: 3,
  sustainedWindows: 2,
  targetedDevices: 2000,
  targetedSeconds: 2,
  pacedSeconds: 2,
  pacedRateCap: 10_000,
  batchSeconds: 1.5,
  batchSize: 500,
  heartbeatDevices: 3000,
  heartbeatMs: 1000,
  heartbeatSeconds: 3,
  stormDevices: 2000,
  stormRate: 1000,
  stormSeconds: 6,
  clusterDevices: 1500,
  clusterSeconds: 2,
  clusterBroadcasts: 4,
  scalingSeconds: 3,
};
