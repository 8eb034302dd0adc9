// biome-ignore-all lint: generated (npm run gen:proto)
// Original file: proto/herald/v1/notifications.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AckRequest as _herald_v1_AckRequest, AckRequest__Output as _herald_v1_AckRequest__Output } from '../../herald/v1/AckRequest.js';
import type { AckResponse as _herald_v1_AckResponse, AckResponse__Output as _herald_v1_AckResponse__Output } from '../../herald/v1/AckResponse.js';
import type { AddConnectionRequest as _herald_v1_AddConnectionRequest, AddConnectionRequest__Output as _herald_v1_AddConnectionRequest__Output } from '../../herald/v1/AddConnectionRequest.js';
import type { BroadcastRequest as _herald_v1_BroadcastRequest, BroadcastRequest__Output as _herald_v1_BroadcastRequest__Output } from '../../herald/v1/BroadcastRequest.js';
import type { ConnectionResponse as _herald_v1_ConnectionResponse, ConnectionResponse__Output as _herald_v1_ConnectionResponse__Output } from '../../herald/v1/ConnectionResponse.js';
import type { GetStatsRequest as _herald_v1_GetStatsRequest, GetStatsRequest__Output as _herald_v1_GetStatsRequest__Output } from '../../herald/v1/GetStatsRequest.js';
import type { ListNotificationsRequest as _herald_v1_ListNotificationsRequest, ListNotificationsRequest__Output as _herald_v1_ListNotificationsRequest__Output } from '../../herald/v1/ListNotificationsRequest.js';
import type { ListNotificationsResponse as _herald_v1_ListNotificationsResponse, ListNotificationsResponse__Output as _herald_v1_ListNotificationsResponse__Output } from '../../herald/v1/ListNotificationsResponse.js';
import type { Notification as _herald_v1_Notification, Notification__Output as _herald_v1_Notification__Output } from '../../herald/v1/Notification.js';
import type { PublishResponse as _herald_v1_PublishResponse, PublishResponse__Output as _herald_v1_PublishResponse__Output } from '../../herald/v1/PublishResponse.js';
import type { RemoveConnectionRequest as _herald_v1_RemoveConnectionRequest, RemoveConnectionRequest__Output as _herald_v1_RemoveConnectionRequest__Output } from '../../herald/v1/RemoveConnectionRequest.js';
import type { RemoveConnectionResponse as _herald_v1_RemoveConnectionResponse, RemoveConnectionResponse__Output as _herald_v1_RemoveConnectionResponse__Output } from '../../herald/v1/RemoveConnectionResponse.js';
import type { SendNotificationRequest as _herald_v1_SendNotificationRequest, SendNotificationRequest__Output as _herald_v1_SendNotificationRequest__Output } from '../../herald/v1/SendNotificationRequest.js';
import type { SetStateRequest as _herald_v1_SetStateRequest, SetStateRequest__Output as _herald_v1_SetStateRequest__Output } from '../../herald/v1/SetStateRequest.js';
import type { SetStateResponse as _herald_v1_SetStateResponse, SetStateResponse__Output as _herald_v1_SetStateResponse__Output } from '../../herald/v1/SetStateResponse.js';
import type { Stats as _herald_v1_Stats, Stats__Output as _herald_v1_Stats__Output } from '../../herald/v1/Stats.js';
import type { SubscribeRequest as _herald_v1_SubscribeRequest, SubscribeRequest__Output as _herald_v1_SubscribeRequest__Output } from '../../herald/v1/SubscribeRequest.js';

export interface NotificationsClient extends grpc.Client {
  Ack(argument: _herald_v1_AckRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_herald_v1_AckResponse__Output>): grpc.ClientUnaryCall;
  Ack(argument: _herald_v1_AckRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_herald_v1_AckResponse__Output>): grpc.ClientUnaryCall;
  Ack(argument: _herald_v1_AckRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_herald_v1_AckResponse__Output>): grpc.ClientUnaryCall;
  Ack(argument: _herald_v1_AckRequest, callback: grpc.requestCallback<_herald_v1_AckResponse__Output>): grpc.ClientUnaryCall;
  ack(argument: _herald_v1_AckRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_herald_v1_AckResponse__Output>): grpc.ClientUnaryCall;
  ack(argument: _herald_v1_AckRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_herald_v1_AckResponse__Output>): grpc.ClientUnaryCall;
  ack(argument: _herald_v1_AckRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_herald_v1_AckResponse__Output>): grpc.ClientUnaryCall;
  ack(argument: _herald_v1_AckRequest, callback: grpc.requestCallback<_herald_v1_AckResponse__Output>): grpc.ClientUnaryCall;
  
