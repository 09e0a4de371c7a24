"""Fine-tuning the backbone's last stage together with the head, on user-like views and real photos.

Only the last block group and the final convolution learn; the rest of the network stays frozen, which keeps
the tuned weights small enough to ship inside the artifact. ``device`` is a parameter: on a GPU each step runs
the whole network; on the CPU the frozen stages run once over the pool and the tail trains on their cached feature
maps (:class:`MapPool`: a step is then the last stage's forward and backward, about 1 s for 240 views on two
cores, where the whole network's would be several).

Rendering a view costs far more than a training step, so a pool of views of every item is rendered once (worker
processes, a chunk of items at a time), framed as user photos are (``engine.framing``) and kept as uint8 tensors
on the device; each step draws from the pool and, on the GPU, mirrors at random.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageOps
from torch import nn
from tqdm import tqdm

from catalog.product import Product
from engine.device import autocast_dtype
from engine.framing import Framing, frame_view
from engine.garment import GarmentLocator
from engine.heads import FashionHead, HeadSpec

from .cache import shots_of
from .data import load_rgb
from .fit import (
    FitParams,
    Objective,
    class_balanced_weights,
    label_matrix,
    optimiser_for,
    pair_step,
    sampling_weights,
    set_loss,
)
from .parallel import render_all
from .real_photos import RealPhoto
from .views import user_view

log = logging.getLogger(__name__)


def trainable_tail(model: nn.Module, stages: int = 1) -> dict[str, nn.Module]:
    """The modules that fine-tuning trains, by their names in the model: the last ``stages`` block groups and
    the final convolution and norm (timm EfficientNet / MobileNet ``blocks``; ResNet ``layer4``)."""
    blocks, layer4 = getattr(model, "blocks", None), getattr(model, "layer4", None)
    if isinstance(blocks, nn.Sequential | nn.ModuleList):
        count = len(blocks)
        tail = {f"blocks.{i}": blocks[i] for i in range(count - stages, count)}
        tail.update({name: getattr(model, name) for name in ("conv_head", "bn2") if hasattr(model, name)})
        return tail
    if isinstance(layer4, nn.Module):
        return {"layer4": layer4}
    raise ValueError(f"don't know the last stage of {type(model).__name__}; fine-tune EfficientNet, MobileNet or "
                     f"ResNet backbones, or train heads only")


def tail_state(model: nn.Module, tail: dict[str, nn.Module]) -> dict[str, torch.Tensor]:
    """The tuned weights and buffers, named as in the whole model's state dict."""
    return {f"{prefix}.{key}": value.detach().cpu().clone()
            for prefix, module in tail.items() for key, value in module.state_dict().items()}


def squashed(images: Sequence[Image.Image], size: tuple[int, int]) -> np.ndarray:
    """Images squashed to ``size`` (height, width): (N, H, W, 3) uint8."""
    height, width = size
    if not images:
        return np.zeros((0, height, width, 3), np.uint8)
    return np.stack([np.asarray(image.convert("RGB").resize((width, height), Image.Resampling.BICUBIC))
                     for image in images])


def rendered_pixels(jobs: Sequence[tuple], work: Callable, framing: Framing, locator: GarmentLocator | None,
                    rng: np.random.Generator, size: tuple[int, int], workers: int | None,
                    chunk: int = 128) -> np.ndarray:
    """``work(*job)``'s images for every job (rendered views, real shots), framed and squashed to ``size``, a
    ``chunk`` of jobs at a time: only the small arrays are kept, never every full-size picture at once (thousands
    of real shots would not fit a 24 GB machine)."""
    parts = [squashed(framed([image for images in render_all(jobs[start:start + chunk], work, workers)
                              for image in images], framing, locator, rng), size)
             for start in range(0, len(jobs), chunk)]
    return np.concatenate(parts) if parts else squashed([], size)


class PixelPool:
    """Images as uint8 (N, 3, H, W) on the device, normalised per batch the model's way."""

    def __init__(self, arrays: np.ndarray, mean, std, device: torch.device):
        """``arrays``: (N, H, W, 3) uint8, as :func:`squashed` makes them."""
        self.pixels = torch.from_numpy(arrays).permute(0, 3, 1, 2).contiguous().to(device)
        self.mean = torch.tensor(mean, device=device).view(1, 3, 1, 1) * 255
        self.std = torch.tensor(std, device=device).view(1, 3, 1, 1) * 255

    def __len__(self) -> int:
        return len(self.pixels)

    def batch(self, rows: torch.Tensor, mirror: torch.Tensor | None = None) -> torch.Tensor:
        pixels = self.pixels[rows].float()
        if mirror is not None:
            pixels = torch.where(mirror.view(-1, 1, 1, 1), pixels.flip(3), pixels)
        return ((pixels - self.mean) / self.std).contiguous(memory_format=torch.channels_last)


