"""The loaded engine's backbone (and trained head) as ONNX models, and runners for them on ONNX Runtime.

Groundwork for serving on ONNX Runtime (issue 20): the serving path still runs PyTorch. :func:`export_onnx`
writes ``backbone.onnx`` (preprocessed (N, 3, H, W) pixels → pooled (N, num_features) features, exactly what
``Engine.backbone_features`` returns), ``head.onnx`` when the engine has a trained head (features → unit
vectors and each attribute's logits, what ``Engine.vectors_of`` computes) and, optionally, a dynamically
int8-quantised ``backbone.int8.onnx`` (it does not hold parity: :func:`quantize_backbone`).
:class:`OnnxBackbone` and :class:`OnnxHead` run them with numpy and onnxruntime alone; torch is imported by
the export only.

The export uses torch's TorchScript exporter (``dynamo=False``): the torch.export-based one, the default since
torch 2.9, needs the ``onnxscript`` package, which is no dependency here. Opset 17 (onnxruntime ≥ 1.14 runs it).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .embed import Engine

OPSET = 17
BACKBONE_FILE = "backbone.onnx"
BACKBONE_INT8_FILE = "backbone.int8.onnx"
HEAD_FILE = "head.onnx"
PIXELS, FEATURES, VECTORS = "pixels", "features", "vectors"
LOGITS_PREFIX = "logits."


@dataclass(frozen=True)
class OnnxExport:
    """What :func:`export_onnx` wrote: the backbone, its int8 version and the head (None where not written)."""

    backbone: Path
    backbone_int8: Path | None
    head: Path | None
    attributes: tuple[str, ...]  # the head's attributes, in the order of its logits outputs


def export_onnx(engine: Engine, directory: str | Path, *, int8: bool = False) -> OnnxExport:
    """Export ``engine``'s backbone (its fine-tuned tail included) and, when it has one, its head into
    ``directory``, every model with a dynamic batch axis; with ``int8``, also a dynamically quantised backbone."""
    import torch

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    model = engine._model
    model = getattr(model, "_orig_mod", model)  # a torch.compile'd model exports as the module it wraps
    height, width = engine.data_config["input_size"][1:]
    backbone = directory / BACKBONE_FILE
    with torch.inference_mode(False), torch.no_grad():
        _export(torch, _cpu_copy(model), torch.randn(2, 3, height, width), backbone, [FEATURES])
    head_path: Path | None = None
    attributes: tuple[str, ...] = ()
    if engine.head is not None:
        head = engine.head.head
        attributes = tuple(head.spec.vocabularies)
        head_path = directory / HEAD_FILE
        with torch.inference_mode(False), torch.no_grad():
            _export(torch, _cpu_copy(_flat_head(head, attributes)), torch.randn(2, head.spec.in_dim), head_path,
                    [VECTORS, *(LOGITS_PREFIX + name for name in attributes)], input_name=FEATURES)
    quantised: Path | None = None
    if int8:
        quantised = directory / BACKBONE_INT8_FILE
        quantize_backbone(backbone, quantised)
    return OnnxExport(backbone, quantised, head_path, attributes)


def quantize_backbone(source: Path, target: Path) -> Path:
    """Dynamic int8 quantisation of an exported backbone's convolutions (weights uint8, activations quantised
    per batch), the depthwise ones left in float: quantised per tensor they cost most of the parity (median
    cosine 0.80 to PyTorch with them, 0.98 without, on the demo photos) and run slower than in float."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    depthwise = [node.name for node in onnx.load(str(source)).graph.node
                 if node.op_type == "Conv" and any(attribute.name == "group" and attribute.i > 1
                                                   for attribute in node.attribute)]
    quantize_dynamic(source, target, weight_type=QuantType.QUInt8, nodes_to_exclude=depthwise)
    return target


def _export(torch, module, example, path: Path, outputs: list[str], input_name: str = PIXELS) -> None:
    import warnings

    module = module.eval()
    dynamic = {name: {0: "batch"} for name in (input_name, *outputs)}
    with warnings.catch_warnings():  # the TorchScript exporter is chosen on purpose (module docstring)
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.onnx.export(module, (example,), str(path), dynamo=False, opset_version=OPSET,
                          input_names=[input_name], output_names=outputs, dynamic_axes=dynamic,
                          do_constant_folding=True)


def _cpu_copy(module):
    """A copy of ``module`` on the CPU in float32 (the engine's may live on a GPU): the export must not move it."""
    import copy

    return copy.deepcopy(module).cpu().float()


def _flat_head(head, attributes: tuple[str, ...]):
    """The head's forward with its outputs flattened: (vectors, logits of each attribute in ``attributes``)."""
    from torch import nn

    class FlatHead(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.head = head

        def forward(self, features):
            vectors, logits = self.head(features)
            return (vectors, *(logits[name] for name in attributes))

    return FlatHead()


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _session(path: str | Path, threads: int | None):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads or cores()
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class OnnxBackbone:
    """An exported backbone on ONNX Runtime (CPU): preprocessed (N, 3, H, W) float32 pixels → pooled
    (N, num_features) float32 features, as ``Engine.backbone_features`` returns them."""

    def __init__(self, path: str | Path, threads: int | None = None) -> None:
        self.path = Path(path)
        self._session = _session(path, threads)
        self._input = self._session.get_inputs()[0].name
        self._output = self._session.get_outputs()[0].name

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        return self.features(batch)

    def features(self, batch: np.ndarray) -> np.ndarray:
        pixels = np.ascontiguousarray(batch, dtype=np.float32)
        return self._session.run([self._output], {self._input: pixels})[0]


class OnnxHead:
    """An exported head on ONNX Runtime: features → (unit vectors, {attribute: logits})."""

    def __init__(self, path: str | Path, threads: int | None = None) -> None:
        self.path = Path(path)
        self._session = _session(path, threads)
        self._input = self._session.get_inputs()[0].name
        self._outputs: Sequence[str] = [output.name for output in self._session.get_outputs()]
        self.attributes = tuple(name[len(LOGITS_PREFIX):] for name in self._outputs[1:])

    def __call__(self, features: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        vectors, *logits = self._session.run(list(self._outputs),
                                             {self._input: np.ascontiguousarray(features, dtype=np.float32)})
        return vectors, dict(zip(self.attributes, logits, strict=True))
