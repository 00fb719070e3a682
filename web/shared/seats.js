// The call's seats as a page sees them (docs/call.md "Seats (N participants)"): which other seats
// send to this one and in which media slot, the seat a received stream comes from, and the
// roster's aggregate (what the server's `peer` frame would say). No DOM, no I/O.

/** Every seat, in the order the server fills a receiver's media slots (`Role::ALL`). */
export const ROLES = ['citizen', 'officer', 'interpreter', 'agent', 'supervisor'];

/** Whether `me` receives `other`'s media (`Role::sees`: the citizen never gets the supervisor). */
export function sees(me, other) {
  return me !== other && !(me === 'citizen' && other === 'supervisor');
}

/** The seats `me` receives, in slot order (the first is the other party of a two-party call). */
export function othersOf(me) {
  return ROLES.includes(me) ? ROLES.filter((r) => sees(me, r)) : [];
}

/** Media slots to offer: one per seat this one may receive (at least one: the sendrecv pair). */
export function slotsFor(me) {
  return Math.max(1, othersOf(me).length);
}

/** The sending seat a received stream names (stream id `<role>-stream`), or null. */
export function roleOfStream(stream) {
  const m = /^([a-z]+)-stream$/.exec(stream?.id || '');
  return m && ROLES.includes(m[1]) ? m[1] : null;
}

/**
 * The other seats taken together, as the server's `peer` frame says it: `joined` if any is
 * connected, else `reconnecting` if one may come back, else `left`; null with nobody yet.
 */
export function aggregate(roster) {
  const states = [...roster.values()];
  return ['joined', 'reconnecting', 'left'].find((s) => states.includes(s)) || null;
}
