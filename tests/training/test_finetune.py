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
from training.finetune import finetune, split_at_tail, trainable_tail
from training.fit import FitParams
from training.real_photos import RealPhoto

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("cache_frozen", [True, False], ids=["frozen-maps-cached", "whole-forward"])
def test_finetune_trains_only_the_tail_and_the_engine_loads_it(engine, tiny_catalog, tmp_path, cache_frozen):
    from PIL import Image

    products = tiny_catalog[::6] + tiny_catalog[1::6]  # 2 of each category
    model = create_backbone("tf_efficientnet_lite0").model
    before = {key: value.clone() for key, value in model.state_dict().items()}
    params = FitParams(steps=2, batch_items=4, width=32, proj_dim=16, lr=1e-2, real_items=2)
    head, tail = finetune(model, engine.data_config, products, vocabularies(products, 2), params, device="cpu",
                          framing=engine.framing, locator=engine.locator, views_per_item=2,
                          real_photos=[RealPhoto(Path(p.image_link), (p.extra["article_type"],)) for p in products[:3]],
                          real_shots=2, workers=1, cache_frozen=cache_frozen)

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


def test_the_tail_on_the_frozen_stages_is_the_whole_backbone():
    model = create_backbone("tf_efficientnet_lite0").model.eval()
    frozen, tail = split_at_tail(model)
    pixels = torch.randn(2, 3, 224, 224)
    with torch.inference_mode():
        maps = frozen(pixels)
        assert maps.shape == (2, 192, 7, 7)  # Lite0's input to its last block group
        assert torch.allclose(tail(maps), model(pixels), atol=1e-5)
    assert {name for name, _ in tail.named_parameters()} and all(
        parameter is dict(model.named_parameters())[f"blocks.6.{name[2:]}"]
        for name, parameter in tail.named_parameters() if name.startswith("0."))  # the model's own modules
    with pytest.raises(ValueError, match="EfficientNet or MobileNet"):
        split_at_tail(torch.nn.Linear(3, 3))
