/** Bad arguments or unreadable input: one line on stderr, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export const HELP = `camflow: Grad-CAM explanations for image classifiers

Usage:
  camflow explain <input...> --model <model.onnx|dir> [--card <model.json>] [--layer <name>...]
                  [--method gradcam|gradcam++|xgradcam|hirescam|layercam|eigencam|eigengradcam|
                            gradcamelementwise|scorecam|ablationcam|guided-gradcam]
                  [--eigen-smooth] [--aug-smooth] [--layout auto|nchw|nhwc|tokens]
                  [--target predicted|<class>|all|<c,d,...>|top<k>]... [--score output|logit]
                  [--align resize|receptive-field] [--out <dir> [--force]] [--json]
  camflow bench --model <model.onnx> [--batch <B>] [--seconds <S>] [--layer <name>]
                [--method <m>] [--targets <K>] [--eigen-smooth] [--aug-smooth] [--json]
  camflow synth --out <dir> --count <N> --seed <S> [--size 256] [--shortcut <rate>]
                [--artifact marker|band|electrode] [--artifact-rate <rate>]
                [--classes 2|3] [--shortcut-class <k>]
                [--layout files|imagefolder] [--splits train=0.8,val=0.05,test=0.15]
  camflow evaluate --model <dir> --data <synth dir> [--layer <name>] [--method <m>]
                   [--align resize|receptive-field] [--tolerance <px>] [--limit <N>] [--json]
  camflow audit <input...|dir> --model <dir> [--labels <csv>|folder [--classes F=i,...]]
                [--layer <name>] [--method <m>] [--out <dir>] [--json]
  camflow inspect <file...> [--json] [--npy <out.npy>]
  camflow demo [--dir camflow-demo] [--count 400] [--exit]
  camflow serve ingest|worker|results|dicom
  camflow models push <model.onnx> --card <model.json> [--name <n> --version <v>]
  camflow models list [--json]
  camflow runs create s3://<bucket>/<prefix>|<dir> --model <name>@<version> [--manifest <key>]
                      [--labels folder [--classes NORMAL=0,PNEUMONIA=1]] [--to s3://<bucket>/<prefix>]
                      [--layer <name>] [--method <m>] [--target <t>] [--align <a>] [--priority <p>]
                      [--audit|--no-audit] [--watch] [--json]
  camflow upload <dir> s3://<bucket>/<prefix> [--json]
  camflow runs status|results|report <runId>
  camflow runs results <runId> [--status completed|failed] [--flagged|--no-flagged] [--limit N]
  camflow make-model xray --out <model.onnx> [--nf 64] [--size 256] [--seed 1]
  camflow help

Inputs are image files (png, jpg, webp, tiff) preprocessed as the model card says (default:
the seed's Resize(256), CenterCrop(256), Normalize(0.5, 0.5)), or .npy float32 arrays
[N, C, H, W] that are already preprocessed. --align: draw the CAM resized like an image (the
seed) or with each cell on its receptive field's centre (default: the card's align).
--out: one <stem>.json (and for images .overlay.png, .heatmap.png) per input; inputs with the same
name keep their folders below --out; an existing file is replaced only with --force.
--target takes class indices or the card's class names; repeat it for a list. A multi-label
model (several sigmoid outputs) explains each predicted label by default.
--labels folder: each image's label is the nearest folder naming a class (--classes, else the
card's class names, case-insensitively), the folder above it its split (train, val, test): one run
per split. A local <dir> is uploaded first (to --to, default s3://camflow-uploads/<dir name>/),
only what is not there with the same content; the same command again uploads nothing and finds
its runs.
Environment: EXECUTION_PROVIDER (cpu|cuda|webgpu), CAMFLOW_INTRA_OP_THREADS; for runs:
CAMFLOW_INGEST_URL, CAMFLOW_RESULTS_URL, CAMFLOW_TOKEN.
`;
