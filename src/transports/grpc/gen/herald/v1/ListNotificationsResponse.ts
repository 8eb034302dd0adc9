// biome-ignore-all lint: generated (npm run gen:proto)
// Original file: proto/herald/v1/notifications.proto

import type { InboxItem as _herald_v1_InboxItem, InboxItem__Output as _herald_v1_InboxItem__Output } from '../../herald/v1/InboxItem.js';

export interface ListNotificationsResponse {
  'items'?: (_herald_v1_InboxItem)[];
  'unseen'?: (number);
  'unread'?: (number);
  'next'?: (string);
}

export interface ListNotificationsResponse__Output {
  'items': (_herald_v1_InboxItem__Output)[];
  'unseen': (number);
  'unread': (number);
  'next': (string);
}
