// biome-ignore-all lint: generated (npm run gen:proto)
// Original file: proto/herald/v1/notifications.proto


export interface ListNotificationsRequest {
  'connection_id'?: (string);
  'limit'?: (number);
  'before'?: (string);
  'filter'?: (string);
}

export interface ListNotificationsRequest__Output {
  'connection_id': (string);
  'limit': (number);
  'before': (string);
  'filter': (string);
}
