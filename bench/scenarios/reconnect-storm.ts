import { sleep } from '../lib/children.js';
import { DEVICES_PER_WORKER } from '../lib/devices.js';
import { boundTarget } from '../lib/targets.js';
import type { Scenario } from './types.js';

/** Handshakes in flight per load process during the storm (4 processes: ~1 000 at once, twice the accept backlog). */
const STORM_LANES = 256;
const STORM_TIMEOUT_MS = 90_000;
/** Devices per load process: several processes even at 10 000, each far under the file limit. */
const PER_WORKER = Math.min(DEVICES_PER_WORKER, 2500);

/**
 * Issue 5's reconnect storm: every device drops its connection at the same moment, a third into a
 * stretch of steady targeted publishing, and reconnects at once with its resume position (Herald:
 * the last cursor it received, `?cursor=`; Socket.IO with `connectionStateRecovery`: its session
 * pid and last offset, as socket.io-client sends them). Publishing goes on throughout. Each device
 * keeps every publisher sequence number it received; afterwards every device's set is compared
 * with what was published to its client and answered 2xx: lost and duplicated are counted
 * exactly. Time until all resumed: from the drop to the last device having its stream back with
 * the resume honoured and its replay received.
 */
export const reconnectStorm: Scenario = {
  id: 'reconnect-storm',
  title: 'Reconnect storm with resume, publishing throughout',
  servers: ['herald-redis', 'socketio-recovery'],
  ratios: [['herald-redis', 'socketio-recovery']],
  metrics: (s) => [
    { key: 'devices', label: `devices reconnecting at once (of ${s.stormDevices.toLocaleString('en')})`, unit: '', better: 'higher' },
    { key: 'allResumedMs', label: 'time until all resumed (stream back + replay received)', unit: 'ms', better: 'lower' },
    { key: 'handshakeP50', label: 'reconnect handshake p50', unit: 'ms', better: 'lower', digits: 1 },
    { key: 'handshakeP99', label: 'reconnect handshake p99', unit: 'ms', better: 'lower', digits: 1 },
    { key: 'notResumed', label: 'devices whose resume was not honoured', unit: '', better: 'lower' },
    { key: 'failedReconnects', label: 'reconnects that failed', unit: '', better: 'lower' },
    { key: 'expected', label: 'notifications owed to the devices (2xx publishes)', unit: '', better: 'higher' },
    { key: 'lost', label: 'lost', unit: '', better: 'lower' },
    { key: 'duplicated', label: 'duplicated', unit: '', better: 'lower' },
    { key: 'unexpected', label: 'received but not owed', unit: '', better: 'lower' },
    { key: 'publishRate', label: `publishes / s during the run (asked ${s.stormRate.toLocaleString('en')})`, unit: '/s', better: 'higher' },
    { key: 'failedPublishes', label: 'publishes not answered 2xx', unit: '', better: 'lower' },
    { key: 'stormCpuPct', label: 'server CPU from the drop until all resumed', unit: '% of a core', better: 'lower' },
  ],
  targets: [
    boundTarget('storm-lost', 'Reconnect storm, Redis store: lost = 0', 'lost', 'herald-redis', '<=', 0, ''),
    boundTarget('storm-dup', 'Reconnect storm, Redis store: duplicated = 0', 'duplicated', 'herald-redis', '<=', 0, ''),
    boundTarget('storm-resumed', 'Reconnect storm, Redis store: every resume honoured', 'notResumed', 'herald-redis', '<=', 0, 'devices not resumed'),
  ],
  charts: [{ title: 'Reconnect storm: time until all resumed', unit: 'ms', keys: [{ key: 'allResumedMs', label: 'all resumed' }] }],
  async run(ctx) {
    const { stormDevices: n, stormRate: rate, stormSeconds: seconds } = ctx.sizes;
    const server = await ctx.startServer();
    const pool = await ctx.openDevices(server, n, { track: true, workers: Math.max(2, Math.ceil(n / PER_WORKER)) });
    const c = await pool.connect(n);
    ctx.log(`${c.open} devices connected`);
    const notes: string[] = [];
    if (c.failed) notes.push(`${c.failed} initial connections failed: ${JSON.stringify(c.errors)}`);
    const pubs = ctx.openPublishers(server, 1);
    await pool.phase(false);
    // One publisher process: its sequence numbers are the ids each device checks against.
    const publishing = pubs.run({
      target: 'client',
      mode: 'paced',
      rate,
      concurrency: 64,
      clients: n,
      durationMs: seconds * 1000,
      batchSize: 1,
      client: ctx.httpClient,
    });
    // Late enough that every device has received something (a Socket.IO client without an offset
    // cannot ask for recovery), early enough that publishing goes on well after the storm.
    await sleep(Math.min(seconds / 2, Math.max(seconds / 3, (1.2 * n) / rate)) * 1000);
    ctx.log('storm: every device drops and reconnects with its resume position');
    const w = await server.begin('storm');
    const storm = await pool.storm(STORM_LANES, STORM_TIMEOUT_MS);
    const cost = await server.end(w);
    ctx.log(`all resumed after ${storm.allResumedMs.toFixed(0)} ms (${storm.open} open, ${storm.notResumed} not resumed)`);
    const pub = await publishing;
    // Let the last publishes arrive, then check every device exactly.
    await pool.waitReceived(Number.POSITIVE_INFINITY, 3000);
    const total = pub.ok + pub.failed;
    const v = await pool.verify(total, 0, n, pub.failedSeqs[0] ?? []);
    if (storm.failed) notes.push(`${storm.failed} reconnects failed: ${JSON.stringify(storm.errors)}`);
    if (storm.notCaughtUp) notes.push(`${storm.notCaughtUp} devices had not received their whole replay after ${STORM_TIMEOUT_MS / 1000} s`);
    if (pub.failed) notes.push(`${pub.failed} publishes not answered 2xx ${JSON.stringify(pub.statuses)} (neither owed nor unexpected)`);
    if (v.examples.length) notes.push(`examples of losses: ${v.examples.join(', ')}`);
    notes.push(
      `storm: ${n.toLocaleString('en')} devices in ${Math.max(2, Math.ceil(n / PER_WORKER))} load processes, ${STORM_LANES} handshakes in flight per process; lost/duplicated counted over every device's whole run (before, during and after the storm)`,
    );
    return {
      metrics: {
        devices: storm.open,
        allResumedMs: storm.allResumedMs,
        handshakeP50: storm.handshake.percentileMs(50),
        handshakeP99: storm.handshake.percentileMs(99),
        notResumed: storm.notResumed,
        failedReconnects: storm.failed,
        expected: v.expected,
        lost: v.lost,
        duplicated: v.dups,
        unexpected: v.unexpected,
        publishRate: pub.requestsPerSec,
        failedPublishes: pub.failed,
        stormCpuPct: cost.pctOfCore,
      },
      notes,
      details: {
        storm: { ...storm, handshake: storm.handshake.summary() },
        verify: v,
        publish: { ok: pub.ok, failed: pub.failed, statuses: pub.statuses },
        devicesWithLoss: v.devicesWithLoss,
      },
    };
  },
};
