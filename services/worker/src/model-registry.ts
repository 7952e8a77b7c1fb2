/**
 * Models from the model bucket, by `name@version`: downloaded once, cached on local disk (a
 * pushed version is immutable, so the cache never goes stale), loaded once into the runtime.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { modelKeys, PermanentError, parseModelRef } from '@camflow/contracts';
import type { EngineOptions } from '@camflow/engine';
import { type ModelCard, parseCard } from '@camflow/imaging';
import type { ObjectStore } from '@camflow/storage';
import type { ModelRuntime } from './engine-host.js';
import { toJobError } from './job-errors.js';
import type { BatchExplainer } from './micro-batcher.js';

/** A model ready to explain images. */
export interface LoadedModel {
  /** `name@version` */
  ref: string;
  card: ModelCard;
  explainer: BatchExplainer;
}

export interface ModelRegistryOptions {
  store: ObjectStore;
  /** CAMFLOW_MODEL_BUCKET */
  bucket: string;
  runtime: ModelRuntime;
  engineOptions?: EngineOptions;
  /** Local cache; default `<os tmpdir>/camflow-models`. */
  directory?: string;
  /** Largest model file accepted (default 2 GiB). */
  maxModelBytes?: number;
}

/** Fetches, caches and loads models; concurrent requests for one model share one load. */
export class ModelRegistry {
  private readonly loading = new Map<string, Promise<LoadedModel>>();
  readonly directory: string;

  constructor(private readonly options: ModelRegistryOptions) {
    this.directory = options.directory ?? join(tmpdir(), 'camflow-models');
  }

  /** The model `name@version`; PermanentError('unknown-model') when the bucket lacks it. */
  get(ref: string): Promise<LoadedModel> {
    let found = this.loading.get(ref);
    if (!found) {
      found = this.load(ref);
      // A failed load (S3 down, unknown model) is not remembered: the next job asks again.
      found.catch(() => this.loading.delete(ref));
      this.loading.set(ref, found);
    }
    return found;
  }

  private async load(ref: string): Promise<LoadedModel> {
    let name: string;
    let version: string;
    try {
      ({ name, version } = parseModelRef(ref));
    } catch {
      throw new PermanentError('unknown-model', `"${ref}" is not a model reference (name@version)`);
    }
    const { onnx, cardJson } = await this.files(name, version);
    let card: ModelCard;
    try {
      card = parseCard(cardJson);
    } catch (err) {
      throw new PermanentError('invalid-card', `model ${ref}: ${(err as Error).message}`);
    }
    const explainer = await this.options.runtime.load(ref, onnx, this.options.engineOptions ?? {});
    return { ref, card, explainer };
  }

  /** The model's two files, from the disk cache or else the bucket (then cached). */
  private async files(name: string, version: string) {
    const dir = join(this.directory, `${name}@${version}`);
    const cached = await Promise.all([
      readFile(join(dir, 'model.onnx')),
      readFile(join(dir, 'model.json'), 'utf8'),
    ]).catch(() => undefined);
    if (cached) return { onnx: new Uint8Array(cached[0]), cardJson: cached[1] };

    const keys = modelKeys({ name, version });
    const { bucket, store } = this.options;
    const fetch = (key: string) =>
      store.get(bucket, key, { maxBytes: this.options.maxModelBytes ?? 2 ** 31 }).catch((err) => {
        const e = toJobError(err);
        if (e.reason === 'not-found') {
          throw new PermanentError(
            'unknown-model',
            `model ${name}@${version} is not in the model bucket (${key} is missing)`,
          );
        }
        throw e;
      });
    const [onnx, card] = await Promise.all([fetch(keys.onnx), fetch(keys.card)]);
    const cardJson = Buffer.from(card.body).toString('utf8');
    await this.cache(dir, onnx.body, cardJson);
    return { onnx: onnx.body, cardJson };
  }

  // Written to a temporary folder then renamed, so a crash or a concurrent worker process never
  // leaves a half-written model that a later start would trust.
  private async cache(dir: string, onnx: Uint8Array, cardJson: string): Promise<void> {
    const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
    try {
      await mkdir(tmp, { recursive: true });
      await writeFile(join(tmp, 'model.onnx'), onnx);
      await writeFile(join(tmp, 'model.json'), cardJson);
      await rename(tmp, dir);
    } catch {
      // Another process won the rename, or the disk is read-only: the model still loads from memory.
      await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    }
  }
}
