"""A "person in an outfit" for the fake recommender: bands of colour, one per garment, and the garments' boxes
(``FakeRecommender.regions``), so each region's results are that band's colour."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

from .fakes import COLOURS

WIDTH = 60
# Garment, colour, height of its band, top to bottom; most prominent first is the fake's order (regions below).
BANDS = (("top", "red", 40), ("bottom", "blue", 50), ("shoes", "black", 30))


def outfit_regions() -> list[tuple[str, tuple[int, int, int, int]]]:
    """The garments' boxes (x0, y0, x1, y1), in the order the bands come."""
    boxes, y = [], 0
    for name, _, height in BANDS:
        boxes.append((name, (0, y, WIDTH, y + height)))
        y += height
    return boxes


def outfit_colour(name: str) -> str:
    return next(colour for garment, colour, _ in BANDS if garment == name)


def outfit_photo() -> bytes:
    """A JPEG of the bands (a 60 × 120 "person")."""
    image = Image.new("RGB", (WIDTH, sum(height for _, _, height in BANDS)))
    draw = ImageDraw.Draw(image)
    for name, (x0, y0, x1, y1) in outfit_regions():
        draw.rectangle((x0, y0, x1 - 1, y1 - 1), fill=COLOURS[outfit_colour(name)])
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=95)
    return buffer.getvalue()
