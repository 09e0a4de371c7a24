"""Fine-tuning the backbone's last stage: the GPU path, run tiny on the CPU (device is a parameter)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from engine import Engine, EngineConfig
from engine.backbones import create_backbone
from engine.heads import HeadArtifact
from training.data import vocabularies
from training.finetune import finetune, trainable_tail
from training.fit import FitParams
from training.real_photos import RealPhoto

pytestmark = pytest.mark.slow


def test_finetune_trains_only_the_tail_and_the_engine_loads_it(engine, tiny_catalog, tmp_path):
    from PIL import Image

    products = tiny_catalog[::6] + tiny_catalog[1::6]  # 2 of each category
    model = create_backbone("tf_efficientnet_lite0").model
    before = {key: value.clone() for key, value in model.state_dict().items()}
    params = FitParams(steps=2, batch_items=4, width=32, proj_dim=16, lr=1e-2, real_items=2)
    head, tail = finetune(model, engine.data_config, products, vocabularies(products, 2), params, device="cpu",
                          framing=engine.framing, locator=engine.locator, views_per_item=2,
                          real_photos=[RealPhoto(Path(p.image_link), (p.extra["article_type"],)) for p in products[:3]],
                          real_shots=2, workers=1)

    assert set(trainable_tail(model)) == {"blocks.6", "conv_head", "bn2"}
    changed = {key for key, value in model.state_dict().items() if not torch.equal(value, before[key])}
    assert changed and all(key.startswith(("blocks.6.", "conv_head.", "bn2.")) for key in changed)
    assert changed <= set(tail)

    path = tmp_path / "tuned.pt"
    HeadArtifact(head, "tf_efficientnet_lite0", engine.backbone_fingerprint, "1", {}, backbone_state=tail).save(path)
    tuned = Engine.load(EngineConfig(backbone="tf_efficientnet_lite0", device="cpu", artifact=path))
    assert HeadArtifact.load(path).backbone_state.keys() == tail.keys()
    assert tuned.features_fingerprint != engine.features_fingerprint
    image = [Image.new("RGB", (64, 80), "teal")]
    base = engine.backbone_features(engine.preprocess(image)).numpy()
    after = tuned.backbone_features(tuned.preprocess(image)).numpy()
    assert not np.allclose(base, after, atol=1e-3)
