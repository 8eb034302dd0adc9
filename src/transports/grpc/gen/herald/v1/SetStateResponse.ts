// biome-ignore-all lint: generated (npm run gen:proto)
// Original file: proto/herald/v1/notifications.proto


export interface SetStateResponse {
  'updated'?: (number);
  'unseen'?: (number);
  'unread'?: (number);
}

export interface SetStateResponse__Output {
  'updated': (number);
  'unseen': (number);
  'unread': (number);
}
