// biome-ignore-all lint: generated (npm run gen:proto)
import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { AckRequest as _herald_v1_AckRequest, AckRequest__Output as _herald_v1_AckRequest__Output } from './herald/v1/AckRequest.js';
import type { AckResponse as _herald_v1_AckResponse, AckResponse__Output as _herald_v1_AckResponse__Output } from './herald/v1/AckResponse.js';
import type { AddConnectionRequest as _herald_v1_AddConnectionRequest, AddConnectionRequest__Output as _herald_v1_AddConnectionRequest__Output } from './herald/v1/AddConnectionRequest.js';
import type { BroadcastRequest as _herald_v1_BroadcastRequest, BroadcastRequest__Output as _herald_v1_BroadcastRequest__Output } from './herald/v1/BroadcastRequest.js';
import type { ConnectionResponse as _herald_v1_ConnectionResponse, ConnectionResponse__Output as _herald_v1_ConnectionResponse__Output } from './herald/v1/ConnectionResponse.js';
import type { GetStatsRequest as _herald_v1_GetStatsRequest, GetStatsRequest__Output as _herald_v1_GetStatsRequest__Output } from './herald/v1/GetStatsRequest.js';
import type { InboxItem as _herald_v1_InboxItem, InboxItem__Output as _herald_v1_InboxItem__Output } from './herald/v1/InboxItem.js';
import type { ListNotificationsRequest as _herald_v1_ListNotificationsRequest, ListNotificationsRequest__Output as _herald_v1_ListNotificationsRequest__Output } from './herald/v1/ListNotificationsRequest.js';
import type { ListNotificationsResponse as _herald_v1_ListNotificationsResponse, ListNotificationsResponse__Output as _herald_v1_ListNotificationsResponse__Output } from './herald/v1/ListNotificationsResponse.js';
import type { Notification as _herald_v1_Notification, Notification__Output as _herald_v1_Notification__Output } from './herald/v1/Notification.js';
import type { NotificationCounts as _herald_v1_NotificationCounts, NotificationCounts__Output as _herald_v1_NotificationCounts__Output } from './herald/v1/NotificationCounts.js';
import type { NotificationsClient as _herald_v1_NotificationsClient, NotificationsDefinition as _herald_v1_NotificationsDefinition } from './herald/v1/Notifications.js';
import type { PublishResponse as _herald_v1_PublishResponse, PublishResponse__Output as _herald_v1_PublishResponse__Output } from './herald/v1/PublishResponse.js';
import type { RemoveConnectionRequest as _herald_v1_RemoveConnectionRequest, RemoveConnectionRequest__Output as _herald_v1_RemoveConnectionRequest__Output } from './herald/v1/RemoveConnectionRequest.js';
import type { RemoveConnectionResponse as _herald_v1_RemoveConnectionResponse, RemoveConnectionResponse__Output as _herald_v1_RemoveConnectionResponse__Output } from './herald/v1/RemoveConnectionResponse.js';
import type { SendNotificationRequest as _herald_v1_SendNotificationRequest, SendNotificationRequest__Output as _herald_v1_SendNotificationRequest__Output } from './herald/v1/SendNotificationRequest.js';
import type { SetStateRequest as _herald_v1_SetStateRequest, SetStateRequest__Output as _herald_v1_SetStateRequest__Output } from './herald/v1/SetStateRequest.js';
import type { SetStateResponse as _herald_v1_SetStateResponse, SetStateResponse__Output as _herald_v1_SetStateResponse__Output } from './herald/v1/SetStateResponse.js';
import type { Stats as _herald_v1_Stats, Stats__Output as _herald_v1_Stats__Output } from './herald/v1/Stats.js';
import type { SubscribeRequest as _herald_v1_SubscribeRequest, SubscribeRequest__Output as _herald_v1_SubscribeRequest__Output } from './herald/v1/SubscribeRequest.js';
import type { TransportCounts as _herald_v1_TransportCounts, TransportCounts__Output as _herald_v1_TransportCounts__Output } from './herald/v1/TransportCounts.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  herald: {
    v1: {
      AckRequest: MessageTypeDefinition<_herald_v1_AckRequest, _herald_v1_AckRequest__Output>
      AckResponse: MessageTypeDefinition<_herald_v1_AckResponse, _herald_v1_AckResponse__Output>
      AddConnectionRequest: MessageTypeDefinition<_herald_v1_AddConnectionRequest, _herald_v1_AddConnectionRequest__Output>
      BroadcastRequest: MessageTypeDefinition<_herald_v1_BroadcastRequest, _herald_v1_BroadcastRequest__Output>
      ConnectionResponse: MessageTypeDefinition<_herald_v1_ConnectionResponse, _herald_v1_ConnectionResponse__Output>
      GetStatsRequest: MessageTypeDefinition<_herald_v1_GetStatsRequest, _herald_v1_GetStatsRequest__Output>
      InboxItem: MessageTypeDefinition<_herald_v1_InboxItem, _herald_v1_InboxItem__Output>
      ListNotificationsRequest: MessageTypeDefinition<_herald_v1_ListNotificationsRequest, _herald_v1_ListNotificationsRequest__Output>
      ListNotificationsResponse: MessageTypeDefinition<_herald_v1_ListNotificationsResponse, _herald_v1_ListNotificationsResponse__Output>
      Notification: MessageTypeDefinition<_herald_v1_Notification, _herald_v1_Notification__Output>
      NotificationCounts: MessageTypeDefinition<_herald_v1_NotificationCounts, _herald_v1_NotificationCounts__Output>
      Notifications: SubtypeConstructor<typeof grpc.Client, _herald_v1_NotificationsClient> & { service: _herald_v1_NotificationsDefinition }
      PublishResponse: MessageTypeDefinition<_herald_v1_PublishResponse, _herald_v1_PublishResponse__Output>
      RemoveConnectionRequest: MessageTypeDefinition<_herald_v1_RemoveConnectionRequest, _herald_v1_RemoveConnectionRequest__Output>
      RemoveConnectionResponse: MessageTypeDefinition<_herald_v1_RemoveConnectionResponse, _herald_v1_RemoveConnectionResponse__Output>
      SendNotificationRequest: MessageTypeDefinition<_herald_v1_SendNotificationRequest, _herald_v1_SendNotificationRequest__Output>
      SetStateRequest: MessageTypeDefinition<_herald_v1_SetStateRequest, _herald_v1_SetStateRequest__Output>
      SetStateResponse: MessageTypeDefinition<_herald_v1_SetStateResponse, _herald_v1_SetStateResponse__Output>
      Stats: MessageTypeDefinition<_herald_v1_Stats, _herald_v1_Stats__Output>
      SubscribeRequest: MessageTypeDefinition<_herald_v1_SubscribeRequest, _herald_v1_SubscribeRequest__Output>
      TransportCounts: MessageTypeDefinition<_herald_v1_TransportCounts, _herald_v1_TransportCounts__Output>
    }
  }
}

