import { describe, expect, it } from 'vitest';
import { PushServiceStandIn } from '../push/push-service.js';
import { startPushHerald, subscribe } from '../push/support.js';
import { parseExpositionStrict } from '../support/exposition.js';
import { connectDevice, publishTo } from '../support/herald.js';

const help = (name: string, type: string) => `# HELP ${name} h\n# TYPE ${name} ${type}\n`;

describe('the strict exposition reader', () => {
  it('reads a valid exposition: families, labels with escapes, special values, histograms', () => {
    const text =
      `${help('a_total', 'counter')}a_total{x="q\\"uote\\\\ \\n"} 3\n` +
      `${help('b', 'gauge')}b NaN\nb{l="1"} -Inf\n` +
      `${help('h_seconds', 'histogram')}h_seconds_bucket{le="0.1"} 1\nh_seconds_bucket{le="+Inf"} 2\nh_seconds_sum 0.3\nh_seconds_count 2\n` +
      '\n# TYPE e_total counter\n';
    const families = parseExpositionStrict(text);
    expect(families.map((f) => [f.name, f.type, f.samples.length])).toEqual([
      ['a_total', 'counter', 1],
      ['b', 'gauge', 2],
      ['h_seconds', 'histogram', 4],
      ['e_total', 'counter', 0],
    ]);
    expect(families[0].samples[0].labels.x).toBe('q"uote\\ \n');
    expect(families[0].help).toBe('h');
  });

  it.each([
    ['a gauge x beside a counter x_total', `${help('x', 'gauge')}x 1\n${help('x_total', 'counter')}x_total 1\n`, /one OpenMetrics family x/],
    ['a counter x_total, then a gauge x', `${help('x_total', 'counter')}x_total 1\n${help('x', 'gauge')}x 1\n`, /one OpenMetrics family x/],
    ['a gauge x_created beside a counter x_total', `${help('x_total', 'counter')}x_total 1\n${help('x_created', 'gauge')}x_created 1\n`, /may emit x_created/],
    ['a gauge x_count beside a histogram x', `${help('x', 'histogram')}x_bucket{le="+Inf"} 0\n${help('x_count', 'gauge')}x_count 1\n`, /may emit x_count/],
    ['a gauge x_bucket beside a histogram x', `${help('x_bucket', 'gauge')}x_bucket 1\n${help('x', 'histogram')}x_bucket{le="+Inf"} 0\n`, /may emit x_bucket/],
    ['a gauge x_sum beside a summary x', `${help('x', 'summary')}x_sum 1\n${help('x_sum', 'gauge')}x_sum 1\n`, /may emit x_sum/],
    ['a TYPE after its samples', 'x 1\n# TYPE x gauge\n', /before any TYPE/],
    ['a HELP after its samples', '# TYPE x gauge\nx 1\n# HELP x h\n', /HELP after the samples/],
    ['a sample without a TYPE', `${help('x', 'gauge')}x 1\ny 2\n`, /sample y before any TYPE/],
    ['two TYPE lines', '# TYPE x gauge\n# TYPE x gauge\n', /second TYPE/],
    ['two HELP lines', '# HELP x a\n# HELP x b\n# TYPE x gauge\n', /second HELP/],
    ['a HELP without a TYPE', '# HELP x a\n', /no TYPE/],
    ['a counter not ending in _total', '# TYPE x counter\nx 1\n', /does not end in _total/],
    ['interleaved families', `${help('x', 'gauge')}${help('y', 'gauge')}x{a="1"} 1\ny 1\nx{a="2"} 1\n`, /not contiguous/],
    ['one series twice', `${help('x', 'gauge')}x{a="1"} 1\nx{a="1"} 2\n`, /twice/],
    ['a bad value', `${help('x', 'gauge')}x one\n`, /bad value/],
    ['an unquoted label', `${help('x', 'gauge')}x{a=1} 1\n`, /not quoted/],
    ['a bad escape', `${help('x', 'gauge')}x{a="\\t"} 1\n`, /bad escape/],
    ['a label twice', `${help('x', 'gauge')}x{a="1",a="2"} 1\n`, /label a twice/],
    ['a malformed sample', `${help('x', 'gauge')}x  1\n`, /malformed/],
    ['an unknown type', '# TYPE x gaugeish\n', /unknown type/],
    ['a stray comment', '# hello\n', /neither HELP nor TYPE/],
    ['no final newline', `${help('x', 'gauge')}x 1`, /newline/],
    ['a histogram without +Inf', `${help('x', 'histogram')}x_bucket{le="1"} 0\n`, /\+Inf/],
  ])('rejects %s', (_what, text, error) => {
    expect(() => parseExpositionStrict(text)).toThrow(error);
  });
});

describe('/metrics', () => {
  it('is one strictly valid exposition (no family clashes, every TYPE before its samples) with every metric present', async () => {
    await using service = await PushServiceStandIn.start();
    await using h = await startPushHerald();
    // Something in every family: a delivery, a disconnect, a push subscription, a heartbeat round trip.
    await using d = await connectDevice(h, 'alice', 'phone');
    await subscribe(h, 'alice', 'tablet', await service.subscription());
    await publishTo(h, 'alice', { title: 't', message: 'm' });
    await d.waitForNotifications(1);
    d.close();
    await d.closed;

    const res = await fetch(`${h.url}/metrics`);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const families = parseExpositionStrict(await res.text());
    const byName = new Map(families.map((f) => [f.name, f]));
    expect([...byName.keys()].sort()).toEqual(
      [
        'herald_connections',
        'herald_connects_total',
        'herald_disconnects_total',
        'herald_notifications_published_total',
        'herald_notifications_delivered_total',
        'herald_notifications_dropped_total',
        'herald_heartbeats_total',
        'herald_zombies_total',
        'herald_heartbeat_rtt_seconds',
        'herald_send_queue_bytes',
        'herald_event_loop_lag_seconds',
        'herald_push_total',
        'herald_push_enqueued_total',
        'herald_push_retries_total',
        'herald_push_truncated_total',
        'herald_push_queue',
        'herald_push_subscription_changes_total',
        'herald_push_subscriptions',
      ].sort(),
    );
    for (const f of families) expect(f.help, f.name).toBeTruthy();
    expect(byName.get('herald_push_subscriptions')).toMatchObject({ type: 'gauge', samples: [{ value: 1 }] });
    const changes = byName.get('herald_push_subscription_changes_total');
    expect(changes?.type).toBe('counter');
    expect(changes?.samples.find((s) => s.labels.change === 'added')?.value).toBe(1);
  });
});
