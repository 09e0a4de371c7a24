"""Training on a tiny subset: it beats off-the-shelf features on held-out views, and `train` writes an artifact."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine import Engine, EngineConfig
from engine.heads import HeadArtifact
from training.data import split, vocabularies
from training.evaluation import rank_catalog, retrieval_metrics
from training.fit import FitParams, class_balanced_weights, fit_head
from training.grid import Grid, Validation

pytestmark = pytest.mark.slow

TINY_PARAMS = FitParams(lr=2e-3, steps=150, batch_items=24, width=128, proj_dim=32, category_metric_weight=0.5,
                        seed=0)


def test_views_are_cached_once_and_reloaded(engine, tiny_features, tiny_catalog):
    from pathlib import Path

    from training.cache import compute_features

    features, recipe, root = tiny_features
    assert features.views.shape == (len(tiny_catalog), 3, 1280)
    again = compute_features(engine, {p.id: Path(p.image_link) for p in tiny_catalog[:5]}, recipe, root,
                             progress=False)
    assert np.array_equal(again.views, features.views[:5]) and np.array_equal(again.clean, features.clean[:5])
    assert not np.allclose(features.views[0, 0], features.clean[0])  # a view is not the catalog image


def test_training_beats_off_the_shelf_on_held_out_views(tiny_features, tiny_catalog):
    features, _, _ = tiny_features
    train, held_out = split(tiny_catalog, 0.34, seed=0)
    head = fit_head(features.subset([p.id for p in train]), train, vocabularies(train, 2), TINY_PARAMS)
    # Queries: views of the held-out items, never trained on; catalog: every item's clean image.
    validation = Validation.from_views(features, tiny_catalog, {p.id for p in held_out}, views=3)
    learned = validation.score(head, {"category": 0.3})

    def unit(x):
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    frozen = retrieval_metrics(validation.queries, rank_catalog(unit(validation.query_features),
                                                                unit(features.clean), tiny_catalog, 11))["val"]
    assert learned["type_acc"] >= 0.6
    assert learned["type_p@5"] >= frozen["type_p@5"] + 0.05, (learned, frozen)


def real_photo_set(folder: Path) -> Path:
    """The demo's user-like photos as a real-photo set with coarse labels, two photographers."""
    import csv
    import shutil

    real = folder / "real"
    (real / "images").mkdir(parents=True)
    coarse = {"Tshirts": "Tshirts|Tops", "Shirts": "Shirts", "Casual Shoes": "Casual Shoes|Sports Shoes",
              "Heels": "Heels|Flats", "Kurtas": "Kurtas", "Jeans": "Jeans|Trousers"}
    demo = Path(__file__).resolve().parents[2] / "demo"
    types = {row["id"]: row["article_type"] for row in csv.DictReader((demo / "catalog.csv").open())}
    with (real / "labels.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["image", "label", "sender_id", "article_types"])
        for number, photo in enumerate(sorted((demo / "photos").glob("*.jpg"))):
            kind = types[photo.stem.rsplit("-", 1)[-1]]
            shutil.copy(photo, real / "images" / photo.name)
            writer.writerow([photo.name, kind, number % 2, coarse.get(kind, kind)])
    return real


def test_train_writes_an_artifact_the_engine_loads(tmp_path, tiny_features, tiny_catalog):
    from catalog import write_feed_csv
    from training.trainer import TrainOptions, train

    _, recipe, root = tiny_features
    feed = tmp_path / "feed.csv"
    write_feed_csv(tiny_catalog, feed)
    options = TrainOptions(catalog=feed, out=tmp_path / "head.pt", device="cpu", holdout=0.2, validation=0.2,
                           min_count=2, recipe=recipe, cache_root=root,
                           grid=Grid(lr=(1e-3, 3e-3), weight_decay=(1e-2,), width=(64,), margin=(0.2,),
                                     category_metric_weight=(0.5,)),
                           base=FitParams(steps=40, batch_items=16, proj_dim=16, real_items=4),
                           real=real_photo_set(tmp_path), real_validation=0.3, real_shots=2, validation_photos=1,
                           finetune="off")
    report = train(options, progress=False)
    assert report.held_out == 6 and report.items == 30 and len(report.grid.trials) == 2
    artifact = HeadArtifact.load(report.artifact)
    assert artifact.sha256 == report.sha256 and artifact.training["held_out"]["count"] == 6
    assert set(artifact.training["rerank"]) <= {"category", "colour", "gender"}
    # Chosen on photos training never saw: the independent generator's and other photographers' real photos.
    assert artifact.training["query_framing"] == "centre+garment"
    assert artifact.training["real_photos"]["trained"] > 0 and artifact.training["real_photos"]["validation"] > 0
    assert "real_type_p@5" in artifact.training["validation"] and "plain backbone" in report.validation
    assert 0 < artifact.training["nothing_close"]["min_similarity"] < 1
    assert artifact.head.spec.vocabularies["category"] == sorted({p.extra["article_type"] for p in tiny_catalog})
    engine = Engine.load(EngineConfig(backbone="tf_efficientnet_lite0", device="cpu", artifact=report.artifact))
    assert engine.dim == artifact.head.spec.out_dim and engine.fingerprint_fields["head_sha256"] == report.sha256


def test_real_photos_are_drawn_with_the_items_class_balance():
    tshirt, blouse = [True, False, False], [False, True, False]
    pants_or_tshirt = [True, False, True]  # a coarse label that may mean either is a class of its own
    allowed = np.array([tshirt] * 9 + [blouse] + [pants_or_tshirt] * 4, bool)
    uniform = class_balanced_weights(allowed, 1.0).numpy()
    shares = [uniform[:9].sum(), uniform[9:10].sum(), uniform[10:].sum()]
    assert np.allclose(shares, shares[0])  # every label set drawn as often
    assert np.allclose(class_balanced_weights(allowed, 0.0).numpy(), 1.0)  # natural frequencies
    square_root = class_balanced_weights(allowed, 0.5).numpy()
    assert square_root[9] / square_root[0] == pytest.approx(3.0)  # 9 T-shirts vs 1 blouse: 1/√1 over 1/√9
    assert class_balanced_weights(np.zeros((0, 3), bool), 0.5).numel() == 0
