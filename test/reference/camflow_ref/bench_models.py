"""Export the benchmark models that are too big to commit (run from test/reference):

    python3 -m camflow_ref.bench_models densenet121 --out /tmp/densenet121-14.onnx
    python3 -m camflow_ref.bench_models resnet18 --out /tmp/resnet18.onnx

``resnet18``: torchvision's ResNet-18 (1000 classes, 224x224, seeded random weights): the
architecture TorchCAM's published latencies are for, for ``camflow bench --method <m>``.

``densenet121``: a DenseNet-121 (growth 32, blocks (6, 12, 24, 16)) with a 1-channel stem and
14 sigmoid outputs at 224x224, like torchxrayvision's chest X-ray models, with seeded random
weights (``models.randomize``), opset 13, dynamic batch. ``camflow bench --targets 14`` times
14 maps per image against one on it.
"""

from __future__ import annotations

import argparse

import torch

from . import export, models


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("model", choices=["densenet121", "resnet18"])
    ap.add_argument("--out", required=True)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--classes", type=int, default=14)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    torch.manual_seed(args.seed)
    if args.model == "resnet18":
        import torchvision

        model = models.randomize(torchvision.models.resnet18(num_classes=1000), args.seed)
        export.export_onnx(model, torch.randn(1, 3, args.size, args.size), args.out, 13)
    else:
        model = models.randomize(models.densenet121_multilabel(args.classes, channels=1), args.seed)
        export.export_onnx(model, torch.randn(1, 1, args.size, args.size), args.out, 13)
    print(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
