"""Real photo sets: coarse labels as category sets, splits by photographer, and the set loss."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch

from training.fit import set_loss
from training.real_photos import category_sets, load_evaluation_photos, load_training_photos, split_by_group


@pytest.fixture
def training_set(tmp_path):
    rows = [("a.jpg", "Pants", "1", "Trousers|Jeans|Track Pants"), ("b.jpg", "Blazer", "1", "Blazers"),
            ("c.jpg", "T-Shirt", "2", "Tshirts"), ("d.jpg", "Shoes", "3", "Casual Shoes|Heels"),
            ("e.jpg", "T-Shirt", "3", "Tshirts"), ("f.jpg", "Dress", "4", "Dresses")]
    with (tmp_path / "labels.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["image", "label", "sender_id", "article_types"])
        writer.writerows(rows)
    return tmp_path


def test_coarse_labels_become_category_sets_cut_to_what_the_head_knows(training_set):
    known = ["Tshirts", "Jeans", "Trousers", "Casual Shoes", "Dresses"]
    photos = load_training_photos(training_set, known)
    assert [p.path.name for p in photos] == ["a.jpg", "c.jpg", "d.jpg", "e.jpg", "f.jpg"]  # no blazers sold
    assert photos[0].categories == ("Trousers", "Jeans") and photos[2].categories == ("Casual Shoes",)
    allowed = category_sets(photos, known)
    assert allowed.tolist()[0] == [False, True, True, False, False]
    assert allowed.sum(axis=1).tolist() == [2, 1, 1, 1, 1]


def test_split_keeps_each_photographer_on_one_side_and_is_repeatable(training_set):
    photos = load_training_photos(training_set)
    train, validation = split_by_group(photos, 0.3, seed=0)
    assert {p.group for p in train}.isdisjoint({p.group for p in validation})
    assert len(train) + len(validation) == len(photos) and validation
    assert split_by_group(photos, 0.3, seed=0) == (train, validation)


def test_evaluation_labels_read_as_one_category(tmp_path):
    (tmp_path / "labels.csv").write_text("file,articleType,gender,baseColour,others\nr1.jpg,Heels,Women,Red,\n")
    [photo] = load_evaluation_photos(tmp_path)
    assert photo.categories == ("Heels",) and photo.gender == "Women" and photo.colour == "Red"
    assert photo.id == "real:r1.jpg"


def test_set_loss_is_zero_when_all_mass_is_inside_and_rewards_any_allowed_member():
    logits = torch.tensor([[10.0, 10.0, -10.0], [-10.0, 0.0, 10.0]])
    allowed = torch.tensor([[True, True, False], [True, True, False]])
    per_row = [set_loss(logits[i:i + 1], allowed[i:i + 1]).item() for i in range(2)]
    assert per_row[0] == pytest.approx(0.0, abs=1e-6) and per_row[1] > 9
    # Moving mass between two allowed labels changes nothing.
    assert set_loss(torch.tensor([[12.0, 8.0, -10.0]]), allowed[:1]).item() == pytest.approx(0.0, abs=1e-6)
    assert np.isclose(set_loss(logits, allowed).item(), np.mean(per_row))
