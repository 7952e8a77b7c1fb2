import { type ModelRef, modelKeys } from '@camflow/contracts';
import { type ModelCard, parseCard } from '@camflow/imaging';
import { decodeModel, GraphIndex, type LayerRef, resolveLayer } from '@camflow/onnx';
import type { ObjectStore } from '@camflow/storage';

/** Largest ONNX file ingest will parse to check a layer name. */
const MAX_MODEL_BYTES = 1024 * 1024 * 1024;

/**
 * Answers "does this model exist" and "does it have this layer" from the model bucket. Pushed
 * versions are immutable, so what is found is cached by name@version: existence forever, parsed
 * graphs in a small LRU (a graph index of a large model is tens of MB).
 */
export class ModelCatalog {
  private readonly known = new Set<string>();
  private readonly graphs = new Map<string, Promise<GraphIndex>>();
  private readonly cards = new Map<string, Promise<ModelCard>>();

  constructor(
    private readonly store: ObjectStore,
    private readonly bucket: string,
    private readonly maxGraphs = 4,
  ) {}

  /** True when the model's card (model.json, uploaded last by a push) is in the model bucket. */
  async exists(ref: ModelRef): Promise<boolean> {
    const id = `${ref.name}@${ref.version}`;
    if (this.known.has(id)) return true;
    const found = (await this.store.head(this.bucket, modelKeys(ref).card)) !== undefined;
    if (found) this.known.add(id);
    return found;
  }

  /**
   * The model's card, parsed (and cached: pushed versions are immutable); throws ModelCardError
   * for a card that is no longer valid (stored before a limit existed, or put there by hand).
   */
  card(ref: ModelRef): Promise<ModelCard> {
    const id = `${ref.name}@${ref.version}`;
    let c = this.cards.get(id);
    if (!c) {
      c = this.store
        .get(this.bucket, modelKeys(ref).card, { maxBytes: 1024 * 1024 })
        .then(({ body }) => parseCard(Buffer.from(body).toString('utf8')));
      c.catch(() => this.cards.delete(id));
      this.cards.set(id, c);
    }
    return c;
  }

  /** Resolves `layer` in the model's graph; throws UnknownLayerError with close matches. */
  async resolveLayer(ref: ModelRef, layer: string): Promise<LayerRef> {
    return resolveLayer(await this.graph(ref), layer);
  }

  private graph(ref: ModelRef): Promise<GraphIndex> {
    const id = `${ref.name}@${ref.version}`;
    let g = this.graphs.get(id);
    if (g) {
      // Re-insert: Map order is the LRU order.
      this.graphs.delete(id);
      this.graphs.set(id, g);
      return g;
    }
    g = this.store
      .get(this.bucket, modelKeys(ref).onnx, { maxBytes: MAX_MODEL_BYTES })
      .then(({ body }) => new GraphIndex(decodeModel(body).graph!));
    // A failed load (S3 blip) must not stay cached.
    g.catch(() => this.graphs.delete(id));
    this.graphs.set(id, g);
    while (this.graphs.size > this.maxGraphs) {
      this.graphs.delete(this.graphs.keys().next().value!);
    }
    return g;
  }
}
