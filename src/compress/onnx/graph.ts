/**
 * Walk and edit ONNX graphs in place: who produces and who consumes each value, which
 * values are constants (initializers, Constant nodes, Identity of a constant — PyTorch
 * shares tied weights through Identity nodes), topological order, node replacement,
 * renaming and dead-initializer removal. Plain functions over the protobufjs objects.
 */
import { EdgeError } from '../../errors.js';
import type { IGraphProto, IModelProto, INodeProto, ITensorProto, IAttributeProto } from './proto.js';
import { toNumber } from './proto.js';

export interface GraphIndex {
  /** value name -> the node that writes it (graph inputs and initializers have none). */
  producer: Map<string, INodeProto>;
  /** value name -> nodes that read it, in node order (a node reading a value twice appears once). */
  consumers: Map<string, INodeProto[]>;
  initializers: Map<string, ITensorProto>;
  graphInputs: Set<string>;
  graphOutputs: Set<string>;
}

export function indexGraph(g: IGraphProto): GraphIndex {
  const producer = new Map<string, INodeProto>();
  const consumers = new Map<string, INodeProto[]>();
  for (const n of g.node ?? []) {
    for (const o of n.output ?? []) if (o) producer.set(o, n);
    for (const i of new Set(n.input ?? [])) {
      if (!i) continue;
      const list = consumers.get(i);
      if (list) list.push(n);
      else consumers.set(i, [n]);
    }
  }
  const initializers = new Map<string, ITensorProto>();
  for (const t of g.initializer ?? []) initializers.set(t.name ?? '', t);
  return {
    producer,
    consumers,
    initializers,
    graphInputs: new Set((g.input ?? []).map((v) => v.name ?? '')),
    graphOutputs: new Set((g.output ?? []).map((v) => v.name ?? '')),
  };
}

export function attr(n: INodeProto, name: string): IAttributeProto | undefined {
  return (n.attribute ?? []).find((a) => a.name === name);
}

export function attrInt(n: INodeProto, name: string, dflt: number): number {
  const a = attr(n, name);
  return a ? toNumber(a.i) : dflt;
}

export function attrFloat(n: INodeProto, name: string, dflt: number): number {
  const a = attr(n, name);
  return a ? (a.f ?? dflt) : dflt;
}

export function attrInts(n: INodeProto, name: string): number[] | undefined {
  const a = attr(n, name);
  return a ? (a.ints ?? []).map((v) => toNumber(v)) : undefined;
}

/**
 * The constant tensor behind a value, if it is one: an initializer (not overridable by a graph
 * input), a Constant node's `value`, or an Identity chain ending in either.
 */
export function constantOf(idx: GraphIndex, name: string): ITensorProto | undefined {
  for (let depth = 0; depth < 16; depth++) {
    const init = idx.initializers.get(name);
    if (init) return idx.graphInputs.has(name) ? undefined : init;
    const p = idx.producer.get(name);
    if (!p) return undefined;
    if (p.opType === 'Identity' && (p.domain ?? '') === '') {
      name = p.input?.[0] ?? '';
      continue;
    }
    if (p.opType === 'Constant' && (p.domain ?? '') === '') {
      const v = attr(p, 'value');
      return v?.t ?? undefined;
    }
    return undefined;
  }
  return undefined;
}

/** Nodes in an order where every node comes after the producers of its inputs (Kahn). */
export function topoOrder(g: IGraphProto): INodeProto[] {
  const nodes = g.node ?? [];
  const idx = indexGraph(g);
  const pending = new Map<INodeProto, number>();
  const ready: INodeProto[] = [];
  for (const n of nodes) {
    const deps = new Set((n.input ?? []).filter((i) => i && idx.producer.has(i)).map((i) => idx.producer.get(i)!));
    deps.delete(n);
    pending.set(n, deps.size);
    if (deps.size === 0) ready.push(n);
  }
  const out: INodeProto[] = [];
  while (ready.length) {
    const n = ready.shift()!;
    out.push(n);
    const seen = new Set<INodeProto>();
    for (const o of n.output ?? []) {
      for (const c of idx.consumers.get(o) ?? []) {
        if (seen.has(c) || c === n) continue;
        seen.add(c);
        const left = (pending.get(c) ?? 0) - 1;
        pending.set(c, left);
        if (left === 0) ready.push(c);
      }
    }
  }
  if (out.length !== nodes.length) throw new EdgeError('E_ONNX_CYCLE', `the graph has a cycle among ${nodes.length - out.length} nodes; it cannot be rewritten safely`);
  return out;
}

