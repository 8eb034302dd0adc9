// biome-ignore-all lint: generated (npm run gen:proto)
// Original file: proto/herald/v1/notifications.proto

import type { TransportCounts as _herald_v1_TransportCounts, TransportCounts__Output as _herald_v1_TransportCounts__Output } from '../../herald/v1/TransportCounts.js';
import type { NotificationCounts as _herald_v1_NotificationCounts, NotificationCounts__Output as _herald_v1_NotificationCounts__Output } from '../../herald/v1/NotificationCounts.js';
import type { Long } from '@grpc/proto-loader';

export interface Stats {
  'node'?: (string);
  'state'?: (string);
  'total'?: (number | string | Long);
  'clients'?: (number | string | Long);
  'by_transport'?: (_herald_v1_TransportCounts | null);
  'devices'?: (number | string | Long);
  'sent'?: (number | string | Long);
  'answered'?: (number | string | Long);
  'missed'?: (number | string | Long);
  'zombies'?: (number | string | Long);
  'stale'?: (number | string | Long);
  'cleaned'?: (number | string | Long);
  'detached'?: (number | string | Long);
  'connects'?: (_herald_v1_TransportCounts | null);
  'disconnects'?: ({[key: string]: number | string | Long});
  'notifications'?: (_herald_v1_NotificationCounts | null);
  'delivered_by_transport'?: (_herald_v1_TransportCounts | null);
}

export interface Stats__Output {
  'node': (string);
  'state': (string);
  'total': (number);
  'clients': (number);
  'by_transport': (_herald_v1_TransportCounts__Output | null);
  'devices': (number);
  'sent': (number);
  'answered': (number);
  'missed': (number);
  'zombies': (number);
  'stale': (number);
  'cleaned': (number);
  'detached': (number);
  'connects': (_herald_v1_TransportCounts__Output | null);
  'disconnects': ({[key: string]: number});
  'notifications': (_herald_v1_NotificationCounts__Output | null);
  'delivered_by_transport': (_herald_v1_TransportCounts__Output | null);
}
