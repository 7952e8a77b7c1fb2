import { type ModelCard, outputKind, parseCard } from '@camflow/imaging';
import type { ObjectStore } from '@camflow/storage';

/** A pushed model as `camflow models list` and `GET /v1/models` show it. */
export interface ModelSummary {
  /** `name@version`: what runs name. */
  model: string;
  name: string;
  version: string;
  description?: string;
  kind: 'binary' | 'multi-class' | 'multi-label';
  activation: ModelCard['output']['activation'];
  classes: string[];
  input: { size: [number, number]; channels: number; layout: string; resize: string };
  layer?: string;
  method?: string;
  /** Size of the ONNX file in bytes, when listed. */
  bytes?: number;
  /** Set instead of the fields above when the stored card cannot be read. */
  error?: string;
}

/** Most models listed (a model bucket holds a handful to hundreds). */
const MAX_MODELS = 1000;

/**
 * The models in the model bucket: every `models/<name>/<version>/model.json` (the card, written
 * last by a push) with its ONNX file's size, sorted by name then version.
 */
export async function listModels(store: ObjectStore, bucket: string): Promise<ModelSummary[]> {
  const cards: string[] = [];
  const sizes = new Map<string, number>();
  let token: string | undefined;
  do {
    const page = await store.list(bucket, 'models/', token, 1000);
    for (const o of page.objects) {
      const m = /^models\/([^/]+)\/([^/]+)\/(model\.json|model\.onnx)$/.exec(o.key);
      if (!m) continue;
      if (m[3] === 'model.json') cards.push(o.key);
      else sizes.set(`${m[1]}@${m[2]}`, o.size ?? 0);
    }
    token = page.next;
  } while (token && cards.length < MAX_MODELS);
  const out = await Promise.all(
    cards.slice(0, MAX_MODELS).map(async (key): Promise<ModelSummary> => {
      const [, name, version] = key.split('/') as [string, string, string];
      const model = `${name}@${version}`;
      const bytes = sizes.get(model);
      try {
        const { body } = await store.get(bucket, key, { maxBytes: 1024 * 1024 });
        const card = parseCard(new TextDecoder().decode(body));
        return {
          model,
          name,
          version,
          ...(card.description && { description: card.description }),
          kind: outputKind(card),
          activation: card.output.activation,
          classes: card.output.classes,
          input: {
            size: card.input.size,
            channels: card.input.channels,
            layout: card.input.layout,
            resize: card.input.resize,
          },
          ...(card.layer && { layer: card.layer }),
          ...(card.method && { method: card.method }),
          ...(bytes !== undefined && { bytes }),
        };
      } catch (err) {
        return {
          model,
          name,
          version,
          kind: 'multi-class',
          activation: 'logits',
          classes: [],
          input: { size: [0, 0], channels: 0, layout: '', resize: '' },
          error: (err as Error).message.split('\n')[0],
        };
      }
    }),
  );
  return out.sort((a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version));
}
