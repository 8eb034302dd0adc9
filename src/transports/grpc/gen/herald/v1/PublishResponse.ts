// biome-ignore-all lint: generated (npm run gen:proto)
// Original file: proto/herald/v1/notifications.proto

import type { Long } from '@grpc/proto-loader';

export interface PublishResponse {
  'id'?: (string);
  'cursor'?: (string);
  'delivered'?: (number | string | Long);
  'stored'?: (boolean);
}

export interface PublishResponse__Output {
  'id': (string);
  'cursor': (string);
  'delivered': (number);
  'stored': (boolean);
}
