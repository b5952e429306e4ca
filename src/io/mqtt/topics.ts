/**
 * Topic names of the MQTT contract (DESIGN.md) and MQTT topic-filter matching.
 */
export interface TopicScope {
  prefix: string;
  device: string;
}

export const sensorTopic = (s: TopicScope, stream: string): string => `${s.prefix}/${s.device}/sensors/${stream}`;
export const deviceTopic = (s: TopicScope, leaf: string): string => `${s.prefix}/${s.device}/${leaf}`;
export const statusTopic = (s: TopicScope): string => deviceTopic(s, 'status');
export const actionTopic = (s: TopicScope): string => deviceTopic(s, 'action');

/** A stream or device name must be one topic level without wildcards. */
export function isTopicLevel(name: string): boolean {
  return name.length > 0 && name.length <= 128 && !/[/+#\u0000]/.test(name);
}

/**
 * Does `topic` match `filter` (`+` one level, `#` the rest) — [MQTT-4.7.1]. Topics starting
 * with `$` do not match a filter starting with a wildcard [MQTT-4.7.2-1].
 */
export function topicMatches(filter: string, topic: string): boolean {
  if (filter === topic) return true;
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    const p = f[i]!;
    if (p === '#') return true;
    if (i >= t.length) return false;
    if (p !== '+' && p !== t[i]) return false;
  }
  return f.length === t.length;
}
