// biome-ignore-all lint: generated (npm run gen:proto)
// Original file: proto/herald/v1/notifications.proto


export interface AckResponse {
}

export interface AckResponse__Output {
}