def split_at_tail(model: nn.Module, stages: int = 1) -> tuple[nn.Module, nn.Module]:
    """(frozen, tail) with ``tail(frozen(pixels)) == model(pixels)``: the stages before the last ``stages`` block
    groups, and those groups with the final convolution, norm and pooling (timm EfficientNet / MobileNet)."""
    parts: Any = model
    blocks = getattr(parts, "blocks", None)
    if not isinstance(blocks, nn.Sequential | nn.ModuleList) or not hasattr(parts, "global_pool"):
        raise ValueError(f"caching the frozen stages needs an EfficientNet or MobileNet, not {type(model).__name__}")
    cut = len(blocks) - stages
    frozen = nn.Sequential(parts.conv_stem, parts.bn1, *list(blocks)[:cut])
    tail = nn.Sequential(*list(blocks)[cut:], parts.conv_head, parts.bn2, parts.global_pool)
    return frozen, tail


class MapPool:
    """A :class:`PixelPool` run once through the frozen stages: their feature maps (float16, on the device), what
    the tail trains on where the whole forward pass each step would cost too much (the CPU). The frozen stages hold
    most of the network's work and never change, so caching their output is the seeds' bottleneck recipe, one
    stage earlier."""

    def __init__(self, pool: PixelPool, frozen: nn.Module, chunk: int = 64) -> None:
        with torch.inference_mode():
            parts = [frozen(pool.batch(torch.arange(start, min(start + chunk, len(pool))).to(pool.pixels.device)))
                     .half() for start in range(0, len(pool), chunk)]
        self.maps = torch.cat(parts).clone() if parts else torch.zeros(0)

    def __len__(self) -> int:
        return len(self.maps)

    def batch(self, rows: torch.Tensor, mirror: torch.Tensor | None = None) -> torch.Tensor:
        # No mirroring here: a mirrored map is not the map of the mirrored image; views and real shots were
        # mirrored at random when they were rendered.
        return self.maps[rows].float()


Pool = PixelPool | MapPool


def _render_pool(path: str, views: int, seed: int) -> list[Image.Image]:
    rng, image = np.random.default_rng(seed), load_rgb(path)
    out = []
    for _ in range(views):
        shown = ImageOps.mirror(image) if rng.random() < 0.5 else image
        out.append(user_view(shown, rng, "hard" if rng.random() < 0.5 else "easy"))
    return out


def _shoot_photos(path: str, shots: int, seed: int) -> list[Image.Image]:
    return shots_of(RealPhoto(Path(path), ()).image(), shots, np.random.default_rng(seed))


def framed(images: Sequence[Image.Image], framing: Framing, locator: GarmentLocator | None,
           rng: np.random.Generator) -> list[Image.Image]:
    """Each image framed by one of the framing's views, chosen at random: what a user photo's views look like."""
    masks = locator.masks(images) if framing.needs_garment and locator is not None else [None] * len(images)
    return [frame_view(image, framing.views[int(rng.integers(len(framing.views)))], mask)
            for image, mask in zip(images, masks, strict=True)]


