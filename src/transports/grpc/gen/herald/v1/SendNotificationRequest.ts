// biome-ignore-all lint: generated (npm run gen:proto)
// Original file: proto/herald/v1/notifications.proto

import type { Long } from '@grpc/proto-loader';

export interface SendNotificationRequest {
  'client_id'?: (string);
  'device_id'?: (string);
  'title'?: (string);
  'message'?: (string);
  'service_name'?: (string);
  'data'?: (string);
  'id'?: (string);
  'ttl_ms'?: (number | string | Long);
  '_ttl_ms'?: "ttl_ms";
}

export interface SendNotificationRequest__Output {
  'client_id': (string);
  'device_id': (string);
  'title': (string);
  'message': (string);
  'service_name': (string);
  'data': (string);
  'id': (string);
  'ttl_ms'?: (number);
  '_ttl_ms'?: "ttl_ms";
}
