"""Fixture models for the golden tests.

* ``XRayClassifier`` is the seed tutorial's chest X-ray classifier, reproduced exactly
  (see /work/shared/reference/seed-method.md) with a width parameter ``nf`` (the tutorial uses
  ``nf=64``; the goldens use ``nf=8`` to stay small).
* ``TinyResNet`` is torchvision's own ``ResNet`` class (``BasicBlock``, ``_make_layer``,
  ``forward``) with narrower widths: torchvision hard-codes 64..512 channels, which for
  ``layers=[1,1,1,1]`` is ~5 M parameters (~20 MB), too big for a committed fixture.
  Module names are torchvision's: conv1, bn1, relu, maxpool, layer1..layer4, avgpool, fc.
* ``mobilenet_v2`` and ``DenseNet`` come straight from torchvision.
* ``SoftmaxHead`` wraps a logits model as ``softmax(net(x))`` so that the export ends in Softmax.

``randomize`` gives every model random weights from a fixed seed, including random BatchNorm
running statistics (so BN folding at export time and BatchNormalization nodes are exercised).
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torchvision.models.resnet import BasicBlock, ResNet


class ResNetBlock(nn.Module):
    """The seed's residual block: relu(bn1(conv1(x))) -> bn2(conv2(.)) + shortcut(x) -> relu.

    ReLUs are functional (``F.relu``) as in the tutorial, so the exported block output is the
    node ``/resnet_blocks/resnet_blocks.<i>/Relu_1``.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
                nn.BatchNorm2d(out_channels),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out = out + self.shortcut(x)
        return F.relu(out)


class XRayClassifier(nn.Module):
    """The seed's classifier: 5 stride-2 ResNet blocks (nf * 2^i channels), then
    Conv2d(16nf, 1, 8) -> Dropout(0.2) -> Sigmoid. Input [B, 3, 256, 256], output [B, 1, 1, 1]."""

    def __init__(self, nf: int = 64):
        super().__init__()
        self.resnet_blocks = nn.Sequential(
            ResNetBlock(3, nf, 2),
            ResNetBlock(nf, 2 * nf, 2),
            ResNetBlock(2 * nf, 4 * nf, 2),
            ResNetBlock(4 * nf, 8 * nf, 2),
            ResNetBlock(8 * nf, 16 * nf, 2),
        )
        self.classifier = nn.Sequential(
            nn.Conv2d(16 * nf, 1, 8, 1, 0, bias=False),
            nn.Dropout(0.2),
            nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.resnet_blocks(x))


class XRayClassifierSoftmax(XRayClassifier):
    """The seed's classifier with a K-class softmax head: the same 5 ResNet blocks, then
    Conv2d(16nf, K, 8) -> Flatten -> Dropout(0.2) -> Softmax(dim=1). Output [B, K] (the seed's
    "predicted" target is the argmax over the last dimension, so the head flattens)."""

    def __init__(self, nf: int = 64, classes: int = 3):
        super().__init__(nf)
        self.classifier = nn.Sequential(
            nn.Conv2d(16 * nf, classes, 8, 1, 0, bias=False),
            nn.Flatten(),
            nn.Dropout(0.2),
            nn.Softmax(dim=1),
        )


class TinyResNet(ResNet):
    """torchvision ResNet (BasicBlock) with base width ``width`` instead of 64.

    Mirrors ``torchvision.models.resnet.ResNet.__init__`` line by line; ``forward`` and
    ``_make_layer`` are torchvision's own.
    """

    def __init__(self, layers=(1, 1, 1, 1), num_classes: int = 5, width: int = 8):
        nn.Module.__init__(self)
        norm_layer = nn.BatchNorm2d
        self._norm_layer = norm_layer
        self.inplanes = width
        self.dilation = 1
        self.groups = 1
        self.base_width = 64  # BasicBlock only supports base_width=64 / groups=1
        self.conv1 = nn.Conv2d(3, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = norm_layer(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(BasicBlock, width, layers[0])
        self.layer2 = self._make_layer(BasicBlock, 2 * width, layers[1], stride=2)
        self.layer3 = self._make_layer(BasicBlock, 4 * width, layers[2], stride=2)
        self.layer4 = self._make_layer(BasicBlock, 8 * width, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(8 * width * BasicBlock.expansion, num_classes)


class SoftmaxHead(nn.Module):
    """``softmax(net(x), dim=-1)``; the layer names become ``net.<...>`` and the final module
    ``softmax`` is where the "logit" score (the Softmax input) is taken."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net
        self.softmax = nn.Softmax(dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.softmax(self.net(x))


def tiny_resnet(num_classes: int = 5, width: int = 8) -> TinyResNet:
    return TinyResNet((1, 1, 1, 1), num_classes=num_classes, width=width)


def small_mobilenet_v2(num_classes: int = 4) -> nn.Module:
    return torchvision.models.mobilenet_v2(width_mult=0.25, num_classes=num_classes)


def small_densenet(num_classes: int = 3) -> nn.Module:
    return torchvision.models.DenseNet(
        growth_rate=8, block_config=(2, 2, 2, 2), num_init_features=16, num_classes=num_classes
    )


@torch.no_grad()
def randomize(model: nn.Module, seed: int) -> nn.Module:
    """Deterministic random weights; BatchNorm gets random affine parameters and random running
    statistics: weight ~ U(0.5, 1.5), bias ~ N(0, 0.1), running_mean ~ N(0, 0.1),
    running_var ~ U(0.5, 1.5). Convolutions: Kaiming normal (fan_out, relu) like torchvision;
    Linear: PyTorch's default. Returns the model in eval mode."""
    g = torch.Generator().manual_seed(seed)

    def normal(t: torch.Tensor, std: float, mean: float = 0.0) -> None:
        t.copy_(torch.randn(t.shape, generator=g) * std + mean)

    def uniform(t: torch.Tensor, lo: float, hi: float) -> None:
        t.copy_(torch.rand(t.shape, generator=g) * (hi - lo) + lo)

    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            fan_out = m.out_channels * m.kernel_size[0] * m.kernel_size[1] // m.groups
            normal(m.weight, (2.0 / fan_out) ** 0.5)
            if m.bias is not None:
                normal(m.bias, 0.05)
        elif isinstance(m, nn.BatchNorm2d):
            uniform(m.weight, 0.5, 1.5)
            normal(m.bias, 0.1)
            normal(m.running_mean, 0.1)
            uniform(m.running_var, 0.5, 1.5)
        elif isinstance(m, nn.Linear):
            bound = 1.0 / m.in_features**0.5
            uniform(m.weight, -bound, bound)
            if m.bias is not None:
                uniform(m.bias, -bound, bound)
    return model.eval()
