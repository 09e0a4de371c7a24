"""Write the committed demo catalog (demo/) from the shared fashion sample.

Run from the repository root: ``python -m scripts.make_demo_catalog [SAMPLE_DIR] [--out demo]``.
"""

from __future__ import annotations

import argparse
import csv
import logging
import shutil
from pathlib import Path

import numpy as np
from PIL import Image

from catalog.product import Product
from training.sample import load_styles, styles_to_products
from training.views import user_view_jpeg

logger = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[1]
HEADER = [
    "id", "title", "link", "image_link", "price", "brand", "color", "gender", "age_group", "product_type",
    "google_product_category", "availability", "usage", "season", "year", "article_type",
]
EXTRA_COLUMNS = ["usage", "season", "year", "article_type"]
# Google's product taxonomy, by the sample's masterCategory; other categories are left blank.
GOOGLE_CATEGORIES = {
    "Apparel": "Apparel & Accessories > Clothing",
    "Footwear": "Apparel & Accessories > Shoes",
}
# Example user photos: (file name prefix, product id, preset), one per common kind of product.
PHOTOS = [
    ("tshirt", "1882", "easy"),
    ("shirt", "8180", "hard"),
    ("kurta", "12138", "easy"),
    ("casual-shoes", "2831", "hard"),
    ("sports-shoes", "4156", "easy"),
    ("heels", "17662", "hard"),
    ("dress", "37936", "easy"),
    ("flip-flops", "10741", "hard"),
]
PHOTO_SIZE = 480
SEED = 2024


def catalog_row(product: Product) -> dict[str, str]:
    """A Merchant Center-style CSV row; the image path is relative to the CSV."""
    return {
        "id": product.id,
        "title": product.title,
        "link": product.link,
        "image_link": f"images/{product.id}.jpg",
        "price": "",  # the sample has no prices
        "brand": product.brand or "",
        "color": product.color or "",
        "gender": product.gender or "",
        "age_group": product.age_group or "",
        "product_type": product.product_type or "",
        "google_product_category": GOOGLE_CATEGORIES.get((product.product_type or "").split(" > ")[0], ""),
        "availability": "in stock",
        **{column: product.extra.get(column, "") for column in EXTRA_COLUMNS},
    }


def write_catalog(products: list[Product], out_dir: Path) -> None:
    """demo/images/<id>.jpg (byte-for-byte copies) and demo/catalog.csv."""
    images = out_dir / "images"
    shutil.rmtree(images, ignore_errors=True)
    images.mkdir(parents=True)
    for product in products:
        shutil.copyfile(product.image_link, images / f"{product.id}.jpg")
    with open(out_dir / "catalog.csv", "w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=HEADER)
        writer.writeheader()
        writer.writerows(catalog_row(product) for product in products)


def write_photos(products: list[Product], out_dir: Path) -> None:
    """demo/photos/: user-like photos of a few products, and a README saying which is which."""
    photos = out_dir / "photos"
    shutil.rmtree(photos, ignore_errors=True)
    photos.mkdir(parents=True)
    by_id = {product.id: product for product in products}
    lines = [
        "# Example user photos",
        "",
        "Written by `scripts/make_demo_catalog.py` with `training.views`; each shows one demo product:",
        "",
    ]
    for prefix, product_id, preset in PHOTOS:
        product = by_id[product_id]
        # One generator per photo, so editing the list leaves the other photos as they were.
        rng = np.random.default_rng([SEED, int(product_id)])
        with Image.open(product.image_link) as image:
            data = user_view_jpeg(image, rng, preset, size=PHOTO_SIZE)
        name = f"{prefix}-{product_id}.jpg"
        (photos / name).write_bytes(data)
        lines.append(f"- `{name}` ({preset}): product {product_id}, {product.title} ({product.product_type})")
    (photos / "README.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sample_dir", nargs="?", type=Path, default=REPO.parent / "shared" / "fashion-sample",
                        help="folder with styles.csv and images/ (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=REPO / "demo",
                        help="output folder (default: %(default)s)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    rows = load_styles(args.sample_dir / "styles.csv")
    products = styles_to_products(rows, args.sample_dir / "images")
    write_catalog(products, args.out)
    write_photos(products, args.out)
    logger.info("wrote %d products and %d photos to %s", len(products), len(PHOTOS), args.out)


if __name__ == "__main__":
    main()
