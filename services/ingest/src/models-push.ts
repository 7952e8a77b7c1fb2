import { readFile } from 'node:fs/promises';
import type { Config } from '@camflow/config';
import { modelKeys, parseModelRef } from '@camflow/contracts';
import { checkCardAgainstModel, type ModelCard, ModelCardError, parseCard } from '@camflow/imaging';
import { decodeModel, GraphIndex, resolveLayer } from '@camflow/onnx';
import type { ObjectStore } from '@camflow/storage';

/** Files and address of a model push. */
export interface PushModelOptions {
  onnxPath: string;
  cardPath: string;
  /** Default: the card's name and version. */
  name?: string;
  version?: string;
  /**
   * When the push names the model differently from its card: false (the default) stores the
   * card under the pushed name and version (and says so in `renamed`); true refuses.
   */
  strictName?: boolean;
}

/** Where a pushed model went. */
export interface PushedModel {
  bucket: string;
  onnxKey: string;
  cardKey: string;
  bytes: number;
  card: ModelCard;
  /** `name@version` as stored. */
  ref: string;
  /** Set when the card's own name@version was replaced by the pushed one. */
  renamed?: { from: string; to: string };
}

/** The push names the model differently from its card (and `strictName` was asked). */
export class ModelNameMismatchError extends Error {
  constructor(card: string, pushed: string) {
    super(
      `the card names the model ${card} but the push says ${pushed}: make them agree, or leave --name and --version out to push it as ${card}`,
    );
    this.name = 'ModelNameMismatchError';
  }
}

/**
 * `camflow models push`: validates the card (parseCard), that the ONNX file decodes, that the
 * card fits the model (input channels, size and layout, classes, activation: `checkCardAgainstModel`)
 * and that the card's layer exists in it, then uploads both to `modelKeys` in the model bucket.
 * The ONNX goes first and the card last: ingest treats the card as the "model exists" marker,
 * so a half-done push is never visible. The stored card's name and version are its address.
 */
export async function pushModel(
  store: ObjectStore,
  config: Pick<Config, 'CAMFLOW_MODEL_BUCKET'>,
  opts: PushModelOptions,
): Promise<PushedModel> {
  const [onnx, cardText] = await Promise.all([
    readFile(opts.onnxPath),
    readFile(opts.cardPath, 'utf8'),
  ]);
  let raw: unknown;
  try {
    raw = JSON.parse(cardText);
  } catch (err) {
    throw new ModelCardError(`${opts.cardPath}: not JSON: ${(err as Error).message}`);
  }
  const own = parseCard(raw);
  const ref = parseModelRef(`${opts.name ?? own.name}@${opts.version ?? own.version}`);
  const from = `${own.name}@${own.version}`;
  const to = `${ref.name}@${ref.version}`;
  if (from !== to && opts.strictName) throw new ModelNameMismatchError(from, to);
  const stored = { ...(raw as object), name: ref.name, version: ref.version };
  const card = parseCard(stored);
  const graph = decodeModel(onnx).graph!;
  checkCardAgainstModel(card, graph, `${opts.cardPath} does not fit ${opts.onnxPath}`);
  if (card.layer) resolveLayer(new GraphIndex(graph), card.layer);

  const bucket = config.CAMFLOW_MODEL_BUCKET;
  const keys = modelKeys(ref);
  await store.ensureBucket(bucket);
  await store.put(bucket, keys.onnx, onnx, 'application/octet-stream');
  await store.put(bucket, keys.card, `${JSON.stringify(stored, null, 2)}\n`, 'application/json');
  return {
    bucket,
    onnxKey: keys.onnx,
    cardKey: keys.card,
    bytes: onnx.byteLength,
    card,
    ref: to,
    ...(from !== to && { renamed: { from, to } }),
  };
}
