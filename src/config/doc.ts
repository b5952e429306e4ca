/** docs/config.md's settings table, generated from the schema (`edgereward config schema --markdown`). */
import { leaves } from './load.js';

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function schemaMarkdown(): string {
  const rows = leaves().map((l) => `| \`${l.key}\` | \`${cell(JSON.stringify(l.default))}\` | \`${l.env}\` | ${cell(l.doc)} |`);
  return ['| setting | default | environment | meaning |', '| --- | --- | --- | --- |', ...rows, ''].join('\n');
}
