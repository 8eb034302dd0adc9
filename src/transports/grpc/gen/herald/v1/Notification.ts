// biome-ignore-all lint: generated (npm run gen:proto)
// Original file: proto/herald/v1/notifications.proto

import type { Long } from '@grpc/proto-loader';

export interface Notification {
  'id'?: (string);
  'connection_id'?: (string);
  'title'?: (string);
  'message'?: (string);
  'service_name'?: (string);
  'timestamp'?: (number | string | Long);
  'type'?: (string);
  'cursor'?: (string);
  'data'?: (string);
  'client_id'?: (string);
  'device_id'?: (string);
  'resumed'?: (boolean);
  'pending'?: (number);
  'reconnect_after_ms'?: (number | string | Long);
  'code'?: (number);
  'reason'?: (string);
  'unseen'?: (number);
  'unread'?: (number);
  'replaces'?: (string);
}

export interface Notification__Output {
  'id': (string);
  'connection_id': (string);
  'title': (string);
  'message': (string);
  'service_name': (string);
  'timestamp': (number);
  'type': (string);
  'cursor': (string);
  'data': (string);
  'client_id': (string);
  'device_id': (string);
  'resumed': (boolean);
  'pending': (number);
  'reconnect_after_ms': (number);
  'code': (number);
  'reason': (string);
  'unseen': (number);
  'unread': (number);
  'replaces': (string);
}
