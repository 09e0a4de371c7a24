"""What runs is what was measured: ``auto`` is the packaged Lite0 with the shipped head whatever the network says,
and a configuration lacking the head says so (log and readiness); a first start reports its build's progress."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from engine import backbones
from engine.config import DEFAULT_ARTIFACT
from engine.heads import HeadArtifact
from recommender import CatalogRecommender, RecommenderSettings
from recommender.indexing import BuildProgress
from recommender.readiness import Phase, Readiness, configuration_warnings
from tests.auxil.bot_process import tiny_feed

LITE0 = "tf_efficientnet_lite0"
NO_HEAD_LITE0 = ('no trained head with tf_efficientnet_lite0: results are not re-ranked by predicted attributes, '
                 '/style guesses from the nearest products, unlike the README\'s figures; FASHIONBOT_ARTIFACT=auto '
                 'gives it the shipped head')
NO_HEAD_RESNET = ('no trained head with resnet50: results are not re-ranked by predicted attributes, /style guesses '
                  'from the nearest products, "nothing close" is never said, unlike the README\'s figures; the '
                  'shipped head fits tf_efficientnet_lite0 (FASHIONBOT_BACKBONE=auto); train one for resnet50 with '
                  '`fashionbot train`')


@pytest.mark.parametrize(("backbone", "head", "rerank", "floor", "expected"), [
    (LITE0, True, True, 0.41, []),  # the measured configuration
    (LITE0, False, False, 0.408, [NO_HEAD_LITE0]),  # FASHIONBOT_ARTIFACT=none: the plain floor still holds
    ("resnet50", False, False, None, [NO_HEAD_RESNET]),  # what `auto` used to pick on a connected machine
    (LITE0, True, False, 0.41, ["results are not re-ranked by predicted attributes (FASHIONBOT_RERANK is false, "
                                "or the head has no re-rank weights)"]),
    (LITE0, True, True, None, ['"nothing close" is never said: the head carries no calibrated floor '
                               "(set FASHIONBOT_MIN_SIMILARITY)"]),
])
def test_what_a_configuration_lacks_of_the_measured_one(backbone, head, rerank, floor, expected) -> None:
    assert configuration_warnings(backbone, head=head, rerank=rerank, floor=floor) == expected


def test_a_first_builds_progress_is_reported_while_it_builds() -> None:
    readiness = Readiness(phase=Phase.BUILDING)
    assert readiness.describe() == {"phase": "building"}  # waiting for another worker's build: no progress yet
    readiness.building(BuildProgress(done=3, total=8, items_per_s=2.04))
    assert readiness.describe() == {"phase": "building",
                                    "progress": {"done": 3, "total": 8, "percent": 37.5, "items_per_s": 2.0}}
    readiness.phase = Phase.READY
    assert readiness.ready and readiness.describe() == {"phase": "ready"}


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Defaults as a fresh install sees them, on a machine where the model hub answers."""
    for name in ("BACKBONE", "WEIGHTS", "ARTIFACT", "RERANK", "MIN_SIMILARITY", "QUERY_FRAMING", "REDIS_URL"):
        monkeypatch.delenv(f"FASHIONBOT_{name}", raising=False)

    def connected_hub(name: str, timeout_s: float) -> Path:
        raise AssertionError(f"auto asked the hub for {name}")

    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", False)
    monkeypatch.setattr(backbones, "_reachable", lambda url, timeout_s: True)
    monkeypatch.setattr(backbones, "_hub_weights_file", connected_hub)


class RecordedReadiness(Readiness):
    def __init__(self) -> None:
        super().__init__()
        self.updates: list[BuildProgress] = []

    def building(self, progress: BuildProgress) -> None:
        self.updates.append(progress)
        super().building(progress)


def said_about_heads(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if "trained head" in record.getMessage()]


def settings_for(tmp_path: Path, **overrides) -> RecommenderSettings:
    return RecommenderSettings(catalog=tiny_feed(tmp_path, count=6), index=tmp_path / "index", device="cpu",
                               batch_size=2, cache_dir=tmp_path / "cache", follow_builds_s=0, _env_file=None,
                               **overrides)


@pytest.mark.slow
async def test_the_default_is_lite0_with_the_shipped_head_even_when_the_hub_answers(
        clean_environment, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    readiness = RecordedReadiness()
    settings = settings_for(tmp_path)
    assert (settings.backbone, settings.artifact) == ("auto", "auto")
    with caplog.at_level(logging.WARNING, logger="recommender"):
        recommender = await CatalogRecommender.open(settings, readiness=readiness)
    try:
        engine = recommender.engine
        assert engine.backbone_name == LITE0
        assert engine.head is not None and engine.head.sha256 == HeadArtifact.load(DEFAULT_ARTIFACT).sha256
        assert recommender.rerank is not None
        assert recommender.min_similarity == engine.head.training["nothing_close"]["min_similarity"]
        assert readiness.model == {"backbone": LITE0, "head": "fashion-head-v3", "rerank": True,
                                   "min_similarity": recommender.min_similarity}
        assert readiness.warnings == [] and not said_about_heads(caplog)
        # the first build reported each batch of two images, up to all six
        assert [update.done for update in readiness.updates] == [2, 4, 6]
        assert {update.total for update in readiness.updates} == {6} and recommender.products_served == 6
    finally:
        await recommender.aclose()


@pytest.mark.slow
async def test_without_a_head_the_start_says_so(clean_environment, tmp_path: Path,
                                                caplog: pytest.LogCaptureFixture) -> None:
    readiness = Readiness()
    with caplog.at_level(logging.WARNING, logger="recommender"):
        recommender = await CatalogRecommender.open(settings_for(tmp_path, artifact="none"), readiness=readiness)
    await recommender.aclose()
    assert readiness.model == {"backbone": LITE0, "head": None, "rerank": False, "min_similarity": 0.408}
    assert readiness.warnings == [NO_HEAD_LITE0]
    assert said_about_heads(caplog) == [NO_HEAD_LITE0]