def finetune(model: nn.Module, data_config: dict, products: Sequence[Product], vocabularies: dict[str, list[str]],
             params: FitParams, *, device: str | torch.device = "cpu", stages: int = 1, progress: bool = False,
             framing: Framing | None = None, locator: GarmentLocator | None = None,
             views_per_item: int = 8, real_photos: Sequence = (), real_shots: int = 4,
             workers: int | None = None, cache_frozen: bool | None = None
             ) -> tuple[FashionHead, dict[str, torch.Tensor]]:
    """Train the backbone's tail and a new head together; returns the head and the tail's state (CPU).

    ``cache_frozen`` (default: on the CPU) runs every image through the frozen stages once and trains the tail on
    their cached feature maps (:class:`MapPool`), so a step costs the tail's forward and backward alone.

    ``model`` is a pooled-feature timm backbone (it is modified in place); ``data_config`` its data config
    (``Engine.data_config``: input size, mean, std; images are squashed to the input size). Each step pairs a pooled
    user-like view of every sampled item with its catalog image (or another view) and, with ``real_photos``
    (objects with ``.path`` and ``.categories``), adds a batch of real photos' category-set loss.
    """
    device = torch.device(device)
    framing = framing or Framing()
    rng = np.random.default_rng(params.seed)
    generator = torch.Generator().manual_seed(params.seed)
    torch.manual_seed(params.seed)
    model.to(device).eval()  # batch-norm statistics stay as they are: batches are drawn class-balanced
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    tail = trainable_tail(model, stages)
    for module in tail.values():
        for parameter in module.parameters():
            parameter.requires_grad_(True)
    feature_width = model.num_features
    assert isinstance(feature_width, int), "a timm backbone keeps its pooled width in num_features"
    head = FashionHead(HeadSpec(feature_width, params.width, params.proj_dim, vocabularies, params.dropout)).to(device)
    objective = Objective(vocabularies, params).to(device)
    # The pretrained tail moves ten times slower than the new head.
    tail_group = {"params": [p for module in tail.values() for p in module.parameters()], "lr": params.lr / 10}
    optimiser, schedule = optimiser_for([head], objective, params, [tail_group])
    labels = {name: torch.from_numpy(values).to(device)
              for name, values in label_matrix(products, vocabularies).items()}
    sampling = sampling_weights(labels.get("category"), len(products), params.balance)

    _, height, width = data_config["input_size"]
    size, mean, std = (int(height), int(width)), tuple(data_config["mean"]), tuple(data_config["std"])
    clean_pixels = PixelPool(squashed([load_rgb(product.image_link) for product in products], size), mean, std,
                             device)
    view_pixels = PixelPool(rendered_pixels([(product.image_link, views_per_item, params.seed * 100_003 + i)
                                             for i, product in enumerate(products)], _render_pool, framing, locator,
                                            rng, size, workers), mean, std, device)
    real_pixels = _real_pool(real_photos, vocabularies, real_shots, params, framing, locator, rng, workers, size,
                             mean, std, device)
    clean: Pool = clean_pixels
    views: Pool = view_pixels
    real: tuple[Pool, torch.Tensor] | None = real_pixels
    forward: nn.Module = model
    cache_frozen = device.type == "cpu" if cache_frozen is None else cache_frozen
    if cache_frozen:
        frozen, forward = split_at_tail(model, stages)
        clean, views = MapPool(clean_pixels, frozen), MapPool(view_pixels, frozen)
        real = (MapPool(real_pixels[0], frozen), real_pixels[1]) if real_pixels else None
        del clean_pixels, view_pixels, real_pixels  # the maps are a tenth of the pixels' size
        log.info("frozen stages' feature maps cached: %d images",
                 len(clean) + len(views) + (len(real[0]) if real else 0))
    log.info("fine-tuning on %d items (%d pooled views each) and %d real photos × %d shots", len(products),
             views_per_item, len(real[0]) // max(real_shots, 1) if real else 0, real_shots)
    dtype = autocast_dtype(device)
    batch = min(params.batch_items, len(products))
    real_draws = class_balanced_weights(real[1].cpu().numpy(), params.balance) if real else None

    head.train()
    for step in tqdm(range(params.steps), desc="fine-tune", disable=not progress, leave=False):
        items = torch.multinomial(sampling, batch, replacement=False, generator=generator)
        view_rows = items * views_per_item + torch.randint(views_per_item, (batch,), generator=generator)
        second_rows = items * views_per_item + torch.randint(views_per_item, (batch,), generator=generator)
        use_clean = torch.rand(batch, generator=generator) < params.clean_share
        mirror = torch.rand(2 * batch, generator=generator) < 0.5
        first = views.batch(view_rows.to(device), mirror[:batch].to(device))
        second = torch.where(use_clean.to(device).view(-1, 1, 1, 1), clean.batch(items.to(device)),
                             views.batch(second_rows.to(device), mirror[batch:].to(device)))
        pixels = torch.cat([first, second])
        photo_rows = None
        if real is not None and real_draws is not None:
            photo_rows = torch.multinomial(real_draws, min(params.real_items, len(real[0])), replacement=True,
                                           generator=generator)
            pixels = torch.cat([pixels, real[0].batch(photo_rows.to(device))])
        with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            features = forward(pixels.contiguous(memory_format=torch.channels_last))
        vectors, logits = head.project(features.float())
        extra = None
        if real is not None and photo_rows is not None:
            extra = params.real_weight * set_loss(logits["category"][2 * batch:], real[1][photo_rows.to(device)])
            vectors, logits = vectors[:2 * batch], {name: value[:2 * batch] for name, value in logits.items()}
        loss = pair_step(objective, optimiser, schedule, vectors, logits, items.to(device), labels, extra)
        if step % 100 == 0 or step == params.steps - 1:
            log.info("fine-tune step %d/%d loss %.4f", step + 1, params.steps, loss.item())
    head.eval()
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return head.cpu(), tail_state(model, tail)


def _real_pool(photos: Sequence, vocabularies: dict[str, list[str]], shots: int, params: FitParams,
               framing: Framing, locator: GarmentLocator | None, rng: np.random.Generator, workers: int | None,
               size, mean, std, device) -> tuple[PixelPool, torch.Tensor] | None:
    """Real photos' shots (framed) and, per shot, which categories it may show; None without any."""
    labels = vocabularies.get("category", [])
    position = {label: index for index, label in enumerate(labels)}
    usable = [photo for photo in photos if any(category in position for category in photo.categories)]
    if not usable or params.real_weight == 0:
        return None
    pixels = rendered_pixels([(str(photo.path), shots, params.seed * 7919 + i) for i, photo in enumerate(usable)],
                             _shoot_photos, framing, locator, rng, size, workers)
    allowed = torch.zeros((len(usable) * shots, len(labels)), dtype=torch.bool)
    for row, photo in enumerate(usable):
        for category in photo.categories:
            if category in position:
                allowed[row * shots:(row + 1) * shots, position[category]] = True
    return PixelPool(pixels, mean, std, device), allowed.to(device)
