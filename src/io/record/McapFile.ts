/**
 * One MCAP file as bytes, built with @mcap/core's own record and chunk builders: a pure byte
 * producer (no I/O, no clock), so the recorder decides when bytes hit the disk.
 *
 * Why not `McapWriter`: in @mcap/core 2.2.2 it closes a chunk only when the chunk outgrows
 * `chunkSize` (`#finalizeChunk` is private), so on a quiet robot the last minutes would sit
 * in memory. Issue 9 wants at most a few seconds lost on a power cut, so `cutChunk()` closes the
 * chunk on demand (the recorder calls it every `flushMs`). The record layout is the same as
 * McapWriter's: magic, header, [chunk, message indexes]*, data end, summary (schemas,
 * channels, statistics, chunk indexes), summary offsets, footer, magic — so the indexed reader
 * (Foxglove Studio) seeks by the summary, and a file cut short still reads sequentially up to
 * its last complete chunk (a chunk carries the schema and channel records it needs first).
 *
 * Chunks are stored uncompressed: MCAP readers (Foxglove Studio included) accept only lz4 and
 * zstd, and neither is available on Node 20 without a native or wasm dependency (node:zlib
 * gets zstd in Node 22.15).
 */
import { crc32 } from 'node:zlib';
import { McapChunkBuilder, McapRecordBuilder, McapConstants } from '@mcap/core';
import type { McapTypes } from '@mcap/core';

const { Opcode } = McapConstants;

export interface McapFileOptions {
  /** Header profile; "" for JSON-only files (the MCAP spec's well-known profiles are ros1/ros2). */
  profile?: string;
  library?: string;
}

interface ChannelInfo {
  topic: string;
  schemaId: number;
  /** 0 = no schema */
  encoding: string;
  metadata?: Record<string, string>;
}

export class McapFile {
  private readonly rec = new McapRecordBuilder();
  private readonly chunk = new McapChunkBuilder({ useMessageIndex: true });
  private readonly schemas = new Map<number, McapTypes.Schema>();
  private readonly channels = new Map<number, McapTypes.Channel>();
  /** Schemas/channels already written in this file (into some chunk). */
  private readonly written = new Set<string>();
  private readonly chunkIndexes: McapTypes.ChunkIndex[] = [];
  private readonly stats: McapTypes.Statistics = {
    messageCount: 0n,
    schemaCount: 0,
    channelCount: 0,
    attachmentCount: 0,
    metadataCount: 0,
    chunkCount: 0,
    messageStartTime: 0n,
    messageEndTime: 0n,
    channelMessageCounts: new Map(),
  };
  private pos = 0n;
  private dataCrc = 0;
  private started = false;
  private ended = false;

  constructor(private readonly o: McapFileOptions = {}) {}

  /** Bytes emitted so far (start + chunks). */
  get position(): bigint {
    return this.pos;
  }
  /** Uncompressed bytes waiting in the open chunk. */
  get pendingBytes(): number {
    return this.chunk.byteLength;
  }
  get pendingMessages(): number {
    return this.chunk.numMessages;
  }
  get messageCount(): bigint {
    return this.stats.messageCount;
  }

  /** Magic + header: the first bytes of the file. */
  start(): Uint8Array {
    if (this.started) throw new Error('McapFile.start() called twice');
    this.started = true;
    this.rec.writeMagic();
    this.rec.writeHeader({ profile: this.o.profile ?? '', library: this.o.library ?? 'edgereward' });
    return this.emit(true);
  }

  addSchema(name: string, encoding: string, data: Uint8Array): number {
    const id = this.schemas.size + 1; // 0 means "no schema"
    this.schemas.set(id, { id, name, encoding, data });
    this.stats.schemaCount++;
    return id;
  }

  addChannel(c: ChannelInfo): number {
    const id = this.channels.size;
    this.channels.set(id, { id, schemaId: c.schemaId, topic: c.topic, messageEncoding: c.encoding, metadata: new Map(Object.entries(c.metadata ?? {})) });
    this.stats.channelCount++;
    return id;
  }

  /** Times in ns since the epoch. */
  add(channelId: number, logTime: bigint, publishTime: bigint, data: Uint8Array, sequence = 0): void {
    const ch = this.channels.get(channelId);
    if (!ch) throw new Error(`McapFile.add: unknown channel ${channelId}`);
    // Schema and channel go into the chunk that first uses them, so every chunk prefix of the
    // file is self-describing for a sequential reader.
    if (ch.schemaId !== 0 && !this.written.has(`s${ch.schemaId}`)) {
      this.chunk.addSchema(this.schemas.get(ch.schemaId)!);
      this.written.add(`s${ch.schemaId}`);
    }
    if (!this.written.has(`c${channelId}`)) {
      this.chunk.addChannel(ch);
      this.written.add(`c${channelId}`);
    }
    this.chunk.addMessage({ channelId, sequence, logTime, publishTime, data });
    const s = this.stats;
    if (s.messageCount === 0n || logTime < s.messageStartTime) s.messageStartTime = logTime;
    if (s.messageCount === 0n || logTime > s.messageEndTime) s.messageEndTime = logTime;
    s.messageCount++;
    s.channelMessageCounts.set(channelId, (s.channelMessageCounts.get(channelId) ?? 0n) + 1n);
  }