/** Sort the graph's nodes topologically (ONNX requires it; our rewrites may append nodes). */
export function sortGraph(g: IGraphProto): void {
  g.node = topoOrder(g);
}

/** A name not yet used by any value, initializer or node in the graph. */
export function uniqueNamer(g: IGraphProto): (base: string) => string {
  const used = new Set<string>();
  for (const n of g.node ?? []) {
    if (n.name) used.add(n.name);
    for (const v of [...(n.input ?? []), ...(n.output ?? [])]) used.add(v);
  }
  for (const t of g.initializer ?? []) used.add(t.name ?? '');
  for (const v of [...(g.input ?? []), ...(g.output ?? []), ...(g.valueInfo ?? [])]) used.add(v.name ?? '');
  return (base: string) => {
    let name = base;
    for (let i = 1; used.has(name); i++) name = `${base}_${i}`;
    used.add(name);
    return name;
  };
}

/** Replace one node by a sequence of nodes at its position (the order stays topological). */
export function replaceNode(g: IGraphProto, old: INodeProto, replacement: INodeProto[]): void {
  const nodes = g.node ?? [];
  const i = nodes.indexOf(old);
  if (i < 0) throw new EdgeError('E_ONNX_NODE', `node "${old.name ?? old.opType}" is not in the graph`);
  nodes.splice(i, 1, ...replacement);
  g.node = nodes;
}

/** Rename a value everywhere it is read (node inputs and graph outputs). */
export function renameUses(g: IGraphProto, from: string, to: string): void {
  for (const n of g.node ?? []) {
    const ins = n.input ?? [];
    for (let k = 0; k < ins.length; k++) if (ins[k] === from) ins[k] = to;
  }
  for (const o of g.output ?? []) if (o.name === from) o.name = to;
}

/** Remove nodes whose outputs nobody reads (repeatedly), then unread initializers. Returns counts. */
export function removeDead(g: IGraphProto): { nodes: number; initializers: number } {
  let removedNodes = 0;
  for (;;) {
    const idx = indexGraph(g);
    const before = (g.node ?? []).length;
    g.node = (g.node ?? []).filter((n) => (n.output ?? []).some((o) => o && (idx.consumers.has(o) || idx.graphOutputs.has(o))));
    const removed = before - g.node.length;
    removedNodes += removed;
    if (removed === 0) break;
  }
  const idx = indexGraph(g);
  const before = (g.initializer ?? []).length;
  g.initializer = (g.initializer ?? []).filter((t) => idx.consumers.has(t.name ?? '') || idx.graphOutputs.has(t.name ?? ''));
  const live = new Set((g.initializer ?? []).map((t) => t.name ?? ''));
  // value_info and sparse initializers for removed tensors would be stale.
  g.valueInfo = (g.valueInfo ?? []).filter((v) => idx.consumers.has(v.name ?? '') || idx.producer.has(v.name ?? '') || live.has(v.name ?? ''));
  return { nodes: removedNodes, initializers: before - g.initializer.length };
}

/** The opset version imported for a domain ('' = ai.onnx), or 0. */
export function opsetVersion(m: IModelProto, domain = ''): number {
  const o = (m.opsetImport ?? []).find((x) => (x.domain ?? '') === domain || (domain === '' && x.domain === 'ai.onnx'));
  return o ? toNumber(o.version) : 0;
}

/** Import a domain at least at `version`. */
export function ensureOpset(m: IModelProto, domain: string, version: number): void {
  const imports = m.opsetImport ?? (m.opsetImport = []);
  const o = imports.find((x) => (x.domain ?? '') === domain);
  if (!o) imports.push({ domain, version });
  else if (toNumber(o.version) < version) o.version = version;
}

/** Add an initializer (replacing one of the same name). */
export function setInitializer(g: IGraphProto, t: ITensorProto): void {
  const list = g.initializer ?? (g.initializer = []);
  const i = list.findIndex((x) => x.name === t.name);
  if (i >= 0) list[i] = t;
  else list.push(t);
}

/** Node label used in reports and `--exclude`: its name, or op type and first output. */
export function nodeLabel(n: INodeProto): string {
  return n.name && n.name.length ? n.name : `${n.opType}(${n.output?.[0] ?? '?'})`;
}

/** Float attribute / int attribute builders (protobufjs wants the type set). */
export function intAttr(name: string, i: number): IAttributeProto {
  return { name, type: 2, i };
}
export function floatAttr(name: string, f: number): IAttributeProto {
  return { name, type: 1, f };
}
export function intsAttr(name: string, ints: number[]): IAttributeProto {
  return { name, type: 7, ints };
}
