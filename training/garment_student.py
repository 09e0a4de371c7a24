"""A garment locator distilled from U²-Net-p into the backbone's first stages: the salient-object mask at a sixth
of its price (issue 20).

U²-Net-p at 128 px cost a framed photo 50 ms on two CPU cores, twice the backbone's two views together. The
student is EfficientNet-Lite0's stem and first five stages (its ImageNet weights, frozen: stride 16, 112 channels)
with a small mask head trained on top, which reads the edges from the third stage's map (stride 8), at 192×192:
it sees the photo squashed, as U²-Net does, and returns the mask on a square grid, so it is a drop-in
:class:`engine.garment.GarmentLocator` model.

Training is the seeds' bottleneck recipe: the frozen trunk's feature maps of every training photo (and its
mirror image) are computed once and cached, the teacher's masks beside them, and only the head is fitted. The
photos are ../shared/clothing-dataset's real phone photos (never the evaluation's real-photos) and the training
generator's phone-like photos of the catalog items `fashionbot train` fits on (never the evaluation's held-out
items nor its validation items). The student is judged against the teacher on the boxes the framing crops to: on
the photos of held-out photographers, and on the independent generator's photos of the validation items.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import nn
from torch.nn import functional
from tqdm import tqdm

from engine.garment import CONFIDENT, STUDENT_GRID, STUDENT_INPUT, GarmentLocator, garment_of, student_pixels

from .data import load_rgb
from .views import user_view

log = logging.getLogger(__name__)

TRUNK_STAGES = 5  # Lite0's blocks 0–4: stride 16, 112 channels (the coarse map)
FINE_STAGES = 3  # blocks 0–2: stride 8, 40 channels (the fine map, for the mask's edges)
COARSE_CHANNELS, FINE_CHANNELS = 112, 40
HIDDEN = 32


class MaskHead(nn.Module):
    """The trunk's coarse and fine feature maps → garment probabilities on a ``grid``² square: what is garment is
    read from the coarse map, with the photo's gist; where its edges run, from the fine one."""

    sharpness: torch.Tensor

    def __init__(self, coarse: int = COARSE_CHANNELS, fine: int = FINE_CHANNELS, hidden: int = HIDDEN,
                 grid: int = STUDENT_GRID) -> None:
        super().__init__()
        self.mix = nn.Conv2d(coarse, hidden, 3, padding=1)
        self.context = nn.Conv2d(coarse, hidden, 1)  # the whole photo's gist: what is garment here, what backdrop
        self.edges = nn.Conv2d(fine, hidden, 3, padding=1)
        self.out = nn.Conv2d(hidden, 1, 1)
        self.grid = grid
        # Fitted to soft targets, the head is less sure than its teacher where both see the same garment; its
        # logits are scaled so it trusts its masks (engine.garment.CONFIDENT) as often as the teacher does.
        self.register_buffer("sharpness", torch.tensor(1.0))

    def logits(self, coarse: torch.Tensor, fine: torch.Tensor) -> torch.Tensor:
        gist = self.context(coarse.mean(dim=(2, 3), keepdim=True))
        what = functional.relu(self.mix(coarse) + gist)
        where = functional.relu(functional.interpolate(what, size=fine.shape[-2:], mode="bilinear",
                                                       align_corners=False) + self.edges(fine))
        return functional.interpolate(self.out(where), size=(self.grid, self.grid), mode="bilinear",
                                      align_corners=False)[:, 0]

    def forward(self, coarse: torch.Tensor, fine: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.sharpness * self.logits(coarse, fine))


