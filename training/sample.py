"""The shared fashion sample's labels (styles.csv): rows, catalog products, a stratified hold-out split."""

from __future__ import annotations

import csv
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

import numpy as np

from catalog.product import Product

logger = logging.getLogger(__name__)

# styles.csv column → StyleRow field; productDisplayName is last, and is where stray commas land.
COLUMNS = {
    "id": "id",
    "gender": "gender",
    "masterCategory": "master_category",
    "subCategory": "sub_category",
    "articleType": "article_type",
    "baseColour": "base_colour",
    "season": "season",
    "year": "year",
    "usage": "usage",
    "productDisplayName": "title",
}


@dataclass(frozen=True, slots=True)
class StyleRow:
    """One labelled product of the sample; blank fields are None (the title is "" when blank)."""

    id: str
    gender: str | None
    master_category: str | None
    sub_category: str | None
    article_type: str | None
    base_colour: str | None
    season: str | None
    year: int | None
    usage: str | None
    title: str


def load_styles(csv_path: str | Path) -> list[StyleRow]:
    """Read styles.csv, skipping (and logging) lines without a usable id or with the wrong shape."""
    with open(csv_path, newline="", encoding="utf-8-sig") as file:
        reader = csv.reader(file)
        header = [name.strip() for name in next(reader, [])]
        missing = [name for name in ("id", "productDisplayName") if name not in header]
        if missing:
            raise ValueError(f"{csv_path}: no column {', '.join(missing)} in header {header}")
        title_is_last = header[-1] == "productDisplayName"
        rows, seen = [], set()
        for values in reader:
            line = reader.line_num
            if not any(v.strip() for v in values):
                continue
            # The original Kaggle file has unquoted commas in some titles: they split the last column.
            if len(values) > len(header) and title_is_last:
                values = [*values[: len(header) - 1], ",".join(values[len(header) - 1 :])]
            if len(values) != len(header):
                logger.warning("%s line %d skipped: %d fields, expected %d", csv_path, line, len(values),
                               len(header))
                continue
            record = {COLUMNS[name]: value.strip() or None for name, value in zip(header, values, strict=True)
                      if name in COLUMNS}
            product_id = record.get("id") or ""
            if not product_id.isdigit() or product_id in seen:
                reason = "duplicate id" if product_id in seen else "bad id"
                logger.warning("%s line %d skipped: %s %r", csv_path, line, reason, product_id)
                continue
            seen.add(product_id)
            rows.append(StyleRow(
                id=product_id,
                gender=record.get("gender"),
                master_category=record.get("master_category"),
                sub_category=record.get("sub_category"),
                article_type=record.get("article_type"),
                base_colour=record.get("base_colour"),
                season=record.get("season"),
                year=_year(record.get("year")),
                usage=record.get("usage"),
                title=record.get("title") or "",
            ))
    return rows


def styles_to_products(
    rows: Sequence[StyleRow], images_dir: str | Path, link_template: str = "https://www.myntra.com/{id}"
) -> list[Product]:
    """Catalog products for rows whose image ``<images_dir>/<id>.jpg`` exists; others are logged."""
    images_dir = Path(images_dir).resolve()
    products = []
    for row in rows:
        image = images_dir / f"{row.id}.jpg"
        if not image.is_file():
            logger.warning("product %s skipped: no image at %s", row.id, image)
            continue
        path = [row.master_category, row.sub_category, row.article_type]
        extra = {"usage": row.usage, "season": row.season, "year": row.year, "article_type": row.article_type}
        products.append(Product(
            id=row.id,
            title=row.title,
            link=link_template.format(id=row.id),
            image_link=str(image),
            # The first word of a title is often not the brand ("Myntra Men's ..."), so none is given.
            brand=None,
            color=row.base_colour,
            gender=row.gender,
            age_group=age_group(row.gender),
            product_type=" > ".join(part for part in path if part) or None,
            extra={key: str(value) for key, value in extra.items() if value is not None},
        ))
    return products


def age_group(gender: str | None) -> str | None:
    """Merchant Center's age_group for the sample's gender labels (Boys and Girls are children's)."""
    if gender is None:
        return None
    return "kids" if gender in ("Boys", "Girls") else "adult"


class Stratified(Protocol):
    """What :func:`split_holdout` needs of a row: StyleRows, and the adapter that splits catalog products."""

    @property
    def id(self) -> str: ...

    @property
    def article_type(self) -> str | None: ...


RowT = TypeVar("RowT", bound=Stratified)


def split_holdout(rows: Sequence[RowT], fraction: float = 0.2, seed: int = 0) -> tuple[list[RowT], list[RowT]]:
    """(train, holdout): ``fraction`` of each article type held out, at least one item on each side for
    types with two or more items; the same rows and seed give the same split, in the rows' order."""
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must be between 0 and 1, got {fraction}")
    by_type: dict[str, list[RowT]] = defaultdict(list)
    for row in rows:
        by_type[row.article_type or ""].append(row)
    rng = np.random.default_rng(seed)
    held: set[str] = set()
    # Classes and their members in a fixed order, so the split doesn't depend on the file's order.
    for article_type in sorted(by_type):
        members = sorted(by_type[article_type], key=lambda row: _id_order(row.id))
        count = min(max(round(len(members) * fraction), 1), len(members) - 1)
        held.update(members[i].id for i in rng.permutation(len(members))[:count])
    return [row for row in rows if row.id not in held], [row for row in rows if row.id in held]


def _id_order(row_id: str) -> tuple[int, int, str]:
    # The sample's ids are numbers and keep their number order (and so their split); a shop's SKUs follow.
    return (0, int(row_id), "") if row_id.isdecimal() else (1, 0, row_id)


def _year(value: str | None) -> int | None:
    """The CSV's "2012.0" as 2012; None when blank or not a number."""
    try:
        return int(float(value)) if value else None
    except (ValueError, OverflowError):
        return None
