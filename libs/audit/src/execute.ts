/**
 * Runs one image's audit work: each occluded variant and each faithfulness input is a forward
 * pass (no gradients), batched through `predict`, which returns the class probabilities of each
 * input in the audit's class space.
 */
import type { PixelBox } from './candidates.js';
import { camInFrame } from './compact-cam.js';
import { curves, type FaithfulnessCurves, faithfulnessInputs } from './faithfulness.js';
import { occlude } from './occlusion.js';
import type { ImageTask } from './plan.js';
import { predictedOf } from './probabilities.js';
import type { ImageTensor } from './tensor.js';

export type Predict = (inputs: Float32Array[]) => Promise<number[][]>;

/** What one image's work measured: the class's probability per box, and its curves. */
export interface ImageResult {
  id: string;
  boxProbs: number[];
  /** Per box: whether the class is still the prediction. */
  boxKept: boolean[];
  faithfulness?: FaithfulnessCurves;
}

/** Runs the task on the image's tensor, `batch` inputs per `predict` call. */
export async function executeImageTask(
  task: Pick<ImageTask, 'id' | 'class' | 'prob' | 'boxes' | 'faithfulness'>,
  tensor: ImageTensor,
  predict: Predict,
  batch = 8,
): Promise<ImageResult> {
  const inputs: (() => Float32Array)[] = task.boxes.map((b: PixelBox) => () => occlude(tensor, b));
  const f = task.faithfulness
    ? faithfulnessInputs(tensor, camInFrame(task.faithfulness.cam, 1).full, task.faithfulness.seed)
    : undefined;
  if (f) for (let i = 0; i < f.count; i++) inputs.push(() => f.input(i));
  const probs: number[] = [];
  const kept: boolean[] = [];
  for (let i = 0; i < inputs.length; i += batch) {
    const out = await predict(inputs.slice(i, i + batch).map((make) => make()));
    for (const p of out) {
      probs.push(p[task.class] ?? Number.NaN);
      kept.push(predictedOf(p) === task.class);
    }
  }
  const n = task.boxes.length;
  const result: ImageResult = {
    id: task.id,
    boxProbs: probs.slice(0, n),
    boxKept: kept.slice(0, n),
  };
  if (f) result.faithfulness = curves(task.prob, probs.slice(task.boxes.length));
  return result;
}
