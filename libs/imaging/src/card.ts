/**
 * The model card: `model.json` next to `model.onnx`, saying how images become the model's input
 * tensor and what its output means. Documented field by field in libs/imaging/README.md.
 */
import { CAM_ALIGNMENTS, CAM_METHODS, type CamAlignment, type CamMethod } from '@camflow/contracts';
import { z } from 'zod';

/**
 * Methods the engine implements, and how a CAM is laid over the image (the names are the
 * contracts'): `resize` scales the map like an image (the seed, every common Grad-CAM tool);
 * `receptive-field` centres each cell on its receptive field as the graph gives it (see
 * `CellGrid`), so the heat lands where the layer looks; it falls back to `resize` where the graph
 * does not say (an op that resamples space on the way to the layer).
 */
export { CAM_ALIGNMENTS, CAM_METHODS, type CamAlignment, type CamMethod };

const positiveInt = z.number().int().positive();
const perChannel = z.union([z.number(), z.array(z.number()).min(1)]);

/**
 * Limits on the model input a card may ask for: every image becomes a float tensor of this size
 * (and the worker batches them), so a mistyped 100000 would allocate 10^10 floats per job. A side
 * is at most 8192 pixels and a tensor at most 64 Mi values (256 MiB of float32).
 */
export const MAX_INPUT_SIDE = 8192;
export const MAX_INPUT_VALUES = 64 * 1024 * 1024;
const side = positiveInt.max(MAX_INPUT_SIDE, `at most ${MAX_INPUT_SIDE} pixels`);

const inputSchema = z
  .object({
    size: z.union([side, z.tuple([side, side])]),
    channels: z.union([z.literal(1), z.literal(3)]).default(3),
    colorSpace: z.enum(['rgb', 'bgr', 'grayscale']).optional(),
    layout: z.enum(['NCHW', 'NHWC']).default('NCHW'),
    resize: z
      .enum(['shorter-side-center-crop', 'stretch', 'letterbox'])
      .default('shorter-side-center-crop'),
    resizeTo: side.optional(),
    interpolation: z.enum(['bilinear', 'bicubic', 'nearest']).default('bilinear'),
    scale: z
      .number()
      .positive()
      .default(1 / 255),
    mean: perChannel.default(0),
    std: perChannel.default(1),
    pad: z.number().min(0).max(255).default(0),
  })
  .strict()
  .refine(
    (i) => {
      const [h, w] = typeof i.size === 'number' ? [i.size, i.size] : i.size;
      return h * w * (i.channels ?? 3) <= MAX_INPUT_VALUES;
    },
    {
      message: `the input tensor may hold at most ${MAX_INPUT_VALUES} values (channels x height x width)`,
      path: ['size'],
    },
  );

const probability = z.number().min(0).max(1);

/**
 * What the outputs mean (see predictions.ts): `binary` (one output: yes/no), `multi-class`
 * (exactly one class per image: the argmax), `multi-label` (any set of labels: each output over
 * its threshold). Left out: multi-label for several sigmoid outputs, multi-class otherwise.
 * `thresholds` (multi-label, and a binary model's one output): a probability per label, as one
 * number, a list in class order or `{"<class>": t}` (the rest 0.5); logits are compared after a
 * sigmoid.
 */
const outputSchema = z
  .object({
    activation: z.enum(['sigmoid', 'softmax', 'logits']),
    classes: z.array(z.string().min(1)).min(1),
    type: z.enum(['binary', 'multi-class', 'multi-label']).optional(),
    thresholds: z
      .union([probability, z.array(probability).min(1), z.record(probability)])
      .optional(),
  })
  .strict();

const maxSide = z.union([positiveInt, z.literal('source')]);

/**
 * How the pipeline draws this model's outputs; anything left out takes the worker's defaults
 * (services/worker/src/outputs.ts): `overlay.format` png, jpeg or webp, `overlay.quality`
 * (JPEG/WebP), and the longest side of the overlay and of the 16-bit heatmap in pixels, or
 * `'source'` for the image's own resolution.
 */
const renderSchema = z
  .object({
    overlay: z
      .object({
        format: z.enum(['png', 'jpeg', 'webp']).optional(),
        quality: z.number().int().min(1).max(100).optional(),
        maxSide: maxSide.optional(),
      })
      .strict()
      .optional(),
    heatmap: z.object({ maxSide: maxSide.optional() }).strict().optional(),
  })
  .strict();

/** A card's output drawing settings, as written (see `renderSchema`). */
export type CardRender = z.infer<typeof renderSchema>;

/**
 * Which axes of the layer's tensor are channels and which are space (the engine's `layout`):
 * `auto` reads them from the graph; `nchw`, `nhwc` and `tokens` ([N, T, C]) assert them.
 */
