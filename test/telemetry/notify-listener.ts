/**
 * A unix datagram socket that records sd_notify messages, for tests. Node cannot bind
 * SOCK_DGRAM unix sockets, so a tiny python3 listener does (python3 is on the CI machine);
 * it prints each datagram as one JSON string line.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { tmpDir } from '../helpers/tmp.js';

const SCRIPT = `
import socket, sys, json, os
p = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(p)
print(json.dumps("LISTENING"), flush=True)
while True:
    data = s.recv(65536)
    print(json.dumps(data.decode("utf-8", "replace")), flush=True)
`;

export interface NotifyListener {
  path: string;
  /** Every datagram so far, in order. */
  messages: string[];
  /** Resolves with the first datagram (index >= from) that satisfies `pred`. */
  waitFor(pred: (m: string) => boolean, from?: number): Promise<{ message: string; index: number }>;
}

export async function notifyListener(t: { teardown(fn: () => unknown): void }): Promise<NotifyListener> {
  const dir = tmpDir(t, 'edgereward-notify-');
  const path = join(dir, 'notify.sock');
  const py = spawn('python3', ['-c', SCRIPT, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => py.kill('SIGKILL'));
  const messages: string[] = [];
  const waiters: Array<() => void> = [];
  let listening!: () => void;
  const ready = new Promise<void>((r) => (listening = r));
  createInterface({ input: py.stdout }).on('line', (line) => {
    const m = JSON.parse(line) as string;
    if (m === 'LISTENING') return listening();
    messages.push(m);
    for (const w of waiters.splice(0)) w();
  });
  await ready;
  if (!existsSync(path)) throw new Error('the python notify listener did not bind its socket');
  return {
    path,
    messages,
    async waitFor(pred, from = 0) {
      for (;;) {
        const i = messages.findIndex((m, k) => k >= from && pred(m));
        if (i >= 0) return { message: messages[i]!, index: i };
        await new Promise<void>((r) => waiters.push(r));
      }
    },
  };
}
