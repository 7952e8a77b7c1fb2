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
* Modern torchvision architectures at reduced widths and depths (torchvision 0.14's own classes,
  no re-implementation): ``ConvNeXt`` (channels-last LayerNorm inside its blocks), the
  ``VisionTransformer`` (class token), ``SwinTransformer`` (channels-last ``[N, H, W, C]``
  stages), ``EfficientNet`` (SiLU, squeeze-and-excitation), and a multi-label ``DenseNet`` on
  1-channel images (sigmoid outputs, like torchxrayvision's chest X-ray models).

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


class SigmoidHead(nn.Module):
    """``sigmoid(net(x))``: independent per-class probabilities (multi-label)."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net
        self.sigmoid = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.sigmoid(self.net(x))


def small_convnext(num_classes: int = 4) -> nn.Module:
    """torchvision ConvNeXt, 3 stages of one block (16, 32, 64 channels); 64x64 -> 4x4."""
    from torchvision.models.convnext import CNBlockConfig, ConvNeXt

    cfg = [CNBlockConfig(16, 32, 1), CNBlockConfig(32, 64, 1), CNBlockConfig(64, None, 1)]
    return ConvNeXt(cfg, num_classes=num_classes)


def small_vit(num_classes: int = 4) -> nn.Module:
    """torchvision VisionTransformer: 32x32 images, 8x8 patches (a 4x4 grid + class token),
    2 layers, 2 heads, width 16."""
    from torchvision.models.vision_transformer import VisionTransformer

    return VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2,
                             hidden_dim=16, mlp_dim=32, num_classes=num_classes)


def small_swin(num_classes: int = 4) -> nn.Module:
    """torchvision SwinTransformer (v1): 4x4 patches, width 16, two stages of two blocks,
    4x4 windows; a 64x96 image gives stages of 16x24 and 8x12 (channels-last)."""
    from torchvision.models.swin_transformer import SwinTransformer

    return SwinTransformer(patch_size=[4, 4], embed_dim=16, depths=[2, 2], num_heads=[2, 2],
                           window_size=[4, 4], num_classes=num_classes)


def small_efficientnet(num_classes: int = 3) -> nn.Module:
    """torchvision EfficientNet-B0's configuration at width 0.25, depth 0.25."""
    from torchvision.models.efficientnet import EfficientNet, _efficientnet_conf

    setting, last = _efficientnet_conf("efficientnet_b0", width_mult=0.25, depth_mult=0.25)
    return EfficientNet(setting, dropout=0.2, num_classes=num_classes, last_channel=last)


def multilabel_densenet(num_classes: int = 14) -> nn.Module:
    """A DenseNet-121-style multi-label classifier on 1-channel images, small: torchvision
    DenseNet(growth 8, blocks (2, 2, 2, 2), 16 initial features) with a 1-channel stem and
    ``num_classes`` sigmoid outputs (torchxrayvision's DenseNet has 18)."""
    net = torchvision.models.DenseNet(growth_rate=8, block_config=(2, 2, 2, 2),
                                      num_init_features=16, num_classes=num_classes)
    net.features.conv0 = nn.Conv2d(1, 16, kernel_size=7, stride=2, padding=3, bias=False)
    return SigmoidHead(net)


def densenet121_multilabel(num_classes: int = 14, channels: int = 1) -> nn.Module:
    """Full-size DenseNet-121 (growth 32, blocks (6, 12, 24, 16), 64 initial features) with
    ``num_classes`` sigmoid outputs: the benchmark model of ``camflow bench --targets``."""
    net = torchvision.models.DenseNet(growth_rate=32, block_config=(6, 12, 24, 16),
                                      num_init_features=64, num_classes=num_classes)
    net.features.conv0 = nn.Conv2d(channels, 64, kernel_size=7, stride=2, padding=3, bias=False)
    return SigmoidHead(net)


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
        elif isinstance(m, nn.LayerNorm) and m.elementwise_affine:
            uniform(m.weight, 0.5, 1.5)
            normal(m.bias, 0.1)
        # ConvNeXt starts its residual branches at 1e-6 (layer scale): a near-identity block
        # would make a weak test.
        if hasattr(m, "layer_scale") and isinstance(m.layer_scale, nn.Parameter):
            uniform(m.layer_scale, 0.5, 1.0)
    return model.eval()
