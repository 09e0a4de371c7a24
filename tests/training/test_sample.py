"""The sample's labels: tolerant CSV loading, products built from rows, a stratified split."""

from __future__ import annotations

import csv
import logging
import random
from collections import Counter
from dataclasses import astuple
from pathlib import Path

import pytest
from PIL import Image

from catalog.product import Product
from training.data import split
from training.sample import StyleRow, load_styles, split_holdout, styles_to_products

DEMO = Path(__file__).resolve().parents[2] / "demo"

STYLES_CSV = """\
id,gender,masterCategory,subCategory,articleType,baseColour,season,year,usage,productDisplayName
1546,Men,Footwear,Shoes,Casual Shoes,White,Fall,2010.0,Casual,Puma Men's Furore White Shoe
15970,Boys,Apparel,Topwear,Shirts,Navy Blue,,2011.0,Casual,"Turtle Check Men Navy Blue, White Shirt, Slim"
39386,Women,Apparel,Bottomwear,Jeans,Blue,Summer,2012.0,,Peter England Women Party Blue Jeans, Skinny
59263,Women,Accessories,Watches,Watches,Silver
not-an-id,Men,Apparel,Topwear,Tshirts,Red,Fall,2011.0,Casual,Broken Row

21379,Men,Apparel,Bottomwear,Track Pants,Black,Fall,,Casual,
1546,Men,Footwear,Shoes,Casual Shoes,White,Fall,2010.0,Casual,A Duplicate
"""


@pytest.fixture
def styles_csv(tmp_path: Path) -> Path:
    path = tmp_path / "styles.csv"
    path.write_text(STYLES_CSV, encoding="utf-8")
    return path


def test_load_styles_reads_fields_and_tolerates_blanks_commas_and_bad_lines(styles_csv, caplog):
    with caplog.at_level(logging.WARNING):
        rows = load_styles(styles_csv)
    assert [row.id for row in rows] == ["1546", "15970", "39386", "21379"]
    assert rows[0] == StyleRow(
        id="1546", gender="Men", master_category="Footwear", sub_category="Shoes",
        article_type="Casual Shoes", base_colour="White", season="Fall", year=2010, usage="Casual",
        title="Puma Men's Furore White Shoe",
    )
    assert rows[1].title == "Turtle Check Men Navy Blue, White Shirt, Slim"  # quoted commas
    assert rows[1].season is None
    assert rows[2].title == "Peter England Women Party Blue Jeans, Skinny"  # unquoted comma, last column
    assert rows[2].usage is None
    assert (rows[3].year, rows[3].title) == (None, "")
    skipped = [record.getMessage() for record in caplog.records]
    assert any("line 5" in message and "fields" in message for message in skipped)
    assert any("bad id 'not-an-id'" in message for message in skipped)
    assert any("duplicate id '1546'" in message for message in skipped)


def test_load_styles_names_missing_columns(tmp_path):
    path = tmp_path / "styles.csv"
    path.write_text("id,gender\n1,Men\n", encoding="utf-8")
    with pytest.raises(ValueError, match="productDisplayName"):
        load_styles(path)


def test_styles_to_products_builds_catalog_products_and_skips_missing_images(styles_csv, tmp_path, caplog):
    images = tmp_path / "images"
    images.mkdir()
    for product_id in ("1546", "15970", "21379"):
        Image.new("RGB", (6, 8), "white").save(images / f"{product_id}.jpg")
    with caplog.at_level(logging.WARNING):
        products = styles_to_products(load_styles(styles_csv), images, link_template="https://shop/p/{id}")

    assert [product.id for product in products] == ["1546", "15970", "21379"]
    assert any("39386" in record.getMessage() for record in caplog.records)
    shoe, shirt, pants = products
    assert shoe.title == "Puma Men's Furore White Shoe"
    assert shoe.link == "https://shop/p/1546"
    assert shoe.image_link == str((images / "1546.jpg").resolve())
    assert Path(shoe.image_link).is_absolute() and not shoe.image_is_remote
    assert (shoe.color, shoe.gender, shoe.brand, shoe.age_group) == ("White", "Men", None, "adult")
    assert shoe.product_type == "Footwear > Shoes > Casual Shoes"
    assert shoe.extra == {"usage": "Casual", "season": "Fall", "year": "2010", "article_type": "Casual Shoes"}
    assert shirt.age_group == "kids"
    assert "season" not in shirt.extra  # blank labels are left out, not ""
    assert pants.extra == {"usage": "Casual", "season": "Fall", "article_type": "Track Pants"}


