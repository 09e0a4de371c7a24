"""User-like "phone photos" of catalog images, for evaluation queries, training views and the demo."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Literal

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter

from engine.pixels import border_connected

Preset = Literal["easy", "hard"]


@dataclass(frozen=True)
class _Params:
    size: tuple[int, int]  # long side of the output, px (the photo is 3:4)
    scale: tuple[float, float]  # product's fitted size as a fraction of the frame
    partial: float  # chance that the view is partial ...
    cut: tuple[float, float]  # ... with this fraction of the product past the frame's edge
    rotate: float  # max degrees either way
    warp: float  # max corner shift as a fraction of the product's size (perspective)
    shapes: int  # clutter drawn on the backdrop
    light: float  # max exposure / contrast / lighting-gradient deviation
    cast: float  # max per-channel gain deviation (white balance, colour cast)
    blur: tuple[float, float]  # Gaussian radius, output px
    noise: tuple[float, float]  # sensor noise sigma, 0-255 scale
    quality: tuple[int, int]  # JPEG quality


PRESETS: dict[str, _Params] = {
    "easy": _Params(
        size=(480, 480), scale=(0.65, 0.9), partial=0.3, cut=(0.0, 0.06), rotate=8, warp=0.03, shapes=0,
        light=0.12, cast=0.05, blur=(0.0, 0.0), noise=(0.0, 0.0), quality=(70, 95),
    ),
    "hard": _Params(
        size=(320, 480), scale=(0.8, 1.0), partial=0.9, cut=(0.05, 0.3), rotate=18, warp=0.12, shapes=14,
        light=0.25, cast=0.18, blur=(0.6, 2.0), noise=(3.0, 9.0), quality=(45, 70),
    ),
}

# Bigger inputs are shrunk first so the cut-out stays cheap; the output is at most ~500 px anyway.
_MAX_SOURCE_SIDE = 256
# A pixel this close to the border's typical colour (0-255 scale, widened for uneven backgrounds) and
# connected to the border is background. Off-white garments sit 5-25 away from a white background.
_BG_TOLERANCE = 6.0
_BG_MAX_SPREAD = 20.0


def user_view(
    image: Image.Image, rng: np.random.Generator, preset: Preset = "easy", size: int | None = None
) -> Image.Image:
    """A phone-like RGB photo of the product in ``image``, ``size`` px on its long side (default: the
    preset's range). The same ``rng`` state gives the same photo, JPEG artefacts included."""
    with Image.open(io.BytesIO(user_view_jpeg(image, rng, preset, size))) as photo:
        return photo.convert("RGB")


def user_view_jpeg(
    image: Image.Image, rng: np.random.Generator, preset: Preset = "easy", size: int | None = None
) -> bytes:
    """Like :func:`user_view`, as the JPEG bytes a chat app would upload."""
    if preset not in PRESETS:
        raise ValueError(f"preset must be one of {sorted(PRESETS)}, got {preset!r}")
    if size is not None and size < 32:
        raise ValueError(f"size must be at least 32 px, got {size}")
    p = PRESETS[preset]
    product = _cut_out(image)
    long_side = size or int(rng.integers(p.size[0], p.size[1] + 1))
    # People turn the phone to fit what they shoot: landscape for a shoe, portrait for a dress.
    short_side = round(long_side * 3 / 4)
    width, height = (short_side, long_side) if product.height >= product.width else (long_side, short_side)
    # The product has thumbnail detail only, so composing at half the output size loses nothing and
    # costs a quarter; sensor noise is added at full size.
    work = (width // 2, height // 2)

    scene = _backdrop(rng, work, p.shapes)
    corners = _placement(rng, p, product.size, work)
    layer = product.transform(
        work, Image.Transform.PERSPECTIVE, _homography(corners, product.size), Image.Resampling.BICUBIC
    )
    alpha = layer.getchannel("A")
    # A soft contact shadow is what makes a pasted cut-out read as an object lying in the scene.
    shadow = Image.new("L", work)
    dx, dy = (int(v) for v in rng.integers(-3, 6, size=2))
    shadow.paste(alpha.point(lambda v: v * 0.45), (dx, dy))
    scene.paste((0, 0, 0), mask=shadow.filter(ImageFilter.GaussianBlur(max(work) / 40)))
    scene.paste(layer, mask=alpha)

    photo = _camera(rng, p, scene, (width, height))
    out = io.BytesIO()
    photo.save(out, "JPEG", quality=int(rng.integers(p.quality[0], p.quality[1] + 1)))
    return out.getvalue()


def _cut_out(image: Image.Image) -> Image.Image:
    """The product as RGBA, cropped to itself, its studio background transparent with soft edges."""
    image = image.convert("RGBA")
    image.thumbnail((_MAX_SOURCE_SIDE, _MAX_SOURCE_SIDE))
    rgba = np.asarray(image, dtype=np.float32)
    # Transparent pixels of an RGBA input count as white, like the catalog's backgrounds.
    given = rgba[..., 3] / 255
    rgb = rgba[..., :3] * given[..., None] + 255 * (1 - given[..., None])
    # The background is whatever colour the border mostly has (white; now and then light grey). A
    # border far from uniform means there is no studio background to remove.
    border = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]])
    reference = np.median(border, axis=0)
    spread = np.percentile(np.abs(border - reference).max(axis=-1), 75)
    tolerance = _BG_TOLERANCE + 3 * spread
    distance = np.abs(rgb - reference).max(axis=-1)
    near = (distance < tolerance) & (spread < _BG_MAX_SPREAD)
    # Only background reachable from the border is cut: a white T-shirt's body, enclosed by its
    # shaded outline, stays opaque where a plain threshold would punch a hole in it.
    bg = border_connected(near)
    if bg.all():  # nothing but background: keep the whole picture rather than nothing
        bg[:] = False
    # Alpha ramps up with distance inside the background so anti-aliased edges fade out.
    alpha = np.where(bg, np.clip(2 * distance / tolerance - 1, 0, 1), 1.0) * given
    # Peeling off the outermost pixel removes the light JPEG fringe that would outline the cut-out.
    mask = Image.fromarray((alpha * 255).astype(np.uint8)).filter(ImageFilter.MinFilter(3))
    image.putalpha(mask.filter(ImageFilter.SMOOTH))
    box = mask.point(lambda v: 255 if v > 64 else 0).getbbox()
    return image.crop(box) if box else image


