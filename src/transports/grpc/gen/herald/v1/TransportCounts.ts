// biome-ignore-all lint: generated (npm run gen:proto)
// Original file: proto/herald/v1/notifications.proto

import type { Long } from '@grpc/proto-loader';

export interface TransportCounts {
  'ws'?: (number | string | Long);
  'sse'?: (number | string | Long);
  'grpc'?: (number | string | Long);
  'grpc_web'?: (number | string | Long);
}

export interface TransportCounts__Output {
  'ws': (number);
  'sse': (number);
  'grpc': (number);
  'grpc_web': (number);
}
