"""The loaded engine's backbone (and trained head) as ONNX models, and runners for them on ONNX Runtime.

:func:`export_onnx` writes ``backbone.onnx`` (preprocessed (N, 3, H, W) pixels → pooled (N, num_features)
features, exactly what ``Engine.backbone_features`` returns), ``head.onnx`` when the engine has a trained head
(features → unit vectors and each attribute's logits, what ``Engine.vectors_of`` computes) and, optionally, an
int8 backbone (:func:`quantize_backbone`). :class:`OnnxBackbone` and :class:`OnnxHead` run them with numpy and
onnxruntime alone; torch is imported by the export only. ``python -m engine.onnx_export`` is the child process
that :mod:`engine.onnx_cache` runs to make a serving export: the files, a manifest, and parity measured.

The export uses torch's TorchScript exporter (``dynamo=False``): the torch.export-based one, the default since
torch 2.9, needs the ``onnxscript`` package, which is no dependency here. Opset 17 (onnxruntime ≥ 1.14 runs it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .ort_sessions import session_options

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
    """What :func:`export_onnx` wrote: the backbone and the head (None without one)."""

    backbone: Path
    head: Path | None
    attributes: tuple[str, ...]  # the head's attributes, in the order of its logits outputs


def export_onnx(engine: Engine, directory: str | Path) -> OnnxExport:
    """Export ``engine``'s backbone (its fine-tuned tail included) and, when it has one, its head into
    ``directory``, every model with a dynamic batch axis."""
    import torch

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    model = engine._model
    model = getattr(model, "_orig_mod", model)  # a torch.compile'd model exports as the module it wraps
    height, width = engine.data_config["input_size"][1:]
    backbone = directory / BACKBONE_FILE
    with torch.inference_mode(False), torch.no_grad():
        export_module(_cpu_copy(model), torch.randn(2, 3, height, width), backbone, [FEATURES])
    head_path: Path | None = None
    attributes: tuple[str, ...] = ()
    if engine.head is not None:
        head = engine.head.head
        attributes = tuple(head.spec.vocabularies)
        head_path = directory / HEAD_FILE
        with torch.inference_mode(False), torch.no_grad():
            export_module(_cpu_copy(_flat_head(head, attributes)), torch.randn(2, head.spec.in_dim), head_path,
                    [VECTORS, *(LOGITS_PREFIX + name for name in attributes)], input_name=FEATURES)
    return OnnxExport(backbone, head_path, attributes)


def quantize_backbone(source: Path, target: Path, calibration: np.ndarray) -> Path:
    """Static int8 quantisation (QDQ, weights per channel) calibrated on ``calibration``, preprocessed
    (N, 3, H, W) images: catalog packshots and framed photos, what the backbone will see. The first and the last
    convolution stay in float: the pixels' and the pooled features' ranges are where int8 costs most parity."""
    import onnx
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    convolutions = [node.name for node in onnx.load(str(source)).graph.node if node.op_type == "Conv"]

    class Batches(CalibrationDataReader):
        def __init__(self) -> None:
            self._batches = iter([{PIXELS: calibration[start:start + 16]} for start in range(0, len(calibration), 16)])

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self._batches, None)

    quantize_static(str(source), str(target), Batches(), quant_format=QuantFormat.QDQ, per_channel=True,
                    weight_type=QuantType.QInt8, activation_type=QuantType.QUInt8,
                    nodes_to_exclude=[*convolutions[:1], *convolutions[-1:]])
    return target


def quantize_backbone_dynamic(source: Path, target: Path) -> Path:
    """Dynamic int8 quantisation of an exported backbone's convolutions (weights uint8, activations quantised
    per batch), the depthwise ones left in float: quantised per tensor they cost most of the parity (median
    cosine 0.80 to PyTorch with them, 0.98 without, on the demo photos) and run slower than in float. Measured
    beside the static one (``fashionbot bench``); never served."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    depthwise = [node.name for node in onnx.load(str(source)).graph.node
                 if node.op_type == "Conv" and any(attribute.name == "group" and attribute.i > 1
                                                   for attribute in node.attribute)]
    quantize_dynamic(source, target, weight_type=QuantType.QUInt8, nodes_to_exclude=depthwise)
    return target


def export_module(module, example, path: Path, outputs: list[str], input_name: str = PIXELS) -> None:
    """``module`` as ONNX at ``path``, its batch free (the TorchScript exporter, as everywhere here)."""
    import warnings

    import torch

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


