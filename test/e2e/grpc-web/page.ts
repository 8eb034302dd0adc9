/**
 * A browser device on gRPC-Web with the generated client (the README's "gRPC-Web from a browser"),
 * bundled for the page by test/e2e/grpc-web.test.ts: streams, answers heartbeats with Ack, keeps
 * the last cursor and, when the stream fails, registers and streams again from it.
 */
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createGrpcWebTransport } from '@connectrpc/connect-web';
import { Notifications } from '../../../src/gen/herald/v1/notifications_pb.js';

interface PageState {
  events: { type: string; [k: string]: unknown }[];
  streams: number;
  errors: string[];
}

const q = new URLSearchParams(location.search);
const baseUrl = q.get('url') as string;
const token = q.get('token') as string;
const clientId = q.get('client') as string;
const deviceId = q.get('device') as string;
const state: PageState = { events: [], streams: 0, errors: [] };
(window as unknown as { herald: PageState }).herald = state;

const client = createClient(Notifications, createGrpcWebTransport({ baseUrl }));
const headers = { authorization: `Bearer ${token}` };
let cursor = '';

async function run(): Promise<void> {
  for (;;) {
    try {
      const { connectionId } = await client.addConnection({ clientId, deviceId, serviceName: 'web' }, { headers });
      state.streams++;
      for await (const m of client.streamNotifications({ connectionId, cursor }, { headers })) {
        if (m.cursor) cursor = m.cursor;
        state.events.push({ type: m.type, id: m.id, title: m.title, cursor: m.cursor, code: m.code, reason: m.reason, resumed: m.resumed, pending: m.pending });
        if (m.type === 'heartbeat') void client.ack({ connectionId, cursor }, { headers }).catch(() => {});
        // A close the device should not come back from (removed, replaced): stop.
        if (m.type === 'close' && (m.code === 4003 || m.code === 4002)) return;
      }
    } catch (err) {
      const e = ConnectError.from(err);
      state.errors.push(`${Code[e.code]}: ${e.rawMessage}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
void run();
