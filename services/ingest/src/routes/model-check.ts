import { parseModelRef, type TargetsRequest, type TargetsSpec } from '@camflow/contracts';
import { classIndex, ModelCardError } from '@camflow/imaging';
import { OnnxFormatError, UnknownLayerError } from '@camflow/onnx';
import { HttpError } from '../http-error.js';
import type { ModelCatalog } from '../models.js';

/**
 * Checks a request's model, layer and targets before anything is queued: 404 for a model that
 * was never pushed, 400 with close matches for a layer the model does not have, 422 when the
 * stored ONNX file or card cannot be read (put in the bucket by hand, not by `camflow models
 * push`), 400 for a target the card does not name. Returns `targets` with names as indices.
 */
export async function checkModel(
  models: ModelCatalog,
  request: {
    model: string;
    layer?: string;
    target?: 'predicted' | number;
    targets?: TargetsRequest;
  },
): Promise<TargetsSpec | undefined> {
  const { model, layer, target, targets } = request;
  const ref = parseModelRef(model);
  if (!(await models.exists(ref))) {
    throw new HttpError(
      404,
      'unknown_model',
      `unknown model ${model}: push it with camflow models push --name ${ref.name} --version ${ref.version}`,
    );
  }
  // The graph first: a file that is not ONNX says so before anything is said about its card.
  if (layer !== undefined) {
    try {
      await models.resolveLayer(ref, layer);
    } catch (err) {
      if (err instanceof UnknownLayerError) {
        throw new HttpError(400, 'unknown_layer', `${model}: ${err.message}`, {
          layer,
          suggestions: err.suggestions,
        });
      }
      if (err instanceof OnnxFormatError) {
        throw new HttpError(422, 'invalid_model', `${model}: ${err.message}; push it again`);
      }
      throw err;
    }
  }
  // A card stored by hand or before a limit existed: refused here rather than in every job.
  let card: Awaited<ReturnType<ModelCatalog['card']>>;
  try {
    card = await models.card(ref);
  } catch (err) {
    if (err instanceof ModelCardError) {
      throw new HttpError(
        422,
        'invalid_model',
        `${model}: ${err.message}; push it again with a valid card`,
      );
    }
    throw err;
  }
  // The card names every model output (checked at push): a target past them could never run.
  const outputs = card.output.classes;
  const notAnOutput = (t: string | number) =>
    new HttpError(
      400,
      'invalid_target',
      `target ${typeof t === 'string' ? JSON.stringify(t) : t} is not an output of ${model} (${outputs.length} output${outputs.length === 1 ? '' : 's'}: ${outputs.join(', ')})`,
    );
  if (typeof target === 'number' && target >= outputs.length) throw notAnOutput(target);
  if (!Array.isArray(targets)) return targets;
  // Class names become indices here, once: jobs and their ids carry indices only.
  return targets.map((t) => {
    const i = classIndex(card, t);
    if (i === undefined) throw notAnOutput(t);
    return i;
  });
}
