"""Learned heads on the backbone's pooled features: a retrieval projection and one classifier per attribute.

A head is saved as a versioned artifact (``torch.save`` of plain tensors and dicts, loaded with
``weights_only=True``) that names the backbone fingerprint it was trained on; loading it onto any other
backbone is refused, because its weights mean nothing there.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .attributes import Attributes, attributes_from_probabilities

log = logging.getLogger(__name__)

ARTIFACT_FORMAT = 1
ARTIFACT_KIND = "fashionbot-head"


class HeadArtifactError(RuntimeError):
    """An artifact that cannot be used here: missing, malformed, of another format or another backbone."""


@dataclass(frozen=True)
class HeadSpec:
    """Shape of a head: input features, hidden width, projection size, and each attribute's labels."""

    in_dim: int
    width: int
    proj_dim: int
    vocabularies: dict[str, list[str]]
    dropout: float = 0.2
    # Retrieval vectors blend the backbone's own (normalised) features with the learned projection:
    # cosine = raw_weight × backbone cosine + (1 − raw_weight) × projection cosine. Tuned on validation.
    raw_weight: float = 0.0

    @property
    def out_dim(self) -> int:
        if self.raw_weight <= 0:
            return self.proj_dim
        return self.in_dim if self.raw_weight >= 1 else self.in_dim + self.proj_dim