  AddConnection(argument: _herald_v1_AddConnectionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_herald_v1_ConnectionResponse__Output>): grpc.ClientUnaryCall;
  AddConnection(argument: _herald_v1_AddConnectionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_herald_v1_ConnectionResponse__Output>): grpc.ClientUnaryCall;
  AddConnection(argument: _herald_v1_AddConnectionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_herald_v1_ConnectionResponse__Output>): grpc.ClientUnaryCall;
  AddConnection(argument: _herald_v1_AddConnectionRequest, callback: grpc.requestCallback<_herald_v1_ConnectionResponse__Output>): grpc.ClientUnaryCall;
  addConnection(argument: _herald_v1_AddConnectionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_herald_v1_ConnectionResponse__Output>): grpc.ClientUnaryCall;
  addConnection(argument: _herald_v1_AddConnectionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_herald_v1_ConnectionResponse__Output>): grpc.ClientUnaryCall;
  addConnection(argument: _herald_v1_AddConnectionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_herald_v1_ConnectionResponse__Output>): grpc.ClientUnaryCall;
  addConnection(argument: _herald_v1_AddConnectionRequest, callback: grpc.requestCallback<_herald_v1_ConnectionResponse__Output>): grpc.ClientUnaryCall;
  
  Broadcast(argument: _herald_v1_BroadcastRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_herald_v1_PublishResponse__Output>): grpc.ClientUnaryCall;
  Broadcast(argument: _herald_v1_BroadcastRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_herald_v1_PublishResponse__Output>): grpc.ClientUnaryCall;
  Broadcast(argument: _herald_v1_BroadcastRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_herald_v1_PublishResponse__Output>): grpc.ClientUnaryCall;
  Broadcast(argument: _herald_v1_BroadcastRequest, callback: grpc.requestCallback<_herald_v1_PublishResponse__Output>): grpc.ClientUnaryCall;
  broadcast(argument: _herald_v1_BroadcastRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_herald_v1_PublishResponse__Output>): grpc.ClientUnaryCall;
  broadcast(argument: _herald_v1_BroadcastRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_herald_v1_PublishResponse__Output>): grpc.ClientUnaryCall;
  broadcast(argument: _herald_v1_BroadcastRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_herald_v1_PublishResponse__Output>): grpc.ClientUnaryCall;
  broadcast(argument: _herald_v1_BroadcastRequest, callback: grpc.requestCallback<_herald_v1_PublishResponse__Output>): grpc.ClientUnaryCall;
  
  GetStats(argument: _herald_v1_GetStatsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_herald_v1_Stats__Output>): grpc.ClientUnaryCall;
  GetStats(argument: _herald_v1_GetStatsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_herald_v1_Stats__Output>): grpc.ClientUnaryCall;
  GetStats(argument: _herald_v1_GetStatsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_herald_v1_Stats__Output>): grpc.ClientUnaryCall;
  GetStats(argument: _herald_v1_GetStatsRequest, callback: grpc.requestCallback<_herald_v1_Stats__Output>): grpc.ClientUnaryCall;
  getStats(argument: _herald_v1_GetStatsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_herald_v1_Stats__Output>): grpc.ClientUnaryCall;
  getStats(argument: _herald_v1_GetStatsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_herald_v1_Stats__Output>): grpc.ClientUnaryCall;
  getStats(argument: _herald_v1_GetStatsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_herald_v1_Stats__Output>): grpc.ClientUnaryCall;
  getStats(argument: _herald_v1_GetStatsRequest, callback: grpc.requestCallback<_herald_v1_Stats__Output>): grpc.ClientUnaryCall;
  
