/**
 * Start an HTTP server on host:port (0 = a free port) and resolve with the port it got.
 * A listen error (port taken, address not local) rejects; later errors are logged, never thrown:
 * a telemetry server must not take the daemon down.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describeError } from '../errors.js';
import type { Logger } from './log.js';

export async function listenHttp(server: Server, port: number, host: string, log: Logger, what: string): Promise<number> {
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (e) => log.error({ err: describeError(e) }, `${what} error`));
  return (server.address() as AddressInfo).port;
}
