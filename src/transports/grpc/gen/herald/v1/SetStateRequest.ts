// biome-ignore-all lint: generated (npm run gen:proto)
// Original file: proto/herald/v1/notifications.proto


export interface SetStateRequest {
  'connection_id'?: (string);
  'ids'?: (string)[];
  'all'?: (boolean);
  'seen'?: (boolean);
  'read'?: (boolean);
  'archived'?: (boolean);
  '_seen'?: "seen";
  '_read'?: "read";
  '_archived'?: "archived";
}

export interface SetStateRequest__Output {
  'connection_id': (string);
  'ids': (string)[];
  'all': (boolean);
  'seen'?: (boolean);
  'read'?: (boolean);
  'archived'?: (boolean);
  '_seen'?: "seen";
  '_read'?: "read";
  '_archived'?: "archived";
}
