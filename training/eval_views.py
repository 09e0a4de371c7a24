"""A second, independently written phone-photo generator: for validation and evaluation only, never training.

Models choose themselves on what they are scored on, so a validation set drawn from the training generator
(``views.py``) rewards learning that generator. This one shares no code with it and makes other pictures:
surfaces seen in real phone photos (wooden floors, tiles, carpets, bedspreads, real textures), garments that
are wrinkled rather than flat, shadows, hands and other things in the frame, zoomed-in and cut-off views,
other aspect ratios, motion blur, vignetting, oversharpening and heavier compression (JPEG or WebP).
``tests/test_architecture.py`` checks that nothing used for training imports it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache

import numpy as np
from PIL import Image, ImageDraw, ImageFilter
from scipy import ndimage

PRESETS = ("easy", "hard")


@dataclass(frozen=True)
class _Look:
    long_side: tuple[int, int]
    fill: tuple[float, float]  # garment's longer extent as a share of the frame's matching side
    tilt: float  # degrees either way
    keystone: float  # corner displacement as a share of the garment's size
    wrinkle: float  # displacement amplitude of the fold field, px at 256 px
    cut_chance: float  # chance of a zoomed-in or cut-off view
    cut: tuple[float, float]  # share of the garment outside the frame when cut
    occluders: int  # most hands / other objects in the frame
    shadow_chance: float
    light: float  # exposure / white-balance deviation
    blur: tuple[float, float]  # motion-blur length, px at the output size
    noise: tuple[float, float]  # sigma, 0-255
    quality: tuple[int, int]


LOOKS = {
    "easy": _Look(long_side=(560, 900), fill=(0.55, 0.85), tilt=8, keystone=0.03, wrinkle=1.0, cut_chance=0.1,
                  cut=(0.02, 0.08), occluders=0, shadow_chance=0.15, light=0.08, blur=(0, 1.2), noise=(0, 1.5),
                  quality=(78, 94)),
    "hard": _Look(long_side=(360, 720), fill=(0.65, 1.05), tilt=25, keystone=0.12, wrinkle=4.0, cut_chance=0.7,
                  cut=(0.08, 0.3), occluders=2, shadow_chance=0.6, light=0.25, blur=(0.5, 4.5), noise=(2, 8),
                  quality=(35, 65)),
}
_ASPECTS = (4 / 3, 16 / 9, 1.0, 3 / 2)  # long side / short side


def eval_photo(product: Image.Image, rng: np.random.Generator, preset: str = "easy") -> Image.Image:
    """A phone-like photo of the catalog ``product`` (a packshot on white), decoded as a chat app would send it."""
    with Image.open(io.BytesIO(eval_photo_bytes(product, rng, preset))) as photo:
        return photo.convert("RGB")


def eval_photo_bytes(product: Image.Image, rng: np.random.Generator, preset: str = "easy") -> bytes:
    """Like :func:`eval_photo`, as the compressed bytes (JPEG, now and then WebP)."""
    if preset not in LOOKS:
        raise ValueError(f"preset must be one of {PRESETS}, got {preset!r}")
    look = LOOKS[preset]
    garment, mask = _lift(product.convert("RGB"))
    garment, mask = _wrinkle(garment, mask, rng, look.wrinkle)
    long_side = int(rng.integers(*look.long_side))
    aspect = _ASPECTS[int(rng.integers(len(_ASPECTS)))]
    portrait = garment.height >= garment.width if rng.random() < 0.85 else rng.random() < 0.5
    short_side = int(round(long_side / aspect))
    size = (short_side, long_side) if portrait else (long_side, short_side)
    scene = _surface(rng, size, busy=preset == "hard")
    scene = _place(scene, garment, mask, rng, look)
    for _ in range(int(rng.integers(0, look.occluders + 1))):
        _occlude(scene, rng)
    return _shoot(scene, rng, look)


def _lift(product: Image.Image) -> tuple[Image.Image, Image.Image]:
    """The garment and its soft mask: pixels unlike the (near-white) border, holes filled, specks dropped."""
    product.thumbnail((384, 384))
    pixels = np.asarray(product, np.float32)
    border = np.concatenate([pixels[:2].reshape(-1, 3), pixels[-2:].reshape(-1, 3),
                             pixels[:, :2].reshape(-1, 3), pixels[:, -2:].reshape(-1, 3)])
    paper = np.percentile(border, 60, axis=0)
    distance = np.sqrt(((pixels - paper) ** 2).sum(axis=-1))
    solid = ndimage.binary_fill_holes(ndimage.binary_opening(distance > 18, iterations=1))
    labels, count = ndimage.label(solid)
    if count:
        sizes = ndimage.sum(solid, labels, range(1, count + 1))
        solid = np.isin(labels, 1 + np.flatnonzero(sizes >= 0.02 * sizes.max()))
    if solid.sum() < 0.02 * solid.size:  # no studio backdrop found: the whole picture is the product
        solid = np.ones_like(solid)
    mask = Image.fromarray((solid * 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(1.2))
    box = Image.fromarray((solid * 255).astype(np.uint8)).getbbox() or (0, 0, *product.size)
    return product.crop(box), mask.crop(box)


def _wrinkle(garment: Image.Image, mask: Image.Image, rng: np.random.Generator,
             amplitude: float) -> tuple[Image.Image, Image.Image]:
    """Folds: a smooth random displacement field, and the shading it makes."""
    height, width = garment.height, garment.width
    scale = amplitude * max(width, height) / 256
    fields = [ndimage.zoom(rng.normal(0, 1, (5, 5)), (height / 5, width / 5), order=3)[:height, :width]
              for _ in range(3)]
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float32)
    coords = [rows + scale * fields[0], cols + scale * fields[1]]
    pixels = np.asarray(garment, np.float32)
    warped = np.stack([ndimage.map_coordinates(pixels[..., c], coords, order=1, mode="nearest") for c in range(3)],
                      axis=-1)
    shading = 1 + 0.06 * amplitude / 6 * fields[2]
    warped = np.clip(warped * shading[..., None], 0, 255).astype(np.uint8)
    alpha = ndimage.map_coordinates(np.asarray(mask, np.float32), coords, order=1, mode="constant")
    return Image.fromarray(warped), Image.fromarray(np.clip(alpha, 0, 255).astype(np.uint8))


def _surface(rng: np.random.Generator, size: tuple[int, int], *, busy: bool) -> Image.Image:
    """What the garment lies on: a floor, tiles, a carpet, a bedspread or a real texture."""
    kinds = [_planks, _tiles, _carpet, _bedspread] + ([_real_texture] if _textures() else [])
    surface = kinds[int(rng.integers(len(kinds)))](rng, size)
    if busy:
        draw = ImageDraw.Draw(surface)
        for _ in range(int(rng.integers(1, 4))):  # the edge of a rug, a bag, a box
            x, y = rng.uniform(0, 1, 2) * size
            w, h = rng.uniform(0.1, 0.4, 2) * size
            colour = tuple(int(c) for c in rng.integers(20, 235, 3))
            draw.rounded_rectangle((x, y, x + w, y + h), radius=int(min(w, h) * 0.2), fill=colour)
    return surface


def _planks(rng: np.random.Generator, size: tuple[int, int]) -> Image.Image:
    width, height = size
    tone = np.array([rng.uniform(110, 200), rng.uniform(70, 140), rng.uniform(40, 90)])
    plank = int(rng.uniform(0.08, 0.2) * min(size)) + 4
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float32)
    board = (cols // plank).astype(int)
    offset = rng.uniform(0, 100, board.max() + 1)[board]
    grain = np.sin((rows + offset * 7) / rng.uniform(3, 9) + 2 * np.sin(cols / 23)) * 10
    shade = rng.uniform(-18, 18, board.max() + 1)[board]
    seam = (cols % plank < 2) * -40
    pixels = tone + (grain + shade + seam)[..., None]
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def _tiles(rng: np.random.Generator, size: tuple[int, int]) -> Image.Image:
    width, height = size
    tone = rng.uniform(170, 245) + rng.normal(0, 8, 3)
    tile = int(rng.uniform(0.2, 0.5) * min(size)) + 8
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float32)
    grout = ((rows % tile) < 3) | ((cols % tile) < 3)
    glare = 25 * np.exp(-(((cols - rng.uniform(0, width)) / width) ** 2 + ((rows - rng.uniform(0, height)) / height)
                          ** 2) * 6)
    pixels = tone + glare[..., None] - grout[..., None] * rng.uniform(30, 80)
    pixels += rng.normal(0, 3, (height, width, 1))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def _carpet(rng: np.random.Generator, size: tuple[int, int]) -> Image.Image:
    width, height = size
    tone = rng.uniform(40, 220, 3)
    pile = ndimage.gaussian_filter(rng.normal(0, 1, (height, width)), 0.8) * 30
    pixels = tone + pile[..., None] * rng.uniform(0.6, 1.0, 3)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def _bedspread(rng: np.random.Generator, size: tuple[int, int]) -> Image.Image:
    width, height = size
    base, accent = rng.uniform(60, 240, 3), rng.uniform(30, 240, 3)
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float32)
    period = rng.uniform(12, 60)
    pattern = int(rng.integers(3))
    if pattern == 0:  # stripes
        motif = (np.sin(cols / period * np.pi) > 0.3).astype(np.float32)
    elif pattern == 1:  # checks
        motif = ((np.sin(cols / period * np.pi) > 0) ^ (np.sin(rows / period * np.pi) > 0)).astype(np.float32) * 0.6
    else:  # dots
        motif = ((np.sin(cols / period * 2 * np.pi) * np.sin(rows / period * 2 * np.pi)) > 0.7).astype(np.float32)
    folds = ndimage.zoom(rng.normal(0, 1, (4, 4)), (height / 4, width / 4), order=3)[:height, :width]
    pixels = base * (1 - motif[..., None]) + accent * motif[..., None]
    pixels *= (1 + 0.12 * folds)[..., None]
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def _real_texture(rng: np.random.Generator, size: tuple[int, int]) -> Image.Image:
    texture = _textures()[int(rng.integers(len(_textures())))]
    scale = max(size[0] / texture.width, size[1] / texture.height) * rng.uniform(1.0, 1.6)
    resized = texture.resize((int(texture.width * scale) + 1, int(texture.height * scale) + 1))
    x = int(rng.integers(0, resized.width - size[0] + 1))
    y = int(rng.integers(0, resized.height - size[1] + 1))
    tint = rng.uniform(0.75, 1.2, 3)
    pixels = np.asarray(resized.crop((x, y, x + size[0], y + size[1])), np.float32) * tint
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


@cache
def _textures() -> tuple[Image.Image, ...]:
    """Real photographed surfaces that ship with scikit-image (brick, grass, gravel), when it is installed."""
    try:
        from skimage import data
    except ImportError:
        return ()
    return tuple(Image.fromarray(getattr(data, name)()).convert("RGB") for name in ("brick", "grass", "gravel"))


def _place(scene: Image.Image, garment: Image.Image, mask: Image.Image, rng: np.random.Generator,
           look: _Look) -> Image.Image:
    """Scale, tilt and keystone the garment into the scene, with a soft shadow; zoomed in or cut off at times."""
    width, height = scene.size
    fit = rng.uniform(*look.fill) * min(width / garment.width, height / garment.height)
    w, h = max(int(garment.width * fit), 8), max(int(garment.height * fit), 8)
    garment, mask = garment.resize((w, h), Image.Resampling.LANCZOS), mask.resize((w, h), Image.Resampling.BILINEAR)
    # Keystone: the far edge of a flat-lay shot from above at an angle comes out narrower.
    squeeze = rng.uniform(0, look.keystone) * w
    far = rng.integers(2)
    corners = ((squeeze, 0), (0, h), (w, h), (w - squeeze, 0)) if far else ((0, 0), (squeeze, h), (w - squeeze, h),
                                                                            (w, 0))
    quad = tuple(v for corner in corners for v in corner)
    garment = garment.transform((w, h), Image.Transform.QUAD, quad, Image.Resampling.BILINEAR)
    mask = mask.transform((w, h), Image.Transform.QUAD, quad, Image.Resampling.BILINEAR)
    angle = rng.uniform(-look.tilt, look.tilt)
    garment = garment.rotate(angle, Image.Resampling.BICUBIC, expand=True)
    mask = mask.rotate(angle, Image.Resampling.BICUBIC, expand=True)
    x = int(rng.uniform(0, max(width - garment.width, 0) + 1)) if garment.width < width else \
        -int(rng.uniform(0, garment.width - width + 1))
    y = int(rng.uniform(0, max(height - garment.height, 0) + 1)) if garment.height < height else \
        -int(rng.uniform(0, garment.height - height + 1))
    if rng.random() < look.cut_chance:
        share = rng.uniform(*look.cut)
        side = int(rng.integers(4))
        if side == 0:
            x = -int(share * garment.width)
        elif side == 1:
            x = width - int((1 - share) * garment.width)
        elif side == 2:
            y = -int(share * garment.height)
        else:
            y = height - int((1 - share) * garment.height)
    shadow = mask.point(lambda v: int(v * 0.5)).filter(ImageFilter.GaussianBlur(max(width, height) / 60))
    offset = int(rng.integers(2, 8))
    scene.paste((15, 15, 15), (x + offset, y + offset), shadow)
    scene.paste(garment, (x, y), mask)
    return scene


def _occlude(scene: Image.Image, rng: np.random.Generator) -> None:
    """A hand, or a sleeve of something else, reaching in from an edge."""
    width, height = scene.size
    draw = ImageDraw.Draw(scene)
    skin = rng.random() < 0.6
    colour = tuple(int(c) for c in (rng.uniform([150, 95, 70], [235, 190, 160]) if skin else rng.integers(0, 255, 3)))
    side = int(rng.integers(4))
    reach = rng.uniform(0.1, 0.3) * (width if side < 2 else height)
    thick = rng.uniform(0.06, 0.14) * min(width, height)
    along = rng.uniform(0.1, 0.9) * (height if side < 2 else width)
    if side == 0:
        box = (-thick, along - thick, reach, along + thick)
    elif side == 1:
        box = (width - reach, along - thick, width + thick, along + thick)
    elif side == 2:
        box = (along - thick, -thick, along + thick, reach)
    else:
        box = (along - thick, height - reach, along + thick, height + thick)
    draw.rounded_rectangle(box, radius=int(thick * 0.8), fill=colour)


def _shoot(scene: Image.Image, rng: np.random.Generator, look: _Look) -> bytes:
    """The phone: white balance, exposure, a shadow, vignetting, motion blur, noise, sharpening, compression."""
    width, height = scene.size
    pixels = np.asarray(scene, np.float32)
    if rng.random() < look.shadow_chance:  # the photographer's own shadow, falling across one part
        rows, cols = np.mgrid[0:height, 0:width].astype(np.float32)
        angle = rng.uniform(0, np.pi)
        edge = np.cos(angle) * (cols / width - 0.5) + np.sin(angle) * (rows / height - 0.5) - rng.uniform(-0.3, 0.3)
        pixels *= (1 - rng.uniform(0.25, 0.5) / (1 + np.exp(-edge * 40)))[..., None]
    warmth = rng.uniform(-look.light, look.light)
    pixels *= np.array([1 + warmth, 1.0, 1 - warmth]) * (1 + rng.uniform(-look.light, look.light))
    rows, cols = np.ogrid[0:height, 0:width]
    radius = ((cols / width - 0.5) ** 2 + (rows / height - 0.5) ** 2)
    pixels *= (1 - rng.uniform(0, 0.35) * radius * 2)[..., None]
    photo = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    length = rng.uniform(*look.blur)
    if length >= 1.5:
        photo = _motion_blur(photo, length, rng.uniform(0, 180))
    sigma = rng.uniform(*look.noise)
    if sigma > 0:
        noisy = np.asarray(photo, np.float32) + rng.normal(0, sigma, (height, width, 1)) \
            + rng.normal(0, sigma / 2, (height, width, 3))
        photo = Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))
    photo = photo.filter(ImageFilter.UnsharpMask(radius=2, percent=int(rng.uniform(40, 140)), threshold=2))
    out = io.BytesIO()
    quality = int(rng.integers(*look.quality))
    if rng.random() < 0.25:
        photo.save(out, "WEBP", quality=quality)
    else:
        photo.save(out, "JPEG", quality=quality, subsampling=2)
    return out.getvalue()


def _motion_blur(photo: Image.Image, length: float, degrees: float) -> Image.Image:
    size = int(np.ceil(length)) | 1
    kernel = np.zeros((size, size), np.float32)
    kernel[size // 2, :] = 1
    kernel = ndimage.rotate(kernel, degrees, reshape=False, order=1)
    kernel /= max(kernel.sum(), 1e-6)
    pixels = np.asarray(photo, np.float32)
    blurred = np.stack([ndimage.convolve(pixels[..., c], kernel, mode="nearest") for c in range(3)], axis=-1)
    return Image.fromarray(np.clip(blurred, 0, 255).astype(np.uint8))
