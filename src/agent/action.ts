/**
 * The action message and the sink seam are io's (`io/sinks/ActionSink.ts`); re-exported here
 * for the modules that still import them from the agent (telemetry/web/tap.ts).
 */
export type { ActionMessage, ActionSink } from '../io/sinks/ActionSink.js';
export { encodeAction } from '../io/sinks/ActionSink.js';
