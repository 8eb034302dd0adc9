// biome-ignore-all lint: generated (npm run gen:proto)
// Original file: proto/herald/v1/notifications.proto

import type { Long } from '@grpc/proto-loader';

export interface InboxItem {
  'id'?: (string);
  'client_id'?: (string);
  'device_id'?: (string);
  'broadcast'?: (boolean);
  'title'?: (string);
  'message'?: (string);
  'service_name'?: (string);
  'data'?: (string);
  'timestamp'?: (number | string | Long);
  'version'?: (number);
  'updated_at'?: (number | string | Long);
  'collapse_key'?: (string);
  'seen_at'?: (number | string | Long);
  'read_at'?: (number | string | Long);
  'archived_at'?: (number | string | Long);
  '_seen_at'?: "seen_at";
  '_read_at'?: "read_at";
  '_archived_at'?: "archived_at";
}

export interface InboxItem__Output {
  'id': (string);
  'client_id': (string);
  'device_id': (string);
  'broadcast': (boolean);
  'title': (string);
  'message': (string);
  'service_name': (string);
  'data': (string);
  'timestamp': (number);
  'version': (number);
  'updated_at': (number);
  'collapse_key': (string);
  'seen_at'?: (number);
  'read_at'?: (number);
  'archived_at'?: (number);
  '_seen_at'?: "seen_at";
  '_read_at'?: "read_at";
  '_archived_at'?: "archived_at";
}
