// biome-ignore-all lint: generated (npm run gen:proto)
// Original file: proto/herald/v1/notifications.proto


export interface RemoveConnectionResponse {
  'success'?: (boolean);
  'message'?: (string);
}

export interface RemoveConnectionResponse__Output {
  'success': (boolean);
  'message': (string);
}
