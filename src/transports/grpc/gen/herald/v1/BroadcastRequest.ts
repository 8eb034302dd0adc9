// biome-ignore-all lint: generated (npm run gen:proto)
// Original file: proto/herald/v1/notifications.proto


export interface BroadcastRequest {
  'title'?: (string);
  'message'?: (string);
  'service_name'?: (string);
  'data'?: (string);
  'id'?: (string);
}

export interface BroadcastRequest__Output {
  'title': (string);
  'message': (string);
  'service_name': (string);
  'data': (string);
  'id': (string);
}
