// biome-ignore-all lint: generated (npm run gen:proto)
// Original file: proto/herald/v1/notifications.proto


export interface GetStatsRequest {
}

export interface GetStatsRequest__Output {
}
