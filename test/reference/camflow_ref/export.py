"""ONNX export (float32, eval mode, dynamic batch) and graph inspection helpers."""

from __future__ import annotations

import copy
import io
from typing import Dict, List, Optional, Tuple

import onnx
import torch
import torch.nn as nn


def export_onnx(model: nn.Module, example: torch.Tensor, path: str, opset: int) -> None:
    """torch.onnx.export of a float32 copy of ``model`` in eval mode: input "input", output
    "output", dynamic axis 0 on both, constant folding on (PyTorch then folds
    Conv+BatchNorm pairs into the Conv weights)."""
    m = copy.deepcopy(model).float().eval()
    buf = io.BytesIO()
    torch.onnx.export(
        m,
        example.float(),
        buf,
        export_params=True,
        opset_version=opset,
        do_constant_folding=True,
        input_names=["input"],
        output_names=["output"],
        dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
        training=torch.onnx.TrainingMode.EVAL,
    )
    model_proto = onnx.load_from_string(buf.getvalue())
    onnx.checker.check_model(model_proto)
    onnx.save(model_proto, path)


def scope_prefix(layer: str) -> str:
    """PyTorch module path -> the node-name scope prefix written by torch 1.13's exporter.

    Each nesting level contributes its module's *unqualified* name: the qualified path cut
    back to its last non-numeric atom (``torch.onnx.utils._unqualified_variable_name``), so
    Sequential indices keep their parent's name but named children do not:
    "resnet_blocks.4" -> "/resnet_blocks/resnet_blocks.4/", "features.18" ->
    "/features/features.18/", "features.norm5" -> "/features/norm5/",
    "net.layer4" -> "/net/layer4/", "layer4.0.relu" -> "/layer4/layer4.0/relu/".
    (A module called more than once gets "_1", "_2", ... on its later scopes, e.g.
    "/layer4/layer4.0/relu_1/"; the fixture layers are each called once.)"""
    parts = layer.split(".")
    levels = []
    for i in range(len(parts)):
        j = i
        while j > 0 and parts[j].isdigit():
            j -= 1
        levels.append(".".join(parts[j : i + 1]))
    return "/" + "/".join(levels) + "/"


def layer_output(graph: onnx.GraphProto, layer: str) -> Tuple[str, str, List[str]]:
    """The tensor a module scope hands to the rest of the graph: an output of a node whose
    name starts with the scope prefix, consumed by a node outside the scope (or a graph
    output). Returns (node name, tensor name, names of all nodes in the scope)."""
    pre = scope_prefix(layer)
    inside = [n for n in graph.node if n.name.startswith(pre)]
    if not inside:
        raise KeyError(f"no node under scope {pre}")
    inside_names = {n.name for n in inside}
    produced = {o: n.name for n in inside for o in n.output}
    consumed_outside = set()
    for n in graph.node:
        if n.name in inside_names:
            continue
        consumed_outside.update(i for i in n.input if i in produced)
    consumed_outside.update(o.name for o in graph.output if o.name in produced)
    if len(consumed_outside) != 1:
        raise RuntimeError(f"scope {pre} exports {sorted(consumed_outside)}")
    t = consumed_outside.pop()
    return produced[t], t, [n.name for n in inside]


def downstream_ops(graph: onnx.GraphProto, tensor: str) -> List[Tuple[str, str]]:
    """(op_type, node name) of every node on a path from ``tensor`` to a graph output,
    in graph (topological) order."""
    reach = {tensor}
    fwd = []
    for n in graph.node:
        if any(i in reach for i in n.input):
            fwd.append(n)
            reach.update(n.output)
    # keep only nodes that lead to a graph output
    need = {o.name for o in graph.output}
    keep = []
    for n in reversed(fwd):
        if any(o in need for o in n.output):
            keep.append(n)
            need.update(i for i in n.input)
    return [(n.op_type, n.name) for n in reversed(keep)]


def op_histogram(graph: onnx.GraphProto) -> Dict[str, int]:
    h: Dict[str, int] = {}
    for n in graph.node:
        h[n.op_type] = h.get(n.op_type, 0) + 1
    return dict(sorted(h.items()))


def with_extra_output(model_proto: onnx.ModelProto, tensor: str) -> Optional[onnx.ModelProto]:
    """Copy of the model with ``tensor`` added as a graph output (for checking activations
    with an ONNX runtime)."""
    m = copy.deepcopy(model_proto)
    m.graph.output.append(onnx.helper.make_empty_tensor_value_info(tensor))
    return m
