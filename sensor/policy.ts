/**
 * The signed policy decides what leaves the terminal: the field allow-lists of process and
 * socket events, whether executables are hashed, how often to scan, the batch size and the
 * budgets. Command lines and file contents are never read by this sensor, whatever a policy says.
 */
import type { PolicyBody, SensorEvent } from '../src/sensor/protocol.ts';

/**
 * Fields that name an event and that the protocol requires, kept whatever the allow-list says
 * (an end must match its start).
 */
const KEYS: Record<string, readonly string[]> = {
  'process.start': ['type', 'at', 'pid'],
  'process.end': ['type', 'at', 'pid'],
  'socket.open': ['type', 'at', 'proto', 'local', 'remote'],
  'socket.close': ['type', 'at', 'proto', 'local', 'remote'],
};

/** The event with only the fields the policy allows; ioc.match and sensor.status are sent whole. */
export function applyAllowList(event: SensorEvent, policy: PolicyBody): SensorEvent {
  const keys = KEYS[event.type];
  if (!keys) return event;
  const allowed = new Set([
    ...keys,
    ...(event.type.startsWith('process.') ? policy.fields.process : policy.fields.socket),
  ]);
  return Object.fromEntries(Object.entries(event).filter(([field]) => allowed.has(field))) as SensorEvent;
}

/** What is still sent when the day's network budget is spent: matches and the sensor's own health. */
export function isEssential(event: SensorEvent): boolean {
  return event.type === 'ioc.match' || event.type === 'sensor.status';
}