def _session(path: str | Path, threads: int | None):
    import onnxruntime

    return onnxruntime.InferenceSession(str(path), session_options(threads), providers=["CPUExecutionProvider"])


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


def demo_images(engine, catalog: int = 48, offset: int = 0) -> tuple[list, list]:
    """Packaged demo catalog images (``catalog`` of them from ``offset``) and every demo photo, decoded by
    ``engine``: what parity is measured and int8 calibrated on, with no data beyond the package."""
    from importlib.resources import files

    demo = Path(str(files("demo")))
    packshots = sorted((demo / "images").glob("*.jpg"))[offset:offset + catalog]
    photos = sorted((demo / "photos").glob("*.jpg"))
    return ([engine.decode(path.read_bytes()) for path in packshots],
            [engine.decode(path.read_bytes()) for path in photos])


def calibration_batch(engine, images: Sequence, photos: Sequence) -> np.ndarray:
    """Preprocessed (N, 3, H, W) pixels of packshots (whole) and of the photos' framed views."""
    from .pixels import TensorPreprocess

    pixels = TensorPreprocess.from_data_config(engine.data_config)
    views = [*images, *engine.framing.frame(photos, engine.locator)]
    return np.ascontiguousarray(np.stack([pixels.pil_to_array(view) for view in views]).transpose(0, 3, 1, 2))


def parity(reference, candidate, images: Sequence, photos: Sequence) -> dict[str, float]:
    """How closely ``candidate``'s vectors follow ``reference``'s, packshots and photos alike: cosines."""
    cosines = np.concatenate([
        (reference.embed(images) * candidate.embed(images)).sum(axis=1),
        (reference.embed_photos(photos)[0] * candidate.embed_photos(photos)[0]).sum(axis=1)])
    return {"median_cosine": round(float(np.median(cosines)), 5), "min_cosine": round(float(cosines.min()), 5),
            "images": len(cosines)}


def write_export(config, folder: Path) -> dict:
    """Export ``config``'s engine (PyTorch on the CPU) into ``folder``: the models, the int8 backbone when
    ``config.precision`` asks, and a manifest with parity measured against PyTorch on the demo images."""
    import json
    from dataclasses import replace
    from importlib.metadata import version

    from .embed import Engine
    from .onnx_cache import EXPORT_FORMAT, MANIFEST, Export, export_key
    from .onnx_engine import OnnxEngine

    engine = Engine.load(replace(config, runtime="torch", device="cpu", compile=False, decode="pil"))
    written = export_onnx(engine, folder)
    files = {"backbone_fp32": written.backbone.name}
    if written.head is not None:
        files["head"] = written.head.name
    images, photos = demo_images(engine)
    if config.precision == "int8":
        calibration = calibration_batch(engine, *demo_images(engine, catalog=160, offset=len(images)))
        files["backbone_int8"] = quantize_backbone(written.backbone, folder / BACKBONE_INT8_FILE, calibration).name
    head = engine.head
    manifest: dict = {
        "format": EXPORT_FORMAT, "key": export_key(config), "backbone": engine.backbone_name,
        "weights_source": engine.weights_source, "dim": engine.dim, "fingerprint_fields": engine.fingerprint_fields,
        "backbone_fingerprint": engine.backbone_fingerprint, "features_fingerprint": engine.features_fingerprint,
        "data_config": {key: list(value) if isinstance(value, tuple) else value
                        for key, value in engine.data_config.items()},
        "head": {"sha256": head.sha256, "vocabularies": head.vocabularies, "training": head.training} if head else None,
        "files": files, "exported_with": {name: version(name) for name in ("torch", "timm", "onnxruntime")},
    }
    export = Export(folder, json.loads(json.dumps(manifest, default=str)))
    manifest["parity"] = {
        precision: parity(engine, OnnxEngine(export, replace(config, precision=precision), engine.locator),
                          images, photos)
        for precision in ("fp32", "int8") if f"backbone_{precision}" in files}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1, default=str))
    return manifest


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m engine.onnx_export --out FOLDER --config JSON``: what :mod:`engine.onnx_cache` runs."""
    import argparse
    import json
    import logging

    from .config import EngineConfig

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--config", required=True, help="EngineConfig fields as JSON")
    options = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    fields = json.loads(options.config)
    if fields.get("export_dir") is not None:
        fields["export_dir"] = Path(fields["export_dir"])
    write_export(EngineConfig(**fields), options.out)


if __name__ == "__main__":
    main()