class Trunk(nn.Module):
    """A timm EfficientNet's stem and first :data:`TRUNK_STAGES` block groups (its modules, not copies): pixels →
    (coarse, fine) feature maps."""

    def __init__(self, backbone: Any) -> None:
        super().__init__()
        blocks = list(backbone.blocks)
        self.early = nn.Sequential(backbone.conv_stem, backbone.bn1, *blocks[:FINE_STAGES])
        self.late = nn.Sequential(*blocks[FINE_STAGES:TRUNK_STAGES])

    def forward(self, pixels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        fine = self.early(pixels)
        return self.late(fine), fine


class GarmentStudent(nn.Module):
    """The :class:`Trunk` and a :class:`MaskHead`: pixels → (N, grid, grid) garment probabilities."""

    def __init__(self, backbone: nn.Module, head: MaskHead) -> None:
        super().__init__()
        self.trunk = Trunk(backbone)
        self.head = head

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.head(*self.trunk(pixels))


@dataclass(frozen=True)
class TrunkMaps:
    """The trunk's feature maps of a set of photos (float16): ``coarse`` (N, 112, s/16, s/16), ``fine`` (N, 40,
    s/8, s/8)."""

    coarse: np.ndarray
    fine: np.ndarray

    def __len__(self) -> int:
        return len(self.coarse)

    def __getitem__(self, rows) -> TrunkMaps:
        return TrunkMaps(self.coarse[rows], self.fine[rows])

    @classmethod
    def concatenate(cls, parts: Sequence[TrunkMaps]) -> TrunkMaps:
        return cls(np.concatenate([part.coarse for part in parts]), np.concatenate([part.fine for part in parts]))


@dataclass(frozen=True)
class TrainingPhotos:
    """The training photos' files and photographers (``labels.csv`` of ../shared/clothing-dataset)."""

    files: list[Path]
    senders: list[str]

    @classmethod
    def read(cls, folder: Path) -> TrainingPhotos:
        with (folder / "labels.csv").open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        return cls([folder / "images" / row["image"] for row in rows], [row["sender_id"] for row in rows])

    def held_out(self, share: float, seed: int = 0) -> np.ndarray:
        """A boolean per photo: its photographer is among the held-out ``share`` (all their photos go together)."""
        senders = sorted(set(self.senders))
        rng = np.random.default_rng(seed)
        held = set(rng.choice(senders, size=max(1, round(share * len(senders))), replace=False).tolist())
        return np.array([sender in held for sender in self.senders])


Photos = Sequence[Path] | Sequence[Image.Image]


def catalog_views(path: str, count: int, seed: list[int]) -> list[Image.Image]:
    """``count`` easy and ``count`` hard phone-like photos of one catalog image by the training generator
    (a worker process's job: module level, picklable)."""
    rng, image = np.random.default_rng(seed), load_rgb(path)
    return [user_view(image, rng, preset) for preset in ("easy", "hard") for _ in range(count)]


def teacher_masks(photos: Photos, teacher: GarmentLocator, batch: int = 16) -> np.ndarray:
    """U²-Net-p's masks of the photos (files or images), (N, size, size) float16."""
    out = np.zeros((len(photos), teacher.size, teacher.size), np.float16)
    for start in tqdm(range(0, len(photos), batch), desc="teacher masks", unit="batch"):
        out[start:start + batch] = teacher.masks([_rgb(photo) for photo in photos[start:start + batch]])
    return out


@torch.inference_mode()
def trunk_features(photos: Photos, trunk: Trunk, mirrored: bool, batch: int = 32) -> TrunkMaps:
    """The frozen trunk's feature maps of the photos (mirrored: of their mirror images)."""
    parts = []
    for start in tqdm(range(0, len(photos), batch), desc="trunk features", unit="batch"):
        pixels = np.stack([student_pixels(_rgb(photo), mirrored) for photo in photos[start:start + batch]])
        coarse, fine = trunk(torch.from_numpy(pixels))
        parts.append(TrunkMaps(coarse.numpy().astype(np.float16), fine.numpy().astype(np.float16)))
    return TrunkMaps.concatenate(parts)


def grid_targets(masks: np.ndarray, grid: int = STUDENT_GRID, mirrored: bool = False) -> np.ndarray:
    """Teacher masks averaged down to the student's grid (float32); mirrored left to right when asked."""
    size = masks.shape[1]
    if size % grid:
        raise ValueError(f"the teacher's {size} px masks do not divide into a {grid}² grid")
    pooled = masks.astype(np.float32).reshape(len(masks), grid, size // grid, grid, size // grid).mean(axis=(2, 4))
    return pooled[:, :, ::-1].copy() if mirrored else pooled


def fit_head(maps: TrunkMaps, targets: np.ndarray, *, epochs: int = 30, batch: int = 64, lr: float = 3e-3,
             weight_decay: float = 1e-4, seed: int = 0) -> MaskHead:
    """The head fitted to the cached maps: soft binary cross-entropy against the teacher's probabilities."""
    torch.manual_seed(seed)
    head = MaskHead(maps.coarse.shape[1], maps.fine.shape[1], grid=targets.shape[1])
    optimiser = torch.optim.AdamW(head.parameters(), lr=lr, weight_decay=weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, lr, total_steps=epochs * -(-len(maps) // batch))
    coarse, fine, wanted = torch.from_numpy(maps.coarse), torch.from_numpy(maps.fine), torch.from_numpy(targets)
    generator = torch.Generator().manual_seed(seed)
    for _ in tqdm(range(epochs), desc="mask head", unit="epoch"):
        for rows in torch.randperm(len(maps), generator=generator).split(batch):
            loss = functional.binary_cross_entropy_with_logits(
                head.logits(coarse[rows].float(), fine[rows].float()), wanted[rows])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
    return head.eval()


@torch.inference_mode()
def predict(head: MaskHead, maps: TrunkMaps, batch: int = 256) -> np.ndarray:
    return np.concatenate([head(torch.from_numpy(maps.coarse[start:start + batch]).float(),
                                torch.from_numpy(maps.fine[start:start + batch]).float()).numpy()
                           for start in range(0, len(maps), batch)])


def calibrate_sharpness(head: MaskHead, maps: TrunkMaps, teacher: np.ndarray,
                        candidates: Sequence[float] = (1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0)) -> float:
    """The logit scale at which the student trusts its masks on these photos about as often as the teacher does
    (the smallest scale that reaches the teacher's share); set on ``head`` and returned."""
    wanted = box_agreement(predict(head, maps), teacher, CONFIDENT, CONFIDENT).teacher_trusted
    for sharpness in candidates:
        head.sharpness.fill_(sharpness)
        if box_agreement(predict(head, maps), teacher, CONFIDENT, CONFIDENT).student_trusted >= wanted:
            return sharpness
    return float(head.sharpness)


@dataclass(frozen=True)
class BoxAgreement:
    """How the student's garments compare with the teacher's on the same photos."""

    photos: int
    teacher_trusted: float  # share of photos whose teacher mask is trusted (engine.garment.CONFIDENT)
    student_trusted: float
    both_trusted: float
    median_box_iou: float  # over photos both trust
    box_iou_over_half: float


def box_agreement(student: np.ndarray, teacher: np.ndarray, confident: float, student_confident: float
                  ) -> BoxAgreement:
    ious, trusted = [], []
    for mine, theirs in zip(student, teacher, strict=True):
        mine_box, their_box = garment_of(mine), garment_of(theirs.astype(np.float32))
        mine_ok = mine_box is not None and mine_box.confidence >= student_confident
        their_ok = their_box is not None and their_box.confidence >= confident
        trusted.append((their_ok, mine_ok))
        if mine_ok and their_ok and mine_box is not None and their_box is not None:
            ious.append(box_iou(mine_box.box, their_box.box))
    flags = np.array(trusted, bool).reshape(-1, 2)
    return BoxAgreement(len(student), float(flags[:, 0].mean()), float(flags[:, 1].mean()),
                        float((flags[:, 0] & flags[:, 1]).mean()), float(np.median(ious)) if ious else 0.0,
                        float(np.mean(np.array(ious) > 0.5)) if ious else 0.0)


def box_iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def export_student(student: GarmentStudent, path: Path) -> Path:
    """The student as ONNX (batch free, input :data:`STUDENT_INPUT` px), what :class:`GarmentLocator` runs."""
    from engine.onnx_export import export_module

    path.parent.mkdir(parents=True, exist_ok=True)
    export_module(student, torch.zeros(1, 3, STUDENT_INPUT, STUDENT_INPUT), path, ["mask"])
    return path


def _rgb(photo: Path | Image.Image) -> Image.Image:
    return photo.convert("RGB") if isinstance(photo, Image.Image) else load_rgb(photo)