class FashionHead(nn.Module):
    """features → (unit-length retrieval vectors, {attribute: logits}).

    A shared hidden layer feeds the attribute classifiers and the projection; a linear skip from the
    (normalised) input keeps the backbone's instance detail available to the projection. The retrieval
    vector is the projection blended with the backbone's own features (``spec.raw_weight``): the learned
    space groups categories and colours, the backbone's keeps what tells one product from its look-alikes.
    """

    def __init__(self, spec: HeadSpec) -> None:
        super().__init__()
        self.spec = spec
        self.norm = nn.LayerNorm(spec.in_dim)
        self.hidden = nn.Sequential(nn.Linear(spec.in_dim, spec.width), nn.GELU(), nn.Dropout(spec.dropout))
        self.projection = nn.Linear(spec.width, spec.proj_dim)
        self.skip = nn.Linear(spec.in_dim, spec.proj_dim, bias=False)
        self.classifiers = nn.ModuleDict({name: nn.Linear(spec.width, len(labels))
                                          for name, labels in spec.vocabularies.items()})

    def project(self, features: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The learned projection (unit length) and the logits: what training optimises."""
        x = self.norm(features)
        hidden = self.hidden(x)
        vectors = nn.functional.normalize(self.projection(hidden) + self.skip(x), dim=1)
        return vectors, {name: classifier(hidden) for name, classifier in self.classifiers.items()}

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        projected, logits = self.project(features)
        weight = self.spec.raw_weight
        if weight <= 0:
            return projected, logits
        raw = nn.functional.normalize(features, dim=1)
        if weight >= 1:
            return raw, logits
        return torch.cat([math.sqrt(weight) * raw, math.sqrt(1 - weight) * projected], dim=1), logits

    def with_raw_weight(self, raw_weight: float) -> FashionHead:
        """This head (same weights, shared) with another blend of backbone and learned vectors."""
        other = copy.copy(self)
        other.spec = replace(self.spec, raw_weight=float(raw_weight))
        return other

    @torch.inference_mode()
    def infer(self, features: np.ndarray, batch: int = 4096) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Features (N, in_dim) → (vectors (N, proj_dim), {attribute: probabilities (N, classes)}), in eval mode."""
        was_training = self.training
        self.eval()
        device = next(self.parameters()).device
        vectors: list[np.ndarray] = []
        probabilities: dict[str, list[np.ndarray]] = {name: [] for name in self.classifiers}
        for start in range(0, len(features), batch):
            chunk = torch.as_tensor(np.asarray(features[start:start + batch], np.float32), device=device)
            out, logits = self(chunk)
            vectors.append(out.cpu().numpy())
            for name, values in logits.items():
                probabilities[name].append(torch.softmax(values, dim=1).cpu().numpy())
        self.train(was_training)
        empty = np.zeros((0, self.spec.out_dim), np.float32)
        return (np.concatenate(vectors) if vectors else empty,
                {name: np.concatenate(parts) if parts else np.zeros((0, len(self.spec.vocabularies[name])))
                 for name, parts in probabilities.items()})


def attributes_of(logits: dict[str, torch.Tensor], vocabularies: dict[str, list[str]]) -> list[Attributes]:
    """Softmax each attribute's logits into one :class:`Attributes` per row."""
    probabilities = {name: torch.softmax(values.float(), dim=1).cpu().numpy() for name, values in logits.items()}
    return attributes_from_probabilities(probabilities, vocabularies)


@dataclass
class HeadArtifact:
    """A trained head plus what it needs to be used and trusted: the backbone it fits, how it was made."""

    head: FashionHead
    backbone: str
    backbone_fingerprint: str
    version: str = "1"
    training: dict = field(default_factory=dict)  # params, data, validation scores — for people
    sha256: str = ""
    # Fine-tuned backbone weights (the last stage), named as in the backbone's state dict; None: frozen backbone.
    backbone_state: dict[str, torch.Tensor] | None = None

    @property
    def vocabularies(self) -> dict[str, list[str]]:
        """Each attribute's labels, in the order of its logits."""
        return self.head.spec.vocabularies

    def save(self, path: Path) -> str:
        """Write the artifact (fp16 weights) and return its sha256."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        spec = self.head.spec
        payload = {
            "kind": ARTIFACT_KIND,
            "format": ARTIFACT_FORMAT,
            "version": self.version,
            "backbone": self.backbone,
            "backbone_fingerprint": self.backbone_fingerprint,
            "spec": {"in_dim": spec.in_dim, "width": spec.width, "proj_dim": spec.proj_dim,
                     "dropout": spec.dropout, "vocabularies": spec.vocabularies, "raw_weight": spec.raw_weight},
            "state_dict": {key: value.detach().cpu().half() for key, value in self.head.state_dict().items()},
            "training": self.training,
            "backbone_state": ({key: _compact(value) for key, value in self.backbone_state.items()}
                               if self.backbone_state else None),
        }
        temporary = path.with_name(path.name + ".partial")
        torch.save(payload, temporary)
        temporary.replace(path)
        self.sha256 = file_sha256(path)
        return self.sha256

    @classmethod
    def load(cls, path: Path, backbone_fingerprint: str | None = None) -> HeadArtifact:
        """Read an artifact; with ``backbone_fingerprint``, refuse one trained on another backbone."""
        path = Path(path)
        if not path.is_file():
            raise HeadArtifactError(f"head artifact {path} does not exist")
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as error:  # torch raises many kinds for a file that is not a checkpoint
            raise HeadArtifactError(f"{path} is not a readable head artifact: {error}") from error
        if not isinstance(payload, dict) or payload.get("kind") != ARTIFACT_KIND:
            raise HeadArtifactError(f"{path} is not a fashionbot head artifact")
        if payload.get("format") != ARTIFACT_FORMAT:
            raise HeadArtifactError(f"{path} has artifact format {payload.get('format')}; this version reads "
                                    f"format {ARTIFACT_FORMAT}. Retrain it with `fashionbot train`.")
        if backbone_fingerprint and payload["backbone_fingerprint"] != backbone_fingerprint:
            raise HeadArtifactError(
                f"{path} was trained on backbone {payload['backbone']} (fingerprint "
                f"{payload['backbone_fingerprint']}), not on the loaded one (fingerprint {backbone_fingerprint}); "
                f"train a head for this backbone with `fashionbot train`, or run without an artifact."
            )
        head = FashionHead(HeadSpec(**payload["spec"]))
        head.load_state_dict({key: value.float() for key, value in payload["state_dict"].items()})
        head.eval()
        tail = payload.get("backbone_state")
        return cls(head, payload["backbone"], payload["backbone_fingerprint"], payload.get("version", "1"),
                   payload.get("training", {}), file_sha256(path),
                   {key: value.float() if value.is_floating_point() else value for key, value in tail.items()}
                   if tail else None)

    def apply_backbone_state(self, model: nn.Module) -> None:
        """Load the fine-tuned backbone weights into ``model``; every name and shape must fit."""
        if not self.backbone_state:
            return
        own = model.state_dict()
        misfits = [key for key, value in self.backbone_state.items()
                   if key not in own or own[key].shape != value.shape]
        if misfits:
            raise HeadArtifactError(f"the artifact's fine-tuned backbone weights do not fit {self.backbone}: "
                                    f"{', '.join(misfits[:3])}")
        model.load_state_dict(self.backbone_state, strict=False)


def _compact(value: torch.Tensor) -> torch.Tensor:
    return value.detach().cpu().half() if value.is_floating_point() else value.detach().cpu()


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
