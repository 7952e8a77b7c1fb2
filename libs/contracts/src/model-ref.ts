import { z } from 'zod';

const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/i;

/** `name@version`, e.g. `xray-clean@1`. */
export const modelRefSchema = z.string().refine((s) => {
  const [n, v, ...rest] = s.split('@');
  return rest.length === 0 && NAME.test(n ?? '') && NAME.test(v ?? '');
}, 'model must be "<name>@<version>" (letters, digits, ".", "_", "-")');

export interface ModelRef {
  name: string;
  version: string;
}

export function parseModelRef(ref: string): ModelRef {
  const s = modelRefSchema.parse(ref);
  const [name, version] = s.split('@') as [string, string];
  return { name, version };
}

/** Where a pushed model lives in the model bucket. */
export function modelKeys(ref: ModelRef): { onnx: string; card: string } {
  const base = `models/${ref.name}/${ref.version}`;
  return { onnx: `${base}/model.onnx`, card: `${base}/model.json` };
}
