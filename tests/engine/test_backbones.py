"""Backbone registry: packaged weights map strictly and see ImageNet things; offline never hangs."""

from __future__ import annotations

import socket
import time

import pytest
import timm
import torch
from PIL import Image

from engine import BackboneUnavailableError, create_backbone
from engine import backbones as registry
from engine.preprocess import build_transform, inference_data_config

# ImageNet-1k class indices (torchvision's ordering).
JERSEY, SWEATSHIRT, RUNNING_SHOE, SANDAL, LOAFER = 610, 841, 770, 774, 630


def imagenet_top5(image: Image.Image) -> list[int]:
    state_dict, _ = registry.PACKAGED_WEIGHTS["tf_efficientnet_lite0"]()
    model = timm.create_model("tf_efficientnet_lite0", pretrained=False)
    model.load_state_dict(state_dict, strict=True)
    model.eval()
    batch = build_transform(inference_data_config(model))(image)[None]
    with torch.inference_mode():
        return model(batch)[0].topk(5).indices.tolist()


def test_packaged_weights_give_sensible_imagenet_predictions(test_data):
    repo = test_data.parent.parent
    tshirt = Image.open(repo / "demo/images/1578.jpg").convert("RGB")  # Domyos red T-shirt
    shoe = Image.open(repo / "demo/images/1548.jpg").convert("RGB")  # Puma sneaker
    assert {JERSEY, SWEATSHIRT} & set(imagenet_top5(tshirt))
    assert {RUNNING_SHOE, SANDAL, LOAFER} & set(imagenet_top5(shoe))


def test_packaged_backbone_is_a_pooled_feature_extractor():
    backbone = create_backbone("tf_efficientnet_lite0")
    assert backbone.model.num_features == 1280
    assert "efficientnet-lite0" in backbone.weights_source
    with torch.inference_mode():
        assert backbone.model(torch.zeros(1, 3, 224, 224)).shape == (1, 1280)


def test_auto_is_the_packaged_lite0_even_when_the_hub_answers(monkeypatch):
    asked: list[str] = []

    def connected_hub(name, timeout_s):  # what a connected machine's hub would give: any model's weights
        asked.append(name)
        return registry._packaged_lite0()[1]

    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", False)
    monkeypatch.setattr(registry, "_reachable", lambda url, timeout_s: True)
    monkeypatch.setattr(registry, "_hub_weights_file", connected_hub)
    backbone = create_backbone("auto")
    assert backbone.name == "tf_efficientnet_lite0"
    assert "efficientnet-lite0" in backbone.weights_source
    assert asked == []  # the hub is never asked: auto means the measured configuration, online or not


def test_a_hub_model_is_opt_in_by_name(monkeypatch):
    asked: list[str] = []

    def offline_hub(name, timeout_s):
        asked.append(name)
        raise BackboneUnavailableError("the hub is unreachable")

    monkeypatch.setattr(registry, "_hub_weights_file", offline_hub)
    with pytest.raises(BackboneUnavailableError, match="unreachable"):
        create_backbone("resnet50")
    assert asked == ["resnet50"]


def test_unreachable_hub_is_detected_within_the_timeout(monkeypatch):
    def hang(*args, **kwargs):  # a black-holed DNS lookup or SYN, which gives up long after our timeout
        time.sleep(3)
        raise TimeoutError("timed out")

    monkeypatch.setattr(socket, "create_connection", hang)
    started = time.monotonic()
    assert registry._reachable("https://huggingface.co", timeout_s=0.5) is False
    assert time.monotonic() - started < 2


def test_hub_model_without_cache_or_network_says_what_to_do(monkeypatch):
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    monkeypatch.setattr("huggingface_hub.try_to_load_from_cache", lambda *a, **k: None)
    with pytest.raises(BackboneUnavailableError, match="FASHIONBOT_WEIGHTS"):
        create_backbone("resnet18")


def test_local_weights_file_and_unknown_names(tmp_path):
    model = timm.create_model("resnet18", pretrained=False)
    weights = tmp_path / "resnet18.pth"
    torch.save(model.state_dict(), weights)
    backbone = create_backbone("resnet18", weights=str(weights))
    assert backbone.model.num_features == 512
    assert str(weights) in backbone.weights_source
    with pytest.raises(BackboneUnavailableError, match="not a timm model"):
        create_backbone("no_such_model", weights="random")
    with pytest.raises(BackboneUnavailableError, match="does not exist"):
        create_backbone("resnet18", weights=str(tmp_path / "missing.pth"))