  ListNotifications(argument: _herald_v1_ListNotificationsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_herald_v1_ListNotificationsResponse__Output>): grpc.ClientUnaryCall;
  ListNotifications(argument: _herald_v1_ListNotificationsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_herald_v1_ListNotificationsResponse__Output>): grpc.ClientUnaryCall;
  ListNotifications(argument: _herald_v1_ListNotificationsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_herald_v1_ListNotificationsResponse__Output>): grpc.ClientUnaryCall;
  ListNotifications(argument: _herald_v1_ListNotificationsRequest, callback: grpc.requestCallback<_herald_v1_ListNotificationsResponse__Output>): grpc.ClientUnaryCall;
  listNotifications(argument: _herald_v1_ListNotificationsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_herald_v1_ListNotificationsResponse__Output>): grpc.ClientUnaryCall;
  listNotifications(argument: _herald_v1_ListNotificationsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_herald_v1_ListNotificationsResponse__Output>): grpc.ClientUnaryCall;
  listNotifications(argument: _herald_v1_ListNotificationsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_herald_v1_ListNotificationsResponse__Output>): grpc.ClientUnaryCall;
  listNotifications(argument: _herald_v1_ListNotificationsRequest, callback: grpc.requestCallback<_herald_v1_ListNotificationsResponse__Output>): grpc.ClientUnaryCall;
  
  RemoveConnection(argument: _herald_v1_RemoveConnectionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_herald_v1_RemoveConnectionResponse__Output>): grpc.ClientUnaryCall;
  RemoveConnection(argument: _herald_v1_RemoveConnectionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_herald_v1_RemoveConnectionResponse__Output>): grpc.ClientUnaryCall;
  RemoveConnection(argument: _herald_v1_RemoveConnectionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_herald_v1_RemoveConnectionResponse__Output>): grpc.ClientUnaryCall;
  RemoveConnection(argument: _herald_v1_RemoveConnectionRequest, callback: grpc.requestCallback<_herald_v1_RemoveConnectionResponse__Output>): grpc.ClientUnaryCall;
  removeConnection(argument: _herald_v1_RemoveConnectionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_herald_v1_RemoveConnectionResponse__Output>): grpc.ClientUnaryCall;
  removeConnection(argument: _herald_v1_RemoveConnectionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_herald_v1_RemoveConnectionResponse__Output>): grpc.ClientUnaryCall;
  removeConnection(argument: _herald_v1_RemoveConnectionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_herald_v1_RemoveConnectionResponse__Output>): grpc.ClientUnaryCall;
  removeConnection(argument: _herald_v1_RemoveConnectionRequest, callback: grpc.requestCallback<_herald_v1_RemoveConnectionResponse__Output>): grpc.ClientUnaryCall;
  
  SendNotification(argument: _herald_v1_SendNotificationRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_herald_v1_PublishResponse__Output>): grpc.ClientUnaryCall;
  SendNotification(argument: _herald_v1_SendNotificationRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_herald_v1_PublishResponse__Output>): grpc.ClientUnaryCall;
  SendNotification(argument: _herald_v1_SendNotificationRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_herald_v1_PublishResponse__Output>): grpc.ClientUnaryCall;
  SendNotification(argument: _herald_v1_SendNotificationRequest, callback: grpc.requestCallback<_herald_v1_PublishResponse__Output>): grpc.ClientUnaryCall;
  sendNotification(argument: _herald_v1_SendNotificationRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_herald_v1_PublishResponse__Output>): grpc.ClientUnaryCall;
  sendNotification(argument: _herald_v1_SendNotificationRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_herald_v1_PublishResponse__Output>): grpc.ClientUnaryCall;
  sendNotification(argument: _herald_v1_SendNotificationRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_herald_v1_PublishResponse__Output>): grpc.ClientUnaryCall;
  sendNotification(argument: _herald_v1_SendNotificationRequest, callback: grpc.requestCallback<_herald_v1_PublishResponse__Output>): grpc.ClientUnaryCall;
  
  SetState(argument: _herald_v1_SetStateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_herald_v1_SetStateResponse__Output>): grpc.ClientUnaryCall;
  SetState(argument: _herald_v1_SetStateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_herald_v1_SetStateResponse__Output>): grpc.ClientUnaryCall;
  SetState(argument: _herald_v1_SetStateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_herald_v1_SetStateResponse__Output>): grpc.ClientUnaryCall;
  SetState(argument: _herald_v1_SetStateRequest, callback: grpc.requestCallback<_herald_v1_SetStateResponse__Output>): grpc.ClientUnaryCall;
  setState(argument: _herald_v1_SetStateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_herald_v1_SetStateResponse__Output>): grpc.ClientUnaryCall;
  setState(argument: _herald_v1_SetStateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_herald_v1_SetStateResponse__Output>): grpc.ClientUnaryCall;
  setState(argument: _herald_v1_SetStateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_herald_v1_SetStateResponse__Output>): grpc.ClientUnaryCall;
  setState(argument: _herald_v1_SetStateRequest, callback: grpc.requestCallback<_herald_v1_SetStateResponse__Output>): grpc.ClientUnaryCall;
  
