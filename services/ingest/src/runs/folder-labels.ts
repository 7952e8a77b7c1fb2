/**
 * A run request's folder labels resolved against the model's card (read from the model bucket),
 * as the run record keeps them: the request's 400 when they cannot work with this model.
 */
import {
  type CreateRunRequest,
  modelKeys,
  parseModelRef,
  type RunRecord,
} from '@camflow/contracts';
import type { IngestDeps } from '../deps.js';
import { HttpError } from '../http-error.js';
import {
  cardClasses,
  FolderClassesError,
  resolveFolderClasses,
} from '../sources/folder-classes.js';

/** The card's JSON (the model exists: checkModel ran first). */
async function readCard(deps: IngestDeps, model: string): Promise<unknown> {
  const { body } = await deps.store.get(deps.modelBucket, modelKeys(parseModelRef(model)).card, {
    maxBytes: 4 * 1024 * 1024,
  });
  try {
    return JSON.parse(Buffer.from(body).toString('utf8'));
  } catch {
    return undefined;
  }
}

export async function recordLabels(
  deps: IngestDeps,
  body: CreateRunRequest,
): Promise<RunRecord['labels']> {
  if (!body.labels) return undefined;
  try {
    const r = resolveFolderClasses(
      body.labels,
      cardClasses(await readCard(deps, body.model)),
      body.model,
    );
    return { from: 'folder', classes: r.classes, hint: r.hint };
  } catch (err) {
    if (err instanceof FolderClassesError) throw new HttpError(400, 'validation', err.message);
    throw err;
  }
}
