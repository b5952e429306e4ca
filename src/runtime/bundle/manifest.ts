/**
 * The bundle manifest: what a device needs to know to trust, load and feed a model.
 * The feature map and action space travel with the model, so a hot-swapped model may
 * read different features without a daemon update.
 */
import { compile, assertValid } from '../../validate.js';

export const MANIFEST_FORMAT = 1;

export interface FileEntry {
  /** Name inside the bundle, e.g. `model.onnx`. */
  name: string;
  /** `model` for the ONNX graph the engine loads; anything else is an extra. */
  role: string;
  sha256: string;
  size: number;
}

export interface TensorSpec {
  name: string;
  dtype: string;
  /** Dimensions; a string names a dynamic axis (`batch`). */
  shape: Array<number | string>;
}

/** One observation column: `clip((fn(stream.field[index]) - offset) * scale)`. */
export interface ObservationColumn {
  stream: string;
  field: string;
  index?: number;
  /** Expand an array field into `count` consecutive columns starting at `index` (default 0). */
  count?: number;
  scale?: number;
  offset?: number;
  clip?: [number, number];
  fn?: 'identity' | 'cos' | 'sin' | 'abs' | 'log1p';
}

/** One action column: `clip((action[name] - offset) * scale)`. */
export interface ActionColumn {
  action: string;
  scale?: number;
  offset?: number;
  clip?: [number, number];
}

export type FeatureColumn = ObservationColumn | ActionColumn;

/** How one model input is filled: one row per candidate, columns in order. */
export interface InputFeatures {
  input: string;
  /** `candidate` rows repeat per candidate; `shared` inputs are the same for all candidates. */
  per: 'candidate' | 'shared';
  columns: FeatureColumn[];
}

export interface GridDim {
  name: string;
  min: number;
  max: number;
  steps: number;
}

export type ActionSpace =
  | { type: 'grid'; dims: GridDim[] }
  | { type: 'discrete'; names: string[]; actions: Array<Record<string, number>> };

export interface OutputSpec {
  /** Output tensor that holds one reward per candidate. */
  name: string;
  meaning: string;
}

export interface Manifest {
  format: number;
  name: string;
  version: string;
  created?: string;
  description?: string;
  min_runtime: string;
  files: FileEntry[];
  model: { inputs: TensorSpec[]; outputs: TensorSpec[] };
  features: InputFeatures[];
  actions: ActionSpace;
  output: OutputSpec;
  /** Teacher, compression steps and their settings, fidelity figures. Free-form but JSON. */
  provenance?: Record<string, unknown>;
}

/** The signed envelope stored in a bundle: manifest + who signed it. */
export interface Signature {
  alg: 'ed25519';
  /** First 16 hex chars of sha256(raw public key): names the key in errors and key stores. */
  key_id: string;
  /** base64 signature over `canonicalJson(manifest)`. */
  sig: string;
}

const num = { type: 'number' };
const clip = { type: 'array', items: num, minItems: 2, maxItems: 2 };
const tensorSpec = {
  type: 'object',
  required: ['name', 'dtype', 'shape'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1 },
    dtype: { type: 'string' },
    shape: { type: 'array', items: { type: ['number', 'string'] } },
  },
};
const observationColumn = {
  type: 'object',
  required: ['stream', 'field'],
  additionalProperties: false,
  properties: {
    stream: { type: 'string', minLength: 1 },
    field: { type: 'string', minLength: 1 },
    index: { type: 'integer', minimum: 0 },
    count: { type: 'integer', minimum: 1, maximum: 65536 },
    scale: num,
    offset: num,
    clip,
    fn: { enum: ['identity', 'cos', 'sin', 'abs', 'log1p'] },
  },
};
const actionColumn = {
  type: 'object',
  required: ['action'],
  additionalProperties: false,
  properties: { action: { type: 'string', minLength: 1 }, scale: num, offset: num, clip },
};

export const manifestSchema = {
  $id: 'edgereward/manifest',
  type: 'object',
  required: ['format', 'name', 'version', 'min_runtime', 'files', 'model', 'features', 'actions', 'output'],
  additionalProperties: false,
  properties: {
    format: { const: MANIFEST_FORMAT },
    name: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{0,63}$' },
    version: { type: 'string', pattern: '^\\d+\\.\\d+\\.\\d+([-+][0-9A-Za-z.-]+)?$' },
    created: { type: 'string' },
    description: { type: 'string' },
    min_runtime: { type: 'string', pattern: '^\\d+\\.\\d+\\.\\d+' },
    files: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['name', 'role', 'sha256', 'size'],
        additionalProperties: false,
        properties: {
          name: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,128}$' },
          role: { type: 'string', minLength: 1 },
          sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
          size: { type: 'integer', minimum: 0 },
        },
      },
    },
    model: {
      type: 'object',
      required: ['inputs', 'outputs'],
      additionalProperties: false,
      properties: {
        inputs: { type: 'array', minItems: 1, items: tensorSpec },
        outputs: { type: 'array', minItems: 1, items: tensorSpec },
      },
    },
    features: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['input', 'per', 'columns'],
        additionalProperties: false,
        properties: {
          input: { type: 'string', minLength: 1 },
          per: { enum: ['candidate', 'shared'] },
          columns: { type: 'array', minItems: 1, items: { anyOf: [observationColumn, actionColumn] } },
        },
      },
    },
    actions: {
      anyOf: [
        {
          type: 'object',
          required: ['type', 'dims'],
          additionalProperties: false,
          properties: {
            type: { const: 'grid' },
            dims: {
              type: 'array',
              minItems: 1,
              items: {
                type: 'object',
                required: ['name', 'min', 'max', 'steps'],
                additionalProperties: false,
                properties: {
                  name: { type: 'string', minLength: 1 },
                  min: num,
                  max: num,
                  steps: { type: 'integer', minimum: 1, maximum: 4096 },
                },
              },
            },
          },
        },
        {
          type: 'object',
          required: ['type', 'names', 'actions'],
          additionalProperties: false,
          properties: {
            type: { const: 'discrete' },
            names: { type: 'array', minItems: 1, items: { type: 'string' } },
            actions: { type: 'array', minItems: 1, items: { type: 'object', additionalProperties: num } },
          },
        },
      ],
    },
    output: {
      type: 'object',
      required: ['name', 'meaning'],
      additionalProperties: false,
      properties: { name: { type: 'string' }, meaning: { type: 'string' } },
    },
    provenance: { type: 'object' },
  },
} as const;

const validateManifest = compile<Manifest>(manifestSchema as unknown as Record<string, unknown>);

/** Validate untrusted JSON as a manifest, or throw `E_BUNDLE_MANIFEST`. */
export function parseManifest(value: unknown, what = 'manifest'): Manifest {
  return assertValid(validateManifest, value, 'E_BUNDLE_MANIFEST', what);
}

export function modelId(m: Pick<Manifest, 'name' | 'version'>): string {
  return `${m.name}@${m.version}`;
}