export const CAM_LAYOUTS = ['auto', 'nchw', 'nhwc', 'tokens'] as const;
export type CamLayout = (typeof CAM_LAYOUTS)[number];

/**
 * Classes explained per image: every class, a list (indices or class names), the k
 * highest-scoring, or `predicted` (a multi-label model's predicted set; the argmax otherwise).
 */
const targetsSchema = z.union([
  z.literal('all'),
  z.literal('predicted'),
  z.array(z.union([z.number().int().min(0), z.string().min(1)])).min(1),
  z.object({ top: positiveInt }).strict(),
]);
export type CardTargets = z.infer<typeof targetsSchema>;

/** The zod schema of `model.json` as written (before defaults are resolved). */
export const modelCardSchema = z
  .object({
    name: z.string().min(1),
    version: z.string().min(1),
    description: z.string().optional(),
    input: inputSchema,
    output: outputSchema,
    layer: z.string().min(1).optional(),
    method: z.enum(CAM_METHODS).optional(),
    align: z.enum(CAM_ALIGNMENTS).default('resize'),
    layout: z.enum(CAM_LAYOUTS).optional(),
    targets: targetsSchema.optional(),
    render: renderSchema.optional(),
    // Free-form notes (training data, accuracy); never read by the code.
    metadata: z.record(z.unknown()).optional(),
  })
  .strict();

/** A `model.json` as a user writes it: optional fields may be left out. */
export type ModelCardInput = z.input<typeof modelCardSchema>;

export type ResizeMode = 'shorter-side-center-crop' | 'stretch' | 'letterbox';
export type Interpolation = 'bilinear' | 'bicubic' | 'nearest';

/** A validated card with every default resolved, as the rest of the library consumes it. */
export interface ModelCard {
  name: string;
  version: string;
  description?: string;
  input: {
    /** Tensor height and width. */
    size: [number, number];
    channels: 1 | 3;
    colorSpace: 'rgb' | 'bgr' | 'grayscale';
    layout: 'NCHW' | 'NHWC';
    resize: ResizeMode;
    /** Shorter-side target of `shorter-side-center-crop` (torchvision `Resize(resizeTo)`). */
    resizeTo: number;
    interpolation: Interpolation;
    /** Multiplies the 8-bit pixel value first (1/255 = torchvision `ToTensor`). */
    scale: number;
    /** Per-channel, then `(x - mean) / std`; one entry per channel. */
    mean: number[];
    std: number[];
    /** Letterbox padding value, on the 0..255 pixel scale (before scale/mean/std). */
    pad: number;
  };
  output: {
    activation: 'sigmoid' | 'softmax' | 'logits';
    classes: string[];
    /** As written; `outputKind(card)` resolves the default. */
    type?: 'binary' | 'multi-class' | 'multi-label';
    /** As written; `labelThresholds(card)` gives one per output. */
    thresholds?: number | number[] | Record<string, number>;
  };
  layer?: string;
  method?: CamMethod;
  align: CamAlignment;
  /** How the layer's axes are read (left out: `auto`). */
  layout?: CamLayout;
  /** Classes explained per image (left out: the predicted one). */
  targets?: CardTargets;
  /** How the pipeline draws the outputs (left out: the worker's defaults). */
  render?: CardRender;
  metadata?: Record<string, unknown>;
}

/** Raised when a model card is not valid JSON or breaks the schema; lists every problem. */
export class ModelCardError extends Error {
  readonly permanent = true;
  constructor(
    message: string,
    readonly issues: string[] = [],
  ) {
    super(message);
    this.name = 'ModelCardError';
  }
}

/**
 * Validates a model card (a parsed JSON value, or the JSON text itself) and resolves defaults.
 * Throws `ModelCardError` whose message names each offending field, e.g.
 * `invalid model card: input.mean: 2 values for 3 channels`.
 */
