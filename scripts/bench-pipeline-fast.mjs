// The pipeline benchmark's "fast engine" cases (issue 11): the reference nf=8 model at 256x256
// stands in for a GPU (its engine costs a few ms per image), so what is left is the worker's own
// work around the engine. Measured: the worker end to end (1024x1024 JPEGs and 2048x2500 16-bit
// DICOM films), the engine alone, and the worker's image path alone (decode, preprocess and
// render through the same ImagePool the worker uses, no S3, no queue, no engine).
import { Engine } from '@camflow/engine';
import { preprocess } from '@camflow/imaging';
import {
  ImagePool,
  MicroBatcher,
  outputSettings,
  processJob,
  renderOptions,
  ThreadedRuntime,
} from '@camflow/worker';

const now = () => performance.now();
const cpuMs = (c) => (c.user + c.system) / 1000;

/**
 * One Grad-CAM per distinct input with the given engine settings (the image path renders real
 * CAMs), plus the engine alone on batches of `batchSize` for `seconds` (CPU ms per image and
 * images/s, in this process).
 */
export async function engineCams({ onnx, card, inputs, batchSize, seconds, layer, provider }) {
  const pre = [];
  for (const bytes of inputs) pre.push(await preprocess(bytes, card));
  const size = pre[0].tensor.length;
  const opts = (n) => ({
    layer,
    method: 'gradcam',
    score: 'output',
    target: Array(n).fill('predicted'),
  });
  const engine = Engine.load(onnx, {
    executionProvider: provider ?? 'cpu',
    maxBatch: batchSize,
    logger: { warn: () => {} },
  });
  try {
    const cams = [];
    for (const p of pre) {
      const r = await engine.explain({ data: p.tensor, dims: [1, ...p.shape] }, opts(1));
      const [, h, w] = r.cams.dims;
      cams.push({ data: r.cams.data.slice(0, h * w), width: w, height: h, grid: r.grid });
    }
    const batch = (k) => {
      const data = new Float32Array(batchSize * size);
      for (let b = 0; b < batchSize; b++)
        data.set(pre[(k * batchSize + b) % pre.length].tensor, b * size);
      return { data, dims: [batchSize, ...pre[0].shape] };
    };
    await engine.explain(batch(0), opts(batchSize));
    const cpu0 = process.cpuUsage();
    const started = now();
    let images = 0;
    for (let k = 1; images < 4 * batchSize || now() - started < seconds * 1000; k++) {
      await engine.explain(batch(k), opts(batchSize));
      images += batchSize;
    }
    const wall = now() - started;
    return {
      cams,
      provider: await engine.provider(),
      engine: {
        images,
        imagesPerSec: (images * 1000) / wall,
        cpuMsPerImage: cpuMs(process.cpuUsage(cpu0)) / images,
      },
    };
  } finally {
    await engine.close();
  }
}

/**
 * The worker's image path alone: `count` images through an ImagePool with the worker's default
 * thread count, `concurrency` in flight (as the worker's job slots would keep them), each
 * prepared (decode + preprocess) then rendered with its CAM as the worker renders it (the card's
 * alignment). Images/s and CPU ms per image of this whole process.
 */
export async function imagePathAlone({ inputs, cams, card, count, concurrency }) {
  const pool = new ImagePool();
  try {
    const one = async (i) => {
      const k = i % inputs.length;
      const p = await pool.prepare(inputs[k].slice(), card, 'bulk');
      const cam = card.align === 'receptive-field' ? cams[k] : { ...cams[k], grid: undefined };
      // As the worker draws it: the card's render settings over the worker's defaults.
      await pool.render(p.image, p.geometry, cam, 'bulk', renderOptions(outputSettings(card)));
    };
    // Warm-up: threads started, code compiled.
    for (let i = 0; i < Math.min(4, inputs.length); i++) await one(i);
    const cpu0 = process.cpuUsage();
    const started = now();
    let next = 0;
    const lane = async () => {
      while (next < count) await one(next++);
    };
    await Promise.all(Array.from({ length: concurrency }, lane));
    const wall = now() - started;
    return {
      images: count,
      threads: pool.size,
      imagesPerSec: (count * 1000) / wall,
      cpuMsPerImage: cpuMs(process.cpuUsage(cpu0)) / count,
    };
  } finally {
    await pool.close();
  }
}

/**
 * The worker's job code end to end in this process, without Redis and S3: `processJob` (the
 * real one) with the worker's ImagePool, MicroBatcher and engine thread (on `provider`), the
 * sources and outputs in memory, `concurrency` jobs in flight. Where no Redis or S3 server can
 * run (the GPU check's machine), this is the pipeline minus the network: images/s, and CPU ms
 * per image of this process.
 */
export async function workerInProcess({
  onnx,
  card,
  inputs,
  count,
  concurrency,
  batchSize,
  provider,
}) {
  const runtime = new ThreadedRuntime();
  const images = new ImagePool();
  const batcher = new MicroBatcher({ batchSize });
  const ref = `${card.name}@${card.version}`;
  const written = { objects: 0, bytes: 0 };
  const store = {
    async get(_bucket, key) {
      const body = inputs[Number(key.split('-')[1]) % inputs.length].slice();
      return { body, info: { key, size: body.byteLength } };
    },
    async put(_bucket, _key, body) {
      written.objects++;
      written.bytes += body.length;
    },
  };
  try {
    const explainer = await runtime.load(ref, onnx, {
      executionProvider: provider ?? 'cpu',
      maxBatch: batchSize,
    });
    const deps = {
      store,
      models: { get: async () => ({ ref, card, explainer }) },
      batcher,
      images,
      publish: async () => {},
      outputBucket: 'out',
      maxObjectBytes: 1 << 30,
      workerId: 'in-process',
    };
    const job = (i) =>
      processJob(
        {
          id: `job${i}`,
          data: {
            runId: 'in-process',
            source: { bucket: 'data', key: `img-${i}` },
            settings: { model: ref, method: 'gradcam', target: 'predicted' },
            submittedAt: Date.now(),
          },
          attempt: 1,
          priority: 'bulk',
        },
        deps,
      );
    for (let i = 0; i < Math.min(batchSize, count); i++) await job(i); // warm-up: compile, threads
    const cpu0 = process.cpuUsage();
    const started = now();
    let next = 0;
    const lane = async () => {
      while (next < count) await job(next++);
    };
    await Promise.all(Array.from({ length: concurrency }, lane));
    const wall = now() - started;
    return {
      images: count,
      imagesPerSec: (count * 1000) / wall,
      cpuMsPerImage: cpuMs(process.cpuUsage(cpu0)) / count,
      outputBytesPerImage: (written.bytes * 3) / written.objects,
    };
  } finally {
    await batcher.close();
    await Promise.all([runtime.close(), images.close()]);
  }
}
