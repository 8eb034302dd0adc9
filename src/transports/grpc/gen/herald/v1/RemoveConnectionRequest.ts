// biome-ignore-all lint: generated (npm run gen:proto)
// Original file: proto/herald/v1/notifications.proto


export interface RemoveConnectionRequest {
  'client_id'?: (string);
  'device_id'?: (string);
}

export interface RemoveConnectionRequest__Output {
  'client_id': (string);
  'device_id': (string);
}
