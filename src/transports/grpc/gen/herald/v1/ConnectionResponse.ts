// biome-ignore-all lint: generated (npm run gen:proto)
// Original file: proto/herald/v1/notifications.proto


export interface ConnectionResponse {
  'success'?: (boolean);
  'connection_id'?: (string);
  'message'?: (string);
}

export interface ConnectionResponse__Output {
  'success': (boolean);
  'connection_id': (string);
  'message': (string);
}
