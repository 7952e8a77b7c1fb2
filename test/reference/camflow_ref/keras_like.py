"""A Keras-style channels-last classifier in ONNX, as tf2onnx writes Keras ResNets (run from
test/reference):

    python3 -m camflow_ref.keras_like --out /tmp/keras-nhwc   # model.onnx + model.json

No TensorFlow here (it is not in Debian): the graph is built with onnx.helper the way tf2onnx
exports ``tf.keras.applications`` models: an NHWC input (``input_1`` [N, 224, 224, 3]) that a
Transpose hands to NCHW convolutions, Keras scope names in the node names
(``model/conv5_block1_out/Relu``), block outputs handed on channels-last (older tf2onnx
versions, or layers its transpose optimiser cannot move), global average pooling as a
ReduceMean over axes 1 and 2, and a Dense head (MatMul, Add, Softmax). Seeded random weights;
4 stages of one basic block (64, 128, 256, 512 channels): a ResNet-18-sized body.
"""

from __future__ import annotations

import argparse
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


class Graph:
    def __init__(self, seed: int):
        self.nodes, self.inits = [], []
        self.rng = np.random.default_rng(seed)

    def const(self, name, array):
        self.inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def op(self, op, inputs, name, **attrs):
        out = f"{name}:0"
        self.nodes.append(helper.make_node(op, inputs, [out], name=name, **attrs))
        return out

    def conv(self, x, cin, cout, k, stride, name):
        w = self.rng.normal(0, (2.0 / (cout * k * k)) ** 0.5, (cout, cin, k, k)).astype(np.float32)
        b = self.rng.normal(0, 0.05, cout).astype(np.float32)
        return self.op("Conv", [x, self.const(f"{name}/kernel", w), self.const(f"{name}/bias", b)],
                       f"model/{name}/Conv2D", strides=[stride, stride],
                       pads=[k // 2] * 4, kernel_shape=[k, k])


def build(seed: int = 1, size: int = 224, classes: int = 10) -> onnx.ModelProto:
    g = Graph(seed)
    x = g.op("Transpose", ["input_1"], "model/conv1_pad/Pad__6", perm=[0, 3, 1, 2])
    x = g.op("Relu", [g.conv(x, 3, 64, 7, 2, "conv1_conv")], "model/conv1_relu/Relu")
    x = g.op("MaxPool", [x], "model/pool1_pool/MaxPool", kernel_shape=[3, 3], strides=[2, 2],
             pads=[1, 1, 1, 1])
    x = g.op("Transpose", [x], "model/pool1_pool/MaxPool__12", perm=[0, 2, 3, 1])
    cin = 64
    for stage, cout in zip(range(2, 6), (64, 128, 256, 512)):
        stride = 1 if stage == 2 else 2
        p = f"conv{stage}_block1"
        nchw = g.op("Transpose", [x], f"model/{p}_1_conv/Conv2D__in", perm=[0, 3, 1, 2])
        y = g.op("Relu", [g.conv(nchw, cin, cout, 3, stride, f"{p}_1_conv")], f"model/{p}_1_relu/Relu")
        y = g.conv(y, cout, cout, 3, 1, f"{p}_2_conv")
        short = g.conv(nchw, cin, cout, 1, stride, f"{p}_0_conv") if stride != 1 or cin != cout else nchw
        y = g.op("Relu", [g.op("Add", [y, short], f"model/{p}_add/add")], f"model/{p}_out/Relu")
        x = g.op("Transpose", [y], f"model/{p}_out/Relu__transpose", perm=[0, 2, 3, 1])
        cin = cout
    pooled = g.op("ReduceMean", [x], "model/avg_pool/Mean", axes=[1, 2], keepdims=0)
    w = g.rng.uniform(-1, 1, (512, classes)).astype(np.float32) / 512 ** 0.5
    logits = g.op("Add", [g.op("MatMul", [pooled, g.const("predictions/kernel", w)],
                              "model/predictions/MatMul"),
                         g.const("predictions/bias", np.zeros(classes, np.float32))],
                  "model/predictions/BiasAdd")
    probs = g.op("Softmax", [logits], "model/predictions/Softmax", axis=-1)
    graph = helper.make_graph(
        g.nodes, "keras_like_resnet",
        [helper.make_tensor_value_info("input_1", TensorProto.FLOAT, ["N", size, size, 3])],
        [helper.make_tensor_value_info(probs, TensorProto.FLOAT, ["N", classes])], g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="camflow keras_like (tf2onnx-style)")
    model.ir_version = 7
    onnx.checker.check_model(model)
    return model


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    onnx.save(build(), os.path.join(args.out, "model.onnx"))
    card = {
        "name": "keras-like-nhwc", "version": "1",
        "description": "Keras-style channels-last ResNet, tf2onnx-style graph, random weights",
        "input": {"size": 224, "layout": "NHWC", "resizeTo": 256, "scale": 1 / 127.5, "mean": 1},
        "output": {"activation": "softmax", "classes": [f"class{i}" for i in range(10)]},
        "layer": "conv5_block1_out",
    }
    with open(os.path.join(args.out, "model.json"), "w") as f:
        json.dump(card, f, indent=2)
        f.write("\n")
    print(os.path.join(args.out, "model.onnx"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
