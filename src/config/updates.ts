/**
 * Config keys of fleet updates (`updates.*`), kept in their own file and mounted into the
 * schema by one line in schema.ts. The store directory and trusted keys are `model.dir`
 * and `model.trust`.
 */
export interface UpdatesConfig {
  enabled: boolean;
  fleet: string;
  tags: string[];
  keep: number;
  maxBundleBytes: number;
  chunkTimeoutMs: number;
  timeoutMs: number;
  maxBoots: number;
  canary: { ticks: number; timeoutMs: number; budgetMs: number; agreement: number };
  probation: { ticks: number; maxMisses: number };
}

function need(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}
const int = (min: number, max: number) => (v: unknown): void => need(typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max, `must be a whole number from ${min} to ${max}`);
const num = (min: number, max: number) => (v: unknown): void => need(typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max, `must be a number from ${min} to ${max}`);

export const updatesSchema = {
  enabled: { doc: 'Take signed model updates from the fleet (needs MQTT, model.trust and updates.fleet)', format: Boolean, default: true },
  fleet: { doc: 'Fleet name: the device follows <prefix>/fleet/<fleet>/models/+ ("" = no fleet updates)', format: (v: unknown) => need(typeof v === 'string' && !/[/+#]/.test(v), 'must be one MQTT topic level (or "")'), default: '' },
  tags: { doc: 'Tags of this device for rollout selectors (fleet publish --tags)', format: (v: unknown) => need(Array.isArray(v) && v.every((x) => typeof x === 'string'), 'must be a list of strings'), default: [] as string[] },
  keep: { doc: 'Stored model versions kept in model.dir (the active and last-known-good always are)', format: int(2, 100), default: 3 },
  maxBundleBytes: { doc: 'Largest bundle accepted (bytes); bigger announcements are refused before download', format: int(1024, 2 ** 31 - 1), default: 16 * 1024 * 1024 },
  chunkTimeoutMs: { doc: 'Ask again for the missing chunks after this long without a new one (ms)', format: int(100, 600_000), default: 3000 },
  timeoutMs: { doc: 'Give up a download after this long (ms); it is retried later', format: int(1000, 86_400_000), default: 120_000 },
  maxBoots: { doc: 'Daemon starts with a new, unconfirmed model before rolling back to the last-known-good (crash loop)', format: int(1, 100), default: 3 },
  canary: {
    ticks: { doc: 'Live ticks scored by both the active and the new model before the new one may take over', format: int(1, 100_000), default: 50 },
    timeoutMs: { doc: 'Refuse a new model that could not be compared on enough ticks within this long (ms)', format: int(100, 3_600_000), default: 30_000 },
    budgetMs: { doc: 'The new model\'s p99 scoring time must fit this (ms; 0 = half of loop.deadlineMs)', format: num(0, 10_000), default: 0 },
    agreement: { doc: 'Minimum share of ticks (0-1) where the new model picks the active model\'s action (0 = not checked)', format: num(0, 1), default: 0 },
  },
  probation: {
    ticks: { doc: 'Ticks after activation during which non-finite outputs or deadline misses roll back at once', format: int(1, 10_000_000), default: 250 },
    maxMisses: { doc: 'Deadline misses tolerated during probation', format: int(0, 100_000), default: 3 },
  },
};