def rows_of(sizes: dict[str, int]) -> list[StyleRow]:
    rows, next_id = [], 1000
    for article_type, count in sizes.items():
        for _ in range(count):
            rows.append(StyleRow(str(next_id), "Men", "Apparel", "Topwear", article_type, "Red", None, None,
                                 None, f"{article_type} {next_id}"))
            next_id += 1
    return rows


def test_split_is_stratified_with_both_sides_for_every_class_of_two_or_more():
    rows = rows_of({"Tshirts": 50, "Shirts": 10, "Heels": 3, "Ties": 2, "Waistcoat": 1})
    train, holdout = split_holdout(rows, fraction=0.2, seed=0)
    assert sorted(row.id for row in train + holdout) == sorted(row.id for row in rows)
    assert not {row.id for row in train} & {row.id for row in holdout}
    held = Counter(row.article_type for row in holdout)
    kept = Counter(row.article_type for row in train)
    assert held == {"Tshirts": 10, "Shirts": 2, "Heels": 1, "Ties": 1}
    assert kept == {"Tshirts": 40, "Shirts": 8, "Heels": 2, "Ties": 1, "Waistcoat": 1}


def test_split_is_deterministic_whatever_the_row_order():
    rows = rows_of({"Tshirts": 30, "Kurtas": 12, "Flats": 4})
    shuffled = random.Random(5).sample(rows, len(rows))
    train, holdout = split_holdout(rows, seed=7)
    assert (train, holdout) == split_holdout(rows, seed=7)
    assert {row.id for row in holdout} == {row.id for row in split_holdout(shuffled, seed=7)[1]}
    assert {row.id for row in holdout} != {row.id for row in split_holdout(rows, seed=8)[1]}
    assert [row.id for row in train] == [row.id for row in rows if row not in holdout]  # input order kept


def test_split_takes_a_shops_catalog_whose_ids_are_not_numbers():
    # A feed's ids are SKUs ("sku-7"), not the sample's numbers; the split used to sort them as integers.
    products = [Product(id=f"sku-{n}", title="T", link="https://s.example/p", image_link="/p.jpg",
                        product_type=kind) for n, kind in enumerate(["Shirts"] * 6 + ["Heels"] * 3)]
    train, held = split(products, 0.34, seed=0)
    assert Counter(p.product_type for p in held) == {"Shirts": 2, "Heels": 1}
    assert sorted(p.id for p in train + held) == sorted(p.id for p in products)
    assert [p.id for p in held] == [p.id for p in split(products[::-1], 0.34, seed=0)[1][::-1]]


def test_split_keeps_numeric_ids_in_number_order():
    # "10" sorts before "9" as text; the sample's split is defined on number order, so it must not change.
    rows = rows_of({"Tshirts": 12})
    renumbered = [StyleRow(str(n), *astuple(row)[1:]) for n, row in zip(range(5, 17), rows, strict=True)]
    held_ids = {row.id for row in split_holdout(renumbered, seed=3)[1]}
    by_position = {rows[int(row_id) - 5].id for row_id in held_ids}
    assert by_position == {row.id for row in split_holdout(rows, seed=3)[1]}


@pytest.mark.parametrize("fraction", [0, 1, -0.5, 1.5])
def test_split_rejects_a_fraction_outside_zero_one(fraction):
    with pytest.raises(ValueError, match=str(fraction)):
        split_holdout(rows_of({"Tshirts": 4}), fraction=fraction)


def test_the_committed_demo_catalog_is_complete():
    with open(DEMO / "catalog.csv", newline="", encoding="utf-8") as file:
        reader = csv.DictReader(file)
        rows = list(reader)
    assert reader.fieldnames[:4] == ["id", "title", "link", "image_link"]
    assert len(rows) == 808
    assert all((DEMO / row["image_link"]).is_file() for row in rows)
    assert len(list((DEMO / "photos").glob("*.jpg"))) == 8
