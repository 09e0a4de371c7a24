"""Fine-tuning the backbone's last stage together with the head, on user-like views rendered on the fly.

Meant for a GPU (the CPU path trains heads only, on the feature cache), but ``device`` is a parameter, so the
same code runs on the CPU in a tiny test. Only the last block group and the final convolution learn; the
rest of the network stays frozen, which keeps the tuned weights small enough to ship inside the artifact.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps
from torch import nn
from tqdm import tqdm

from catalog.product import Product
from engine.device import autocast_dtype
from engine.heads import FashionHead, HeadSpec

from .fit import FitParams, Objective, label_matrix, optimiser_for, pair_step, sampling_weights
from .views import user_view

log = logging.getLogger(__name__)


def trainable_tail(model: nn.Module, stages: int = 1) -> dict[str, nn.Module]:
    """The modules that fine-tuning trains, by their names in the model: the last ``stages`` block groups and
    the final convolution and norm (timm EfficientNet / MobileNet ``blocks``; ResNet ``layer4``)."""
    if hasattr(model, "blocks"):
        count = len(model.blocks)
        tail = {f"blocks.{i}": model.blocks[i] for i in range(count - stages, count)}
        tail.update({name: getattr(model, name) for name in ("conv_head", "bn2") if hasattr(model, name)})
        return tail
    if hasattr(model, "layer4"):
        return {"layer4": model.layer4}
    raise ValueError(f"don't know the last stage of {type(model).__name__}; fine-tune EfficientNet, MobileNet or "
                     f"ResNet backbones, or train heads only")


def tail_state(model: nn.Module, tail: dict[str, nn.Module]) -> dict[str, torch.Tensor]:
    """The tuned weights and buffers, named as in the whole model's state dict."""
    return {f"{prefix}.{key}": value.detach().cpu().clone()
            for prefix, module in tail.items() for key, value in module.state_dict().items()}


def finetune(model: nn.Module, preprocess, products: Sequence[Product], vocabularies: dict[str, list[str]],
             params: FitParams, *, device: str | torch.device = "cpu", stages: int = 1,
             progress: bool = False) -> tuple[FashionHead, dict[str, torch.Tensor]]:
    """Train the backbone's tail and a new head together; returns the head and the tail's state (CPU).

    ``model`` is a pooled-feature timm backbone (it is modified in place); ``preprocess`` maps a list of PIL
    images to a (N, 3, H, W) batch (``Engine.preprocess``). Each step renders one user-like view of every
    sampled item, paired with its catalog image (or a second view).
    """
    device = torch.device(device)
    rng = np.random.default_rng(params.seed)
    generator = torch.Generator().manual_seed(params.seed)
    torch.manual_seed(params.seed)
    model.to(device).eval()  # batch-norm statistics stay as they are: batches here are small
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    tail = trainable_tail(model, stages)
    for module in tail.values():
        for parameter in module.parameters():
            parameter.requires_grad_(True)
    head = FashionHead(HeadSpec(int(model.num_features), params.width, params.proj_dim, vocabularies,
                                params.dropout)).to(device)
    objective = Objective(vocabularies, params).to(device)
    # The pretrained tail moves ten times slower than the new head.
    tail_group = {"params": [p for module in tail.values() for p in module.parameters()], "lr": params.lr / 10}
    optimiser, schedule = optimiser_for([head], objective, params, [tail_group])
    labels = {name: torch.from_numpy(values).to(device)
              for name, values in label_matrix(products, vocabularies).items()}
    sampling = sampling_weights(labels.get("category"), len(products), params.balance)
    images = [_load(product) for product in products]
    dtype = autocast_dtype(device)
    batch = min(params.batch_items, len(products))

    head.train()
    for step in tqdm(range(params.steps), desc="fine-tune", disable=not progress, leave=False):
        items = torch.multinomial(sampling, batch, replacement=False, generator=generator)
        first, second = [], []
        for item in items.tolist():
            image = ImageOps.mirror(images[item]) if rng.random() < 0.5 else images[item]
            first.append(user_view(image, rng, "hard" if rng.random() < 0.5 else "easy"))
            second.append(images[item] if rng.random() < params.clean_share else user_view(image, rng, "easy"))
        pixels = preprocess(first + second).to(device).contiguous(memory_format=torch.channels_last)
        with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            features = model(pixels)
        vectors, logits = head.project(features.float())
        loss = pair_step(objective, optimiser, schedule, vectors, logits, items.to(device), labels)
        if step % 50 == 0 or step == params.steps - 1:
            log.info("fine-tune step %d/%d loss %.4f", step + 1, params.steps, loss.item())
    head.eval()
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return head.cpu(), tail_state(model, tail)


def _load(product: Product) -> Image.Image:
    with Image.open(Path(product.image_link)) as image:
        return image.convert("RGB")
