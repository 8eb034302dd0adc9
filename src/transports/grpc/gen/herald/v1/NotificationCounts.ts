// biome-ignore-all lint: generated (npm run gen:proto)
// Original file: proto/herald/v1/notifications.proto

import type { Long } from '@grpc/proto-loader';

export interface NotificationCounts {
  'published'?: (number | string | Long);
  'delivered'?: (number | string | Long);
  'dropped'?: (number | string | Long);
}

export interface NotificationCounts__Output {
  'published': (number);
  'delivered': (number);
  'dropped': (number);
}
