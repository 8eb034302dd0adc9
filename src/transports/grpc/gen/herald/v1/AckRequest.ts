// biome-ignore-all lint: generated (npm run gen:proto)
// Original file: proto/herald/v1/notifications.proto


export interface AckRequest {
  'connection_id'?: (string);
  'cursor'?: (string);
}

export interface AckRequest__Output {
  'connection_id': (string);
  'cursor': (string);
}
