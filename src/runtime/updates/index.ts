/**
 * Fleet updates for the daemon, in two calls:
 *
 *   const host = await startModelHost(cfg);            // instead of loading model.bundle
 *   const models = host;                                // the loop's ModelSource
 *   host.setInputs(latest);                             // what the shadow canary reads
 *   const updates = startUpdates({ cfg, link, host, streams });   // after the link exists
 *   ...
 *   await updates?.stop(); await host.close();
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EdgeConfig } from '../../config/schema.js';
import { EdgeError } from '../../errors.js';
import type { MqttLink } from '../../io/mqtt/MqttLink.js';
import { loadTrustStore, type TrustStore } from '../bundle/keys.js';
import { ModelHost, type ScorerFactory } from '../host.js';
import { ModelStore } from '../store/ModelStore.js';
import { UpdateAgent } from './agent.js';

export { UpdateAgent, type UpdateAgentOptions } from './agent.js';
export * from './protocol.js';
export { ChunkAssembler, downloadMqtt, downloadHttp, type DownloadStats } from './download.js';
export { checkAnnouncement, verifyDownloaded, verifyRevocation } from './verify.js';

function trustOf(cfg: EdgeConfig): TrustStore {
  if (cfg.model.trust.length === 0) {
    throw new EdgeError('E_MODEL_TRUST', 'model.trust is empty, so no model signature can be checked; list the trusted public keys (directories or .pub files)');
  }
  return loadTrustStore(cfg.model.trust);
}

/**
 * Open the model store (model.dir), count this boot, and load the active model (else the
 * last-known-good; model.bundle is adopted into the store when it is not there yet).
 */
export async function startModelHost(cfg: EdgeConfig, o: { createScorer?: ScorerFactory; trust?: TrustStore } = {}): Promise<ModelHost> {
  // "" (the embedded demo): a fresh store for this process, removed at exit, so a demo always
  // starts on its configured bundle and parallel demos never share a store.
  let dir = cfg.model.dir;
  if (!dir) {
    const tmp = mkdtempSync(join(tmpdir(), `edgereward-models-${cfg.device.id}-`));
    process.once('exit', () => rmSync(tmp, { recursive: true, force: true }));
    dir = tmp;
  }
  const store = ModelStore.open(dir);
  const u = cfg.updates;
  const host = new ModelHost({
    store,
    trust: o.trust ?? trustOf(cfg),
    engine: { intraOpThreads: cfg.engine.intraOpThreads, graphOptimization: cfg.engine.graphOptimization, executionProviders: cfg.engine.executionProviders, warmupRuns: cfg.engine.warmupRuns },
    ...(o.createScorer ? { createScorer: o.createScorer } : {}),
    deadlineMs: cfg.loop.deadlineMs,
    ...(u.canary.budgetMs > 0 ? { budgetMs: u.canary.budgetMs } : {}),
    canaryTicks: u.canary.ticks,
    canaryTimeoutMs: u.canary.timeoutMs,
    agreement: u.canary.agreement,
    probationTicks: u.probation.ticks,
    maxMisses: u.probation.maxMisses,
    maxBoots: u.maxBoots,
    keep: u.keep,
  });
  const m = await host.boot(cfg.model.bundle || undefined);
  if (!m) {
    throw new EdgeError('E_MODEL_NONE', `no model to run: the store ${dir} holds no usable model and model.bundle is not set; set model.bundle to a bundle file (or publish one to fleet "${u.fleet}")`);
  }
  return host;
}

/** Follow the fleet's announcements (undefined when updates are off or no fleet is set). */
export function startUpdates(o: { cfg: EdgeConfig; link: MqttLink; host: ModelHost; streams?: ReadonlySet<string>; trust?: TrustStore; onActiveChange?: (id: string | null) => void }): UpdateAgent | undefined {
  const u = o.cfg.updates;
  if (!u.enabled || !u.fleet) return undefined;
  return new UpdateAgent({
    link: o.link,
    host: o.host,
    trust: o.trust ?? trustOf(o.cfg),
    prefix: o.cfg.mqtt.prefix,
    fleet: u.fleet,
    device: o.cfg.device.id,
    tags: u.tags,
    ...(o.streams ? { streams: o.streams } : {}),
    maxBundleBytes: u.maxBundleBytes,
    chunkTimeoutMs: u.chunkTimeoutMs,
    timeoutMs: u.timeoutMs,
    ...(o.onActiveChange ? { onActiveChange: o.onActiveChange } : {}),
  }).start();
}