export function parseCard(json: unknown): ModelCard {
  let value = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json);
    } catch (err) {
      throw new ModelCardError(`invalid model card: not JSON (${(err as Error).message})`);
    }
  }
  const parsed = modelCardSchema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.map(
      (issue) => `${issue.path.length ? issue.path.join('.') : '(card)'}: ${issue.message}`,
    );
    throw new ModelCardError(`invalid model card: ${issues.join('; ')}`, issues);
  }
  const card = parsed.data;
  const { input } = card;
  const issues: string[] = [];
  const size: [number, number] =
    typeof input.size === 'number' ? [input.size, input.size] : input.size;
  const colorSpace = input.colorSpace ?? (input.channels === 1 ? 'grayscale' : 'rgb');
  if (input.channels === 1 && colorSpace !== 'grayscale') {
    issues.push(`input.colorSpace: '${colorSpace}' needs 3 channels, the card says 1`);
  }
  const mean = expandPerChannel(input.mean, input.channels, 'input.mean', issues);
  const std = expandPerChannel(input.std, input.channels, 'input.std', issues);
  if (std.some((s) => s === 0)) issues.push('input.std: must not contain 0');
  if (input.resizeTo !== undefined && input.resize !== 'shorter-side-center-crop') {
    issues.push(`input.resizeTo: only applies to resize 'shorter-side-center-crop'`);
  }
  // Resizing the shorter side to max(h, w) is the smallest size a centre crop of h x w fits in.
  const resizeTo = input.resizeTo ?? Math.max(size[0], size[1]);
  if (input.resize === 'shorter-side-center-crop' && resizeTo < Math.max(size[0], size[1])) {
    issues.push(
      `input.resizeTo: ${resizeTo} is smaller than the crop ${size[0]}x${size[1]}; ` +
        `use at least ${Math.max(size[0], size[1])}`,
    );
  }
  if (card.output.activation === 'softmax' && card.output.classes.length < 2) {
    issues.push('output.classes: softmax needs at least 2 classes');
  }
  issues.push(...outputIssues(card.output));
  if (Array.isArray(card.targets)) {
    for (const t of card.targets) {
      if (typeof t === 'string' && !card.output.classes.includes(t))
        issues.push(`targets: "${t}" is not one of output.classes`);
      if (typeof t === 'number' && t >= card.output.classes.length)
        issues.push(
          `targets: ${t} is not a class index (the card names ${card.output.classes.length})`,
        );
    }
  }
  if (issues.length) throw new ModelCardError(`invalid model card: ${issues.join('; ')}`, issues);
  return {
    ...card,
    input: {
      size,
      channels: input.channels,
      colorSpace,
      layout: input.layout,
      resize: input.resize,
      resizeTo,
      interpolation: input.interpolation,
      scale: input.scale,
      mean,
      std,
      pad: input.pad,
    },
  };
}

/** What the output's type, thresholds and class names say against each other. */
function outputIssues(o: z.infer<typeof outputSchema>): string[] {
  const issues: string[] = [];
  const n = o.classes.length;
  if (o.type === 'multi-label' && o.activation === 'softmax') {
    issues.push(
      "output.type: 'multi-label' needs independent outputs (sigmoid or logits), not a softmax",
    );
  }
  if (o.type === 'binary' && n !== 1) {
    issues.push(`output.type: 'binary' is one output, the card names ${n} classes`);
  }
  if (o.type === 'multi-class' && n < 2)
    issues.push("output.type: 'multi-class' needs 2 classes or more");
  const seen = new Set<string>();
  for (const c of o.classes) {
    if (seen.has(c)) issues.push(`output.classes: "${c}" appears twice`);
    seen.add(c);
  }
  const t = o.thresholds;
  if (Array.isArray(t) && t.length !== n) {
    issues.push(`output.thresholds: ${t.length} values for ${n} classes`);
  }
  if (t !== undefined && typeof t === 'object' && !Array.isArray(t)) {
    for (const name of Object.keys(t)) {
      if (!seen.has(name)) issues.push(`output.thresholds: "${name}" is not one of output.classes`);
    }
  }
  if (
    t !== undefined &&
    (o.type === 'multi-class' || (o.type === undefined && n > 1 && o.activation !== 'sigmoid'))
  ) {
    issues.push('output.thresholds: only a multi-label or binary output has thresholds');
  }
  return issues;
}

function expandPerChannel(
  value: number | number[],
  channels: number,
  field: string,
  issues: string[],
): number[] {
  if (typeof value === 'number') return Array.from({ length: channels }, () => value);
  if (value.length === 1) return Array.from({ length: channels }, () => value[0]);
  if (value.length !== channels) {
    issues.push(`${field}: ${value.length} values for ${channels} channels`);
  }
  return [...value];
}

/**
 * The seed model's card (the tutorial's `XRayClassifier`): `Resize(256)`, `CenterCrop(256)`,
 * `ToTensor()`, `Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))`, one sigmoid output, hooked on
 * the last ResNet block.
 */
export const seedCardJson = {
  name: 'xray-classifier',
  version: '1.0.0',
  description: 'Chest X-ray pneumonia classifier from the Grad-CAM hooks tutorial',
  input: {
    size: 256,
    channels: 3,
    colorSpace: 'rgb',
    layout: 'NCHW',
    resize: 'shorter-side-center-crop',
    resizeTo: 256,
    interpolation: 'bilinear',
    scale: 1 / 255,
    mean: [0.5, 0.5, 0.5],
    std: [0.5, 0.5, 0.5],
  },
  output: { activation: 'sigmoid', classes: ['pneumonia'] },
  layer: 'resnet_blocks.4',
  method: 'gradcam',
} satisfies ModelCardInput;

/** The seed card, validated and resolved. */
export const seedCard: ModelCard = parseCard(seedCardJson);
