/**
 * Loopback source addresses for load processes. Each load process binds its own 127.x.y.z, so it
 * has a whole ephemeral port range to itself, and sockets left in TIME_WAIT by one scenario never
 * starve the next. Linux routes all of 127.0.0.0/8 to the loopback interface.
 */
let next = 2;

export function nextSourceAddress(): string {
  const n = next++;
  // 127.0.0.2 … 127.0.0.254, then 127.0.1.2 …: never .0, .1 or .255 in the last byte.
  const hi = Math.floor((n - 2) / 253);
  const lo = ((n - 2) % 253) + 2;
  return `127.0.${hi}.${lo}`;
}
