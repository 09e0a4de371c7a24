"""Head artifacts: round trip, refusal on another backbone or format, and the engine's use of them."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine import Engine, EngineConfig
from engine.heads import ARTIFACT_FORMAT, FashionHead, HeadArtifact, HeadArtifactError, HeadSpec

VOCAB = {"category": ["Jeans", "Shirts", "Tshirts"], "colour": ["Blue", "Red"], "gender": ["Men", "Women"]}


def make_artifact(backbone_fingerprint: str = "f" * 16, in_dim: int = 1280, seed: int = 0) -> HeadArtifact:
    torch.manual_seed(seed)
    head = FashionHead(HeadSpec(in_dim=in_dim, width=32, proj_dim=16, vocabularies=VOCAB)).eval()
    return HeadArtifact(head, "tf_efficientnet_lite0", backbone_fingerprint, "1", {"rerank": {"category": 0.2}})


def test_artifact_round_trip(tmp_path):
    artifact = make_artifact(in_dim=24)
    sha = artifact.save(tmp_path / "head.pt")
    loaded = HeadArtifact.load(tmp_path / "head.pt", "f" * 16)
    assert loaded.sha256 == sha and len(sha) == 64
    assert loaded.head.spec == artifact.head.spec and loaded.training == {"rerank": {"category": 0.2}}
    features = np.random.default_rng(0).normal(size=(5, 24)).astype(np.float32)
    vectors, probabilities = loaded.head.infer(features)
    expected, _ = artifact.head.infer(features)
    assert vectors.shape == (5, 16)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert np.allclose(vectors, expected, atol=5e-3)  # weights are stored in fp16
    assert set(probabilities) == set(VOCAB) and np.allclose(probabilities["category"].sum(axis=1), 1)


def test_artifact_refuses_another_backbone_and_format(tmp_path):
    path = tmp_path / "head.pt"
    make_artifact().save(path)
    with pytest.raises(HeadArtifactError, match="trained on backbone tf_efficientnet_lite0"):
        HeadArtifact.load(path, "0" * 16)
    payload = torch.load(path, weights_only=True)
    payload["format"] = ARTIFACT_FORMAT + 1
    torch.save(payload, path)
    with pytest.raises(HeadArtifactError, match="format"):
        HeadArtifact.load(path)
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(HeadArtifactError, match="not a readable"):
        HeadArtifact.load(tmp_path / "junk.pt")


@pytest.mark.slow
def test_engine_embeds_with_the_head_and_its_fingerprint_follows_the_artifact(engine, tmp_path, monkeypatch):
    from PIL import Image

    first, second = tmp_path / "a.pt", tmp_path / "b.pt"
    make_artifact(engine.backbone_fingerprint, seed=0).save(first)
    make_artifact(engine.backbone_fingerprint, seed=1).save(second)
    config = EngineConfig(backbone="tf_efficientnet_lite0", device="cpu")
    with_first = Engine.load(EngineConfig(**{**vars(config), "artifact": first}))
    with_second = Engine.load(EngineConfig(**{**vars(config), "artifact": second}))
    assert with_first.backbone_fingerprint == engine.backbone_fingerprint
    assert len({engine.fingerprint, with_first.fingerprint, with_second.fingerprint}) == 3
    assert with_first.fingerprint_fields["head_sha256"] == with_first.head.sha256
    assert with_first.dim == 16

    images = [Image.new("RGB", (64, 80), colour) for colour in ("red", "navy")]
    vectors = with_first.embed(images)
    assert vectors.shape == (2, 16) and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    batch_vectors, attributes = with_first.embed_with_attributes(with_first.preprocess(images))
    assert np.allclose(batch_vectors, vectors, atol=1e-5)
    label, confidence = attributes[0].top("category")
    assert label in VOCAB["category"] and 0 < confidence <= 1
    assert [a.top("gender") for a in with_first.attributes(images)] == [a.top("gender") for a in attributes]
    with pytest.raises(RuntimeError, match="no trained head"):
        engine.attributes(images)

    # Another backbone's head: an explicit path is refused, "auto" quietly embeds without it.
    foreign = tmp_path / "foreign.pt"
    make_artifact("0" * 16).save(foreign)
    with pytest.raises(HeadArtifactError, match="not on the loaded one"):
        Engine.load(EngineConfig(**{**vars(config), "artifact": foreign}))
    import engine.embed as embed_module

    monkeypatch.setattr(embed_module, "DEFAULT_ARTIFACT", foreign)
    assert Engine.load(EngineConfig(**{**vars(config), "artifact": "auto"})).head is None
    monkeypatch.setattr(embed_module, "DEFAULT_ARTIFACT", first)
    assert Engine.load(EngineConfig(**{**vars(config), "artifact": "auto"})).fingerprint == with_first.fingerprint