def _backdrop(rng: np.random.Generator, size: tuple[int, int], shapes: int) -> Image.Image:
    """A surface to lay the product on: a muted, blotchy texture, plus clutter when ``shapes``."""
    width, height = size
    # Walls, floors and bedspreads: a grey level with a slight tint.
    base = rng.uniform(70, 230) + rng.normal(0, 20, size=3)
    # Low-resolution noise, upscaled, gives uneven blotches and a grain like fabric or a table top.
    coarse = base + rng.normal(0, 14, size=(4, 3, 1)) + rng.normal(0, 5, size=(4, 3, 3))
    grain = rng.normal(0, 8 if shapes else 4, size=(height // 2, width // 2, 1))
    blotches = Image.fromarray(np.clip(coarse, 0, 255).astype(np.uint8))
    texture = Image.fromarray(np.clip(grain + 128, 0, 255).astype(np.uint8)[..., 0])
    pixels = np.asarray(blotches.resize(size, Image.Resampling.BICUBIC), np.float32)
    pixels += np.asarray(texture.resize(size, Image.Resampling.BILINEAR), np.float32)[..., None] - 128
    scene = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(scene)
    for _ in range(shapes):
        x0, y0 = rng.uniform(-0.2, 1.0, 2) * size
        x1, y1 = (x0, y0) + rng.uniform(0.05, 0.5, 2) * size
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        kind = int(rng.integers(4))
        if kind == 0:
            draw.rectangle((x0, y0, x1, y1), fill=colour)
        elif kind == 1:
            draw.ellipse((x0, y0, x1, y1), fill=colour)
        elif kind == 2:
            draw.line((x0, y0, x1, y1), fill=colour, width=int(rng.integers(1, 6)))
        else:
            draw.polygon([tuple(xy) for xy in rng.uniform(0, 1, (3, 2)) * size], fill=colour)
    return scene


def _placement(
    rng: np.random.Generator, p: _Params, src: tuple[int, int], frame: tuple[int, int]
) -> np.ndarray:
    """Where the product's corners land in the frame (clockwise from top-left): scaled, moved, turned."""
    (src_w, src_h), (width, height) = src, frame
    fit = rng.uniform(*p.scale) * min(width / src_w, height / src_h)
    w, h = src_w * fit, src_h * fit
    cx = width / 2 + rng.uniform(-0.5, 0.5) * (width - w)
    cy = height / 2 + rng.uniform(-0.5, 0.5) * (height - h)
    # A partial view: one side of the product lies past the frame's edge by `cut` of its extent.
    if rng.random() < p.partial:
        cut, side = rng.uniform(*p.cut), int(rng.integers(4))  # side: left, right, top, bottom
        cx = {0: w / 2 - cut * w, 1: width - w / 2 + cut * w}.get(side, cx)
        cy = {2: h / 2 - cut * h, 3: height - h / 2 + cut * h}.get(side, cy)
    corners = np.array([[-w, -h], [w, -h], [w, h], [-w, h]]) / 2
    angle = np.deg2rad(rng.uniform(-p.rotate, p.rotate))
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    # Moving each corner on its own is a perspective warp: the phone was not held square on.
    return corners @ turn.T + (cx, cy) + rng.uniform(-p.warp, p.warp, (4, 2)) * (w, h)


def _homography(corners: np.ndarray, src: tuple[int, int]) -> tuple[float, ...]:
    """PIL's PERSPECTIVE coefficients: the map from output pixels back to the source's corners."""
    src_w, src_h = src
    rows, rhs = [], []
    for (x, y), (u, v) in zip(corners, [(0, 0), (src_w, 0), (src_w, src_h), (0, src_h)], strict=True):
        rows += [[x, y, 1, 0, 0, 0, -u * x, -u * y], [0, 0, 0, x, y, 1, -v * x, -v * y]]
        rhs += [u, v]
    return tuple(np.linalg.solve(np.array(rows), np.array(rhs)))


def _camera(rng: np.random.Generator, p: _Params, scene: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Lighting and camera at ``size``: exposure, contrast, white balance, uneven light, defocus, noise."""
    radius = rng.uniform(*p.blur) * scene.width / size[0]
    if radius > 0:
        scene = scene.filter(ImageFilter.GaussianBlur(radius))
    contrast = 1 + rng.uniform(-p.light, p.light)
    gain = (1 + rng.uniform(-p.light, p.light)) * (1 + rng.uniform(-p.cast, p.cast, 3))
    # Light falling from one side: a linear ramp in brightness across the frame.
    slope, angle = rng.uniform(-p.light, p.light), rng.uniform(0, 2 * np.pi)
    ramp = 1 + slope * (
        np.cos(angle) * np.linspace(-1, 1, scene.width, dtype=np.float32)[None, :, None]
        + np.sin(angle) * np.linspace(-1, 1, scene.height, dtype=np.float32)[:, None, None]
    )
    pixels = ((np.asarray(scene, np.float32) - 128) * contrast + 128) * gain.astype(np.float32) * ramp
    scene = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).resize(size, Image.Resampling.BICUBIC)
    sigma = rng.uniform(*p.noise)
    if sigma == 0:
        return scene
    # Luminance noise only: it is what survives the JPEG, and costs a third of per-channel noise.
    luminance = rng.standard_normal((size[1], size[0]), dtype=np.float32) * sigma + 128
    noise = Image.fromarray(np.clip(luminance, 0, 255).astype(np.uint8)).convert("RGB")
    return ImageChops.add(scene, noise, offset=-128)
