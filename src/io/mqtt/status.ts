/**
 * Birth and death of the device's retained `status` topic, in the spirit of Sparkplug B
 * (NBIRTH/NDEATH with a bdSeq): every connection gets a `session` number; the birth
 * (`state: "online"`) and the last will (`state: "offline"`) of one connection carry the same
 * number, so a consumer can ignore a late death that belongs to an older session.
 * Both are retained, so a dashboard that subscribes later still sees the current state.
 */
export interface StatusPayload {
  state: 'online' | 'offline';
  device: string;
  session: number;
  /** unix ms */
  t: number;
  [extra: string]: unknown;
}

export function birthPayload(device: string, session: number, extra: Record<string, unknown>, now: number): Buffer {
  const p: StatusPayload = { ...extra, state: 'online', device, session, t: now };
  return Buffer.from(JSON.stringify(p));
}

export function deathPayload(device: string, session: number, now: number): Buffer {
  const p: StatusPayload = { state: 'offline', device, session, t: now };
  return Buffer.from(JSON.stringify(p));
}
