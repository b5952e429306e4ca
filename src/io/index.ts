/**
 * src/io — the outside world as observables. Import from here (or the files directly).
 */
export * from './messages/sensor.js';
export { account, accountDrop, UNKNOWN_STREAM_LABEL, type Source } from './messages/accounting.js';
export { MqttLink, type MqttLinkOptions, type LinkState, type QoS, type RawMessage, type PublishOptions, type PublishResult, type StreamOptions, type MqttLinkEvents } from './mqtt/MqttLink.js';
export { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './mqtt/backoff.js';
export { OfflineQueue, DEFAULT_OFFLINE_QUEUE, type OfflineQueueOptions, type QueuedMessage, type DropReason } from './mqtt/OfflineQueue.js';
export { sensorTopic, deviceTopic, statusTopic, actionTopic, topicMatches, isTopicLevel, type TopicScope } from './mqtt/topics.js';
export { birthPayload, deathPayload, type StatusPayload } from './mqtt/status.js';
export { SerialLink, type SerialLinkOptions, type SerialCodecOptions, type SerialState, type SerialLinkEvents } from './serial/SerialLink.js';
export { LatestWriter, type WriteResult } from './serial/LatestWriter.js';
export { crc16 } from './serial/crc16.js';
export { encodeFrame, decodeFrameBody, frameSchema, type FrameField, type FrameStream, type FrameSchema } from './serial/codecs/frame.js';
export { decodeJsonLine, encodeJsonLine } from './serial/codecs/jsonl.js';
export { decodeCsvLine, checkCsvOptions, type CsvOptions } from './serial/codecs/csv.js';
export { LineParser, type LineParserOptions } from './serial/parsers/LineParser.js';
export { FrameParser, type FrameParserOptions, type FrameDropReason } from './serial/parsers/FrameParser.js';
export type { ActionMessage, ActionSink } from './sinks/ActionSink.js';
export { encodeAction, fanOut } from './sinks/ActionSink.js';
export type { DecisionDetail, DecisionTap } from './sinks/DecisionTap.js';
export { MqttActionSink, type MqttActionSinkOptions } from './sinks/MqttActionSink.js';
export { SerialActionSink } from './sinks/SerialActionSink.js';
