// biome-ignore-all lint: generated (npm run gen:proto)
// Original file: proto/herald/v1/notifications.proto


export interface AddConnectionRequest {
  'client_id'?: (string);
  'device_id'?: (string);
  'service_name'?: (string);
}

export interface AddConnectionRequest__Output {
  'client_id': (string);
  'device_id': (string);
  'service_name': (string);
}
