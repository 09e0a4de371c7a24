"""Training a head on cached features: attribute classifiers plus a metric-learned retrieval projection.

Each step draws items class-balanced by category and two samples of each — a user-like view, and the
clean catalog image (or another view) — so that the projection learns to put a photo next to the
catalog image of the same product, while the classifiers learn the product's labels from the photo.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from pytorch_metric_learning import distances, losses
from torch import nn
from tqdm import tqdm

from catalog.product import Product
from engine.heads import FashionHead, HeadSpec
from recommender.attributes import PRODUCT_LABELS

from .cache import CachedFeatures

log = logging.getLogger(__name__)

# How much each attribute's classification loss counts; the category matters most to shoppers.
ATTRIBUTE_WEIGHTS = {"category": 1.0, "colour": 0.6, "gender": 0.4, "usage": 0.3, "sub_category": 0.3}


@dataclass(frozen=True)
class FitParams:
    # Defaults: head v2's grid winner on the shared sample; each artifact records its own (head v3's grid chose
    # lr 5e-4 and weight decay 1e-3).
    lr: float = 1e-3
    weight_decay: float = 5e-2
    width: int = 768
    proj_dim: int = 128
    margin: float = 0.1  # triplet margin (cosine) between the same product and others
    dropout: float = 0.3
    steps: int = 400
    batch_items: int = 96
    label_smoothing: float = 0.1
    balance: float = 0.5  # item sampling weight ∝ (category size)^-balance: 0 = natural, 1 = uniform classes
    clean_share: float = 0.6  # chance that an item's second sample is its catalog image (else another view)
    category_metric_weight: float = 0.0  # Proxy-Anchor loss on categories, pulling same-category items together
    real_items: int = 48  # real photos per step (when there are any): their category heads learn from real shots
    real_weight: float = 1.0  # how much their category loss counts beside the catalog's
    seed: int = 0

    def describe(self) -> str:
        return (f"lr={self.lr:g} wd={self.weight_decay:g} width={self.width} margin={self.margin:g} "
                f"category_metric={self.category_metric_weight:g} steps={self.steps}")


@dataclass(frozen=True)
class RealPhotos:
    """Real photos for training: ``features`` (N, shots, D) and ``allowed`` (N, categories), which of the
    category head's labels each photo may show (a coarse label such as "Pants" allows several)."""

    features: np.ndarray
    allowed: np.ndarray

    def __post_init__(self) -> None:
        if len(self.features) != len(self.allowed):
            raise ValueError(f"{len(self.features)} photos' features but {len(self.allowed)} label sets")


def set_loss(logits: torch.Tensor, allowed: torch.Tensor) -> torch.Tensor:
    """−log P(the label is one of the allowed ones): a photo labelled "Pants" may be Jeans, Trousers or Track
    Pants, and the head is only told it is one of them (partial-label learning)."""
    inside = torch.logsumexp(logits.masked_fill(~allowed, float("-inf")), dim=1)
    return (torch.logsumexp(logits, dim=1) - inside).mean()


class RealPhotoBatches:
    """Draws a batch of real photos (one random shot each) per step, on the head's device. Photos are drawn with
    the items' class balance (``FitParams.balance``): the real set is as imbalanced as its source (T-shirts 978,
    blouses 21), and a photo's label set is its class."""

    def __init__(self, photos: RealPhotos, params: FitParams, device: torch.device, generator: torch.Generator):
        keep = photos.allowed.any(axis=1)
        self.features = torch.from_numpy(photos.features[keep]).to(device)
        self.allowed = torch.from_numpy(photos.allowed[keep]).to(device)
        self.size, self.weight = min(params.real_items, len(self.features)), params.real_weight
        self.draw_weights = class_balanced_weights(photos.allowed[keep], params.balance)
        self.generator = generator

    def loss(self, head: FashionHead) -> torch.Tensor | None:
        if self.size == 0 or self.weight == 0:
            return None
        rows = torch.multinomial(self.draw_weights, self.size, replacement=True,
                                 generator=self.generator).to(self.features.device)
        shots = torch.randint(self.features.shape[1], (self.size,), generator=self.generator).to(rows.device)
        _, logits = head.project(self.features[rows, shots])
        return self.weight * set_loss(logits["category"], self.allowed[rows])


def label_matrix(products: Sequence[Product], vocabularies: dict[str, list[str]]) -> dict[str, np.ndarray]:
    """attribute → (N,) class index per product, -1 where the label is missing or left out of the head."""
    out = {}
    for attribute, labels in vocabularies.items():
        position = {label: index for index, label in enumerate(labels)}
        out[attribute] = np.array([position.get(PRODUCT_LABELS[attribute](p), -1) for p in products], np.int64)
    return out


class Objective(nn.Module):
    """The training loss: same-product triplets, Proxy-Anchor on categories, and each attribute's
    cross-entropy (rare and missing labels ignored). Shared by head training and fine-tuning."""

    def __init__(self, vocabularies: dict[str, list[str]], params: FitParams) -> None:
        super().__init__()
        cosine = distances.CosineSimilarity()
        self.params = params
        # Every triplet of the batch, averaged over those that violate the margin: a miner that keeps only
        # violating triplets would make the margin a constant offset, with no effect on the gradient.
        self.item_loss = losses.TripletMarginLoss(margin=params.margin, distance=cosine)
        self.category_loss = None
        if "category" in vocabularies and params.category_metric_weight > 0:
            self.category_loss = losses.ProxyAnchorLoss(len(vocabularies["category"]), params.proj_dim)
        self.classify = nn.CrossEntropyLoss(ignore_index=-1, label_smoothing=params.label_smoothing)

    def parameter_groups(self) -> list[dict]:
        if self.category_loss is None:
            return []
        # Proxies need a far larger step than the network (the library's own recommendation).
        return [{"params": list(self.category_loss.parameters()), "lr": self.params.lr * 50, "weight_decay": 0.0}]

    def forward(self, vectors: torch.Tensor, logits: dict[str, torch.Tensor], item_ids: torch.Tensor,
                labels: dict[str, torch.Tensor]) -> torch.Tensor:
        loss = self.item_loss(vectors, item_ids)
        if self.category_loss is not None:
            known = labels["category"] >= 0
            if known.any():
                loss = loss + self.params.category_metric_weight * self.category_loss(vectors[known],
                                                                                      labels["category"][known])
        for name, values in logits.items():
            if (labels[name] >= 0).any():
                loss = loss + ATTRIBUTE_WEIGHTS.get(name, 0.3) * self.classify(values, labels[name])
        return loss