  /** Close the open chunk: the chunk record and its message indexes (undefined when empty). */
  cutChunk(): Uint8Array | undefined {
    if (this.chunk.numMessages === 0) return undefined;
    const data = this.chunk.buffer;
    const chunkStartOffset = this.pos;
    const chunkLength = this.rec.writeChunk({
      messageStartTime: this.chunk.messageStartTime,
      messageEndTime: this.chunk.messageEndTime,
      uncompressedSize: BigInt(data.byteLength),
      uncompressedCrc: crc32(data),
      compression: '',
      records: data,
    });
    const indexStart = chunkStartOffset + chunkLength;
    const offsets = new Map<number, bigint>();
    let indexLength = 0n;
    for (const mi of this.chunk.indices) {
      if (mi.records.length === 0) continue;
      offsets.set(mi.channelId, indexStart + indexLength);
      indexLength += this.rec.writeMessageIndex(mi);
    }
    this.chunkIndexes.push({
      messageStartTime: this.chunk.messageStartTime,
      messageEndTime: this.chunk.messageEndTime,
      chunkStartOffset,
      chunkLength,
      messageIndexOffsets: offsets,
      messageIndexLength: indexLength,
      compression: '',
      compressedSize: BigInt(data.byteLength),
      uncompressedSize: BigInt(data.byteLength),
    });
    this.stats.chunkCount++;
    this.chunk.reset();
    return this.emit(true);
  }

  /** The rest of the file: last chunk, data end, summary, footer, magic. */
  finish(): Uint8Array {
    if (this.ended) throw new Error('McapFile.finish() called twice');
    this.ended = true;
    const last = this.cutChunk();
    this.rec.writeDataEnd({ dataSectionCrc: this.dataCrc >>> 0 });
    const dataEnd = this.emit(false);
    const summaryStart = this.pos;
    const offsets: McapTypes.SummaryOffset[] = [];
    const group = (opcode: number, write: () => bigint): void => {
      const start = this.pos + BigInt(this.rec.length);
      const len = write();
      if (len > 0n) offsets.push({ groupOpcode: opcode, groupStart: start, groupLength: len });
    };
    group(Opcode.SCHEMA, () => [...this.schemas.values()].reduce((n, s) => n + this.rec.writeSchema(s), 0n));
    group(Opcode.CHANNEL, () => [...this.channels.values()].reduce((n, c) => n + this.rec.writeChannel(c), 0n));
    group(Opcode.STATISTICS, () => this.rec.writeStatistics(this.stats));
    group(Opcode.CHUNK_INDEX, () => this.chunkIndexes.reduce((n, c) => n + this.rec.writeChunkIndex(c), 0n));
    const summaryOffsetStart = this.pos + BigInt(this.rec.length);
    for (const so of offsets) this.rec.writeSummaryOffset(so);
    const summary = this.rec.buffer.slice();
    this.rec.reset();
    // The footer CRC covers the summary and the footer's fields before the CRC itself.
    const footerHead = new DataView(new ArrayBuffer(1 + 8 + 8 + 8));
    footerHead.setUint8(0, Opcode.FOOTER);
    footerHead.setBigUint64(1, 20n, true);
    footerHead.setBigUint64(9, summaryStart, true);
    footerHead.setBigUint64(17, summaryOffsetStart, true);
    const summaryCrc = crc32(new Uint8Array(footerHead.buffer), crc32(summary));
    this.rec.writeFooter({ summaryStart, summaryOffsetStart, summaryCrc });
    this.rec.writeMagic();
    const tail = this.rec.buffer.slice();
    this.rec.reset();
    const parts = [last, dataEnd, summary, tail].filter((p): p is Uint8Array => p !== undefined);
    const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.byteLength;
    }
    this.pos += BigInt(summary.byteLength + tail.byteLength);
    return out;
  }

  /** Take the builder's bytes (a copy: the builder reuses its buffer) and advance. */
  private emit(data: boolean): Uint8Array {
    const b = this.rec.buffer.slice();
    this.rec.reset();
    // The data section CRC covers magic, header and chunks; not the data end record itself.
    if (data) this.dataCrc = crc32(b, this.dataCrc);
    this.pos += BigInt(b.byteLength);
    return b;
  }
}