  StreamNotifications(argument: _herald_v1_SubscribeRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_herald_v1_Notification__Output>;
  StreamNotifications(argument: _herald_v1_SubscribeRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_herald_v1_Notification__Output>;
  streamNotifications(argument: _herald_v1_SubscribeRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_herald_v1_Notification__Output>;
  streamNotifications(argument: _herald_v1_SubscribeRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_herald_v1_Notification__Output>;
  
}

export interface NotificationsHandlers extends grpc.UntypedServiceImplementation {
  Ack: grpc.handleUnaryCall<_herald_v1_AckRequest__Output, _herald_v1_AckResponse>;
  
  AddConnection: grpc.handleUnaryCall<_herald_v1_AddConnectionRequest__Output, _herald_v1_ConnectionResponse>;
  
  Broadcast: grpc.handleUnaryCall<_herald_v1_BroadcastRequest__Output, _herald_v1_PublishResponse>;
  
  GetStats: grpc.handleUnaryCall<_herald_v1_GetStatsRequest__Output, _herald_v1_Stats>;
  
  ListNotifications: grpc.handleUnaryCall<_herald_v1_ListNotificationsRequest__Output, _herald_v1_ListNotificationsResponse>;
  
  RemoveConnection: grpc.handleUnaryCall<_herald_v1_RemoveConnectionRequest__Output, _herald_v1_RemoveConnectionResponse>;
  
  SendNotification: grpc.handleUnaryCall<_herald_v1_SendNotificationRequest__Output, _herald_v1_PublishResponse>;
  
  SetState: grpc.handleUnaryCall<_herald_v1_SetStateRequest__Output, _herald_v1_SetStateResponse>;
  
  StreamNotifications: grpc.handleServerStreamingCall<_herald_v1_SubscribeRequest__Output, _herald_v1_Notification>;
  
}

export interface NotificationsDefinition extends grpc.ServiceDefinition {
  Ack: MethodDefinition<_herald_v1_AckRequest, _herald_v1_AckResponse, _herald_v1_AckRequest__Output, _herald_v1_AckResponse__Output>
  AddConnection: MethodDefinition<_herald_v1_AddConnectionRequest, _herald_v1_ConnectionResponse, _herald_v1_AddConnectionRequest__Output, _herald_v1_ConnectionResponse__Output>
  Broadcast: MethodDefinition<_herald_v1_BroadcastRequest, _herald_v1_PublishResponse, _herald_v1_BroadcastRequest__Output, _herald_v1_PublishResponse__Output>
  GetStats: MethodDefinition<_herald_v1_GetStatsRequest, _herald_v1_Stats, _herald_v1_GetStatsRequest__Output, _herald_v1_Stats__Output>
  ListNotifications: MethodDefinition<_herald_v1_ListNotificationsRequest, _herald_v1_ListNotificationsResponse, _herald_v1_ListNotificationsRequest__Output, _herald_v1_ListNotificationsResponse__Output>
  RemoveConnection: MethodDefinition<_herald_v1_RemoveConnectionRequest, _herald_v1_RemoveConnectionResponse, _herald_v1_RemoveConnectionRequest__Output, _herald_v1_RemoveConnectionResponse__Output>
  SendNotification: MethodDefinition<_herald_v1_SendNotificationRequest, _herald_v1_PublishResponse, _herald_v1_SendNotificationRequest__Output, _herald_v1_PublishResponse__Output>
  SetState: MethodDefinition<_herald_v1_SetStateRequest, _herald_v1_SetStateResponse, _herald_v1_SetStateRequest__Output, _herald_v1_SetStateResponse__Output>
  StreamNotifications: MethodDefinition<_herald_v1_SubscribeRequest, _herald_v1_Notification, _herald_v1_SubscribeRequest__Output, _herald_v1_Notification__Output>
}