def optimiser_for(modules: list[nn.Module], objective: Objective, params: FitParams,
                  extra_groups: Sequence[dict] = ()):
    """AdamW with a linear warm-up and a cosine decay over ``params.steps``."""
    groups = [{"params": [p for module in modules for p in module.parameters() if p.requires_grad]},
              *objective.parameter_groups(), *extra_groups]
    optimiser = torch.optim.AdamW(groups, lr=params.lr, weight_decay=params.weight_decay)
    warmup = max(params.steps // 20, 1)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: min((step + 1) / warmup, 0.5 * (1 + math.cos(math.pi * step / params.steps))))
    return optimiser, schedule


def fit_head(features: CachedFeatures, products: Sequence[Product], vocabularies: dict[str, list[str]],
             params: FitParams, *, device: str | torch.device = "cpu", progress: bool = False,
             real: RealPhotos | None = None) -> FashionHead:
    """Train a :class:`FashionHead` on ``features`` (one row per product, in ``products``' order) and, with
    ``real``, real photos' category sets."""
    if [p.id for p in products] != features.ids:
        raise ValueError("features and products must list the same items in the same order")
    if features.views.shape[1] < 1:
        raise ValueError("training needs at least one user-like view per item (ViewRecipe.views >= 1)")
    device = torch.device(device)
    generator = torch.Generator().manual_seed(params.seed)
    torch.manual_seed(params.seed)
    n_items, n_views, in_dim = features.views.shape
    views = torch.from_numpy(features.views).to(device)
    clean = torch.from_numpy(np.stack([features.clean, features.mirror], axis=1)).to(device)
    labels = {name: torch.from_numpy(values).to(device)
              for name, values in label_matrix(products, vocabularies).items()}
    sampling = sampling_weights(labels.get("category"), n_items, params.balance)

    head = FashionHead(HeadSpec(in_dim, params.width, params.proj_dim, vocabularies, params.dropout)).to(device)
    objective = Objective(vocabularies, params).to(device)
    optimiser, schedule = optimiser_for([head], objective, params)
    photos = RealPhotoBatches(real, params, device, generator) if real is not None and "category" in vocabularies \
        else None
    head.train()
    batch = min(params.batch_items, n_items)
    for step in tqdm(range(params.steps), desc="fit", disable=not progress, leave=False):
        items = torch.multinomial(sampling, batch, replacement=False, generator=generator).to(device)
        first = views[items, torch.randint(n_views, (batch,), generator=generator).to(device)]
        use_clean = (torch.rand(batch, generator=generator) < params.clean_share).to(device)
        other_view = views[items, torch.randint(n_views, (batch,), generator=generator).to(device)]
        catalog = clean[items, torch.randint(2, (batch,), generator=generator).to(device)]
        second = torch.where(use_clean[:, None], catalog, other_view)
        vectors, logits = head.project(torch.cat([first, second]))
        loss = pair_step(objective, optimiser, schedule, vectors, logits, items, labels,
                         photos.loss(head) if photos else None)
        if step % 200 == 0 or step == params.steps - 1:
            log.debug("step %d loss %.4f", step, loss.item())
    head.eval()
    return head.cpu()


def pair_step(objective: Objective, optimiser: torch.optim.Optimizer, schedule, vectors: torch.Tensor,
              logits: dict[str, torch.Tensor], items: torch.Tensor, labels: dict[str, torch.Tensor],
              extra: torch.Tensor | None = None) -> torch.Tensor:
    """One optimisation step on a batch of pairs: rows i and i+len(items) are two views of item i; ``extra``
    is another loss term of the same step (the real photos')."""
    pair_labels = {name: torch.cat([values[items]] * 2) for name, values in labels.items()}
    loss = objective(vectors, logits, torch.cat([items, items]), pair_labels)
    if extra is not None:
        loss = loss + extra
    optimiser.zero_grad(set_to_none=True)
    loss.backward()
    optimiser.step()
    schedule.step()
    return loss


def class_balanced_weights(labels: np.ndarray, balance: float) -> torch.Tensor:
    """Per-row drawing weight ∝ (rows with the same label, or label set: a row of a 2-D array)^-balance."""
    if len(labels) == 0:
        return torch.ones(0)
    _, inverse, counts = np.unique(labels, axis=0, return_inverse=True, return_counts=True)
    return torch.from_numpy(counts[np.ravel(inverse)].astype(np.float64) ** -balance).float()


def sampling_weights(categories: torch.Tensor | None, n_items: int, balance: float) -> torch.Tensor:
    """Per-item sampling weight ∝ (size of its category)^-balance; items without a category count as one class."""
    if categories is None:
        return torch.ones(n_items)
    return class_balanced_weights(categories.cpu().numpy(), balance)

