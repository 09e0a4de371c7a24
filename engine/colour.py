"""What colour a garment is, read from its pixels: numpy alone (no torch), so both runtimes share it.

The colour head learns colour from small thumbnails and reads it poorly on real photos. Here the garment's own
pixels (a user photo's under its garment mask, a packshot's without its backdrop; skin left out) are turned into
CIELAB, summed up as a small palette (weighted k-means, k ≤ 3) and each palette colour named by its CIEDE2000
distance to reference colours of each word of the colour vocabulary. The result is a probability per colour
word, which the engines blend with the head's (:class:`PixelColour`). The light can be corrected on the pixels
around the garment (shades-of-grey), but that is off: it did not pay on validation photos.

Everything works on a coarse grid (a photo at the 128 px garment mask's resolution, halved; a packshot at a
quarter of the model's input): a few milliseconds a picture on one core.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from .attributes import Attributes
from .pixels import border_connected

# Bump when the colours these functions compute change (prototypes, maths, weights): an index's labels depend
# on them, so the engine fingerprint carries it.
PIXEL_COLOUR_VERSION = 1

# Reference sRGB colours of each colour word (a word names a family: several shades each). A label of the
# head's vocabulary that is missing here (Multi) gets no probability from the pixels, only from the head.
PROTOTYPES: dict[str, tuple[tuple[int, int, int], ...]] = {
    "Black": ((18, 18, 18), (38, 38, 42)),
    "White": ((250, 250, 250), (236, 238, 240)),
    "Off White": ((240, 236, 222),),
    "Cream": ((242, 230, 196), (250, 245, 215)),
    "Beige": ((214, 196, 164), (196, 176, 140), (226, 210, 184)),
    "Brown": ((104, 66, 40), (146, 98, 60), (74, 52, 38), (170, 122, 82)),
    "Navy Blue": ((28, 34, 66), (36, 46, 88), (22, 28, 48)),
    "Blue": ((40, 78, 168), (70, 128, 200), (120, 164, 214), (64, 92, 132), (0, 120, 140)),
    "Grey": ((128, 128, 128), (92, 92, 96), (172, 172, 172), (62, 64, 68)),
    "Silver": ((192, 192, 198),),
    "Red": ((200, 30, 40), (170, 22, 32), (224, 60, 56)),
    "Maroon": ((112, 22, 36), (86, 26, 40)),
    "Pink": ((240, 150, 180), (228, 98, 150), (200, 56, 128), (248, 200, 212)),
    "Peach": ((250, 192, 160), (238, 168, 140)),
    "Purple": ((102, 50, 132), (150, 112, 182), (76, 38, 88)),
    "Orange": ((240, 120, 30), (200, 90, 40)),
    "Yellow": ((240, 212, 40), (204, 164, 40), (250, 232, 120)),
    "Gold": ((200, 164, 72),),
    "Green": ((40, 128, 62), (100, 110, 50), (150, 146, 96), (150, 200, 160), (30, 70, 50), (0, 140, 110)),
}

# How sharply distances become probabilities: exp(-ΔE00 / TEMPERATURE); chosen on validation photos.
TEMPERATURE = 3.0
# How far to trust a backdrop's colour as the light's: the gains shades-of-grey finds, raised to this power
# and kept within GAIN_LIMIT either way (a wooden floor is not grey, a warm lamp is not white). Off: on the
# validation photos (floors, carpets, bedspreads) correcting at 0.5 named fewer garments right than not at all.
CORRECTION_STRENGTH = 0.0
GAIN_LIMIT = 1.6
PALETTE_SIZE = 3
MINKOWSKI_P = 6  # shades-of-grey: p=1 is grey-world, p→∞ white-patch
# A photo's garment needs this share of the mask grid to be named from its pixels; a packshot's foreground this
# share of its picture, else the whole picture is taken to be the product (a white shirt on white).
MIN_GARMENT_SHARE = 0.02
GARMENT = 0.5  # mask probability above which a pixel is the garment's
BACKDROP = 0.2  # and below which it is the backdrop's
BACKDROP_DISTANCE = 20.0  # RGB distance within which a packshot pixel is its border's colour (the backdrop)
# Skin (CIELAB box and hue angle, degrees): a worn garment's mask holds arms and faces, a packshot its model's.
# Skin-coloured pixels count for nothing unless they are most of the garment (then it is beige, tan, peach…).
SKIN_LOW, SKIN_HIGH = np.array([30.0, 6.0, 8.0]), np.array([85.0, 30.0, 35.0])
SKIN_HUE = (25.0, 75.0)
SKIN_MAJORITY = 0.6
PHOTO_GRID = 64
MAX_PIXELS = 1024  # the most pixels a palette is computed from
PACKSHOT_STRIDE = 4

# The blend with the colour head's probabilities, chosen on validation photos (independent generator) and on
# packshots the head never saw (scripts/tune_pixel_colour.py): the pixels' share for user photos and for
# packshots (0 leaves the head's colour alone), and the power the blend is raised to. Two sources that agree
# make a surer call than either: sharpened, the blend moves the colour re-rank and clears the build's label
# floor (recommender/labelling.py) where the head alone rarely does.
PHOTO_WEIGHT = 0.5
PACKSHOT_WEIGHT = 0.5
SHARPNESS = 2.0

_WHITE_D65 = np.array([0.95047, 1.0, 1.08883])
_SRGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                         [0.2126729, 0.7151522, 0.0721750],
                         [0.0193339, 0.1191920, 0.9503041]])


def srgb_to_linear(rgb: np.ndarray) -> np.ndarray:
    """sRGB values in 0..255 → linear light in 0..1."""
    c = np.asarray(rgb, np.float64) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def linear_to_lab(linear: np.ndarray) -> np.ndarray:
    """Linear sRGB (..., 3) → CIELAB (D65 white)."""
    xyz = linear @ _SRGB_TO_XYZ.T / _WHITE_D65
    delta = 6 / 29
    f = np.where(xyz > delta ** 3, np.cbrt(xyz), xyz / (3 * delta ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB (..., 3) in 0..255 → CIELAB (..., 3)."""
    return linear_to_lab(srgb_to_linear(rgb))


def ciede2000(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIEDE2000 colour difference (kL = kC = kH = 1) of Lab colours (..., 3), broadcast against each other.

    Sharma, Wu and Dalal (2005), "The CIEDE2000 color-difference formula: implementation notes, supplementary test
    data, and mathematical observations"; the mean hue and hue difference follow their notes exactly.
    """
    lab1, lab2 = np.asarray(lab1, np.float64), np.asarray(lab2, np.float64)
    l1, a1, b1 = lab1[..., 0], lab1[..., 1], lab1[..., 2]
    l2, a2, b2 = lab2[..., 0], lab2[..., 1], lab2[..., 2]
    c_mean7 = ((np.hypot(a1, b1) + np.hypot(a2, b2)) / 2) ** 7
    g = 0.5 * (1 - np.sqrt(c_mean7 / (c_mean7 + 25.0 ** 7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360
    chroma_product = c1p * c2p
    dh = h2p - h1p
    dh = np.where(dh > 180, dh - 360, np.where(dh < -180, dh + 360, dh))
    dh = np.where(chroma_product == 0, 0.0, dh)
    d_lp, d_cp = l2 - l1, c2p - c1p
    d_hp = 2 * np.sqrt(chroma_product) * np.sin(np.radians(dh / 2))
    l_mean, c_mean = (l1 + l2) / 2, (c1p + c2p) / 2
    h_sum = h1p + h2p
    h_mean = np.where(np.abs(h1p - h2p) <= 180, h_sum / 2, np.where(h_sum < 360, (h_sum + 360) / 2,
                                                                     (h_sum - 360) / 2))
    h_mean = np.where(chroma_product == 0, h_sum, h_mean)
    t = (1 - 0.17 * np.cos(np.radians(h_mean - 30)) + 0.24 * np.cos(np.radians(2 * h_mean))
         + 0.32 * np.cos(np.radians(3 * h_mean + 6)) - 0.20 * np.cos(np.radians(4 * h_mean - 63)))
    d_theta = 30 * np.exp(-(((h_mean - 275) / 25) ** 2))
    c_mean7p = c_mean ** 7
    r_c = 2 * np.sqrt(c_mean7p / (c_mean7p + 25.0 ** 7))
    s_l = 1 + 0.015 * (l_mean - 50) ** 2 / np.sqrt(20 + (l_mean - 50) ** 2)
    s_c = 1 + 0.045 * c_mean
    s_h = 1 + 0.015 * c_mean * t
    r_t = -np.sin(np.radians(2 * d_theta)) * r_c
    lightness, chroma, hue = d_lp / s_l, d_cp / s_c, d_hp / s_h
    return np.sqrt(np.maximum(lightness ** 2 + chroma ** 2 + hue ** 2 + r_t * chroma * hue, 0.0))


@dataclass(frozen=True)
class Palette:
    """A garment's main colours: ``lab`` (k, 3) CIELAB and ``shares`` (k,) of its pixels, largest first."""

    lab: np.ndarray
    shares: np.ndarray

    def names(self, labels: Sequence[str] | None = None) -> list[tuple[str, float]]:
        """Each palette colour's nearest colour word and its share (for logs and explanations)."""
        words = list(labels) if labels is not None else list(PROTOTYPES)
        distances = _label_distances(self.lab, words)
        return [(words[int(np.argmin(row))], float(share)) for row, share in zip(distances, self.shares, strict=True)]


def light_gains(linear: np.ndarray, weights: np.ndarray, *, strength: float = CORRECTION_STRENGTH,
                limit: float = GAIN_LIMIT, p: int = MINKOWSKI_P) -> np.ndarray:
    """Per-channel gains (3,) that make the weighted pixels' shades-of-grey estimate of the light neutral, applied
    at ``strength`` and within ``limit``; ones where there is nothing to judge by."""
    total = float(weights.sum())
    if total <= 0 or strength <= 0:
        return np.ones(3)
    light = (np.power(linear, p) * weights[:, None]).sum(axis=0) / total
    light = np.power(np.maximum(light, 1e-12), 1 / p)
    gains = np.clip(light.mean() / np.maximum(light, 1e-6), 1 / limit, limit) ** strength
    return gains / np.exp(np.log(gains).mean())  # a change of hue only, not of exposure


def palette_of(lab: np.ndarray, weights: np.ndarray, k: int = PALETTE_SIZE, iterations: int = 8) -> Palette:
    """Weighted k-means of Lab pixels (n, 3), started from lightness quantiles (deterministic); empty clusters
    dropped."""
    k = max(1, min(k, len(lab)))
    if len(lab) > MAX_PIXELS:  # an even sample is as good a summary, for less work
        keep = np.linspace(0, len(lab) - 1, MAX_PIXELS).astype(np.int64)
        lab, weights = lab[keep], weights[keep]
    order = np.argsort(lab[:, 0], kind="stable")
    cumulative = np.cumsum(weights[order])
    cumulative /= cumulative[-1]
    starts = np.searchsorted(cumulative, (np.arange(k) + 0.5) / k)
    centres = lab[order[np.minimum(starts, len(order) - 1)]].copy()
    assignment = np.zeros(len(lab), np.int64)
    for _ in range(iterations):
        distances = ((lab[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
        assignment = distances.argmin(axis=1)
        mass = np.bincount(assignment, weights=weights, minlength=k)
        sums = np.stack([np.bincount(assignment, weights=weights * lab[:, axis], minlength=k) for axis in range(3)],
                        axis=1)
        centres = np.where(mass[:, None] > 0, sums / np.maximum(mass[:, None], 1e-12), centres)
    shares = np.bincount(assignment, weights=weights, minlength=len(centres))
    shares = shares / max(shares.sum(), 1e-12)
    keep = np.flatnonzero(shares > 0)
    keep = keep[np.argsort(-shares[keep], kind="stable")]
    return Palette(centres[keep], shares[keep])


def garment_palette(image: Image.Image, mask: np.ndarray | None, *, strength: float = CORRECTION_STRENGTH,
                    grid: int = PHOTO_GRID) -> Palette | None:
    """A user photo's garment palette: pixels the garment mask (``GarmentLocator.masks``, any square grid) holds,
    the light corrected on the pixels it leaves out; None when there is no mask or too little garment in it."""
    if mask is None:
        return None
    mask = _pooled(np.asarray(mask, np.float32), grid)
    garment = np.where(mask > GARMENT, mask, 0.0).ravel()
    if (garment > 0).mean() < MIN_GARMENT_SHARE:
        return None
    pixels = np.asarray(image.convert("RGB").resize((grid, grid), Image.Resampling.BOX), np.float64).reshape(-1, 3)
    linear = srgb_to_linear(pixels)
    backdrop = (mask.ravel() < BACKDROP).astype(np.float64)
    linear = linear * light_gains(linear, backdrop, strength=strength)
    inside = garment > 0
    lab = linear_to_lab(np.clip(linear[inside], 0, 1))
    return palette_of(lab, without_skin(lab, garment[inside]))


def packshot_palette(pixels: np.ndarray) -> Palette | None:
    """A packshot's palette: (H, W, 3) sRGB 0..255 (any size; pass it at a coarse grid), without the backdrop —
    the pixels of the border's colour that touch the border. Studio light is taken as neutral."""
    pixels = np.asarray(pixels, np.float64)
    if pixels.ndim != 3 or min(pixels.shape[:2]) < 2:
        return None
    foreground = ~_backdrop(pixels)
    if foreground.mean() < MIN_GARMENT_SHARE:
        foreground = np.ones(pixels.shape[:2], bool)  # the product is the backdrop's colour, or fills the frame
    lab = srgb_to_lab(pixels[foreground])
    return palette_of(lab, without_skin(lab, np.ones(len(lab))))


def skin_like(lab: np.ndarray) -> np.ndarray:
    """Which Lab colours (..., 3) look like skin, of any tone in daylight."""
    hue = np.degrees(np.arctan2(lab[..., 2], lab[..., 1]))
    return ((lab > SKIN_LOW) & (lab < SKIN_HIGH)).all(axis=-1) & (hue > SKIN_HUE[0]) & (hue < SKIN_HUE[1])


def without_skin(lab: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``weights`` with skin-coloured pixels' set to zero, unless they are most of the weight (a skin-tone
    garment) or all of it."""
    skin = skin_like(lab)
    share = float(weights[skin].sum() / max(weights.sum(), 1e-12))
    return weights if share >= SKIN_MAJORITY else np.where(skin, 0.0, weights)


def colour_probabilities(palette: Palette | None, labels: Sequence[str],
                         temperature: float = TEMPERATURE) -> np.ndarray | None:
    """P(label) over ``labels`` from a palette: each colour's softmax of −ΔE00/temperature to the nearest reference
    of each label, weighted by its share. Labels without references get 0; None without a palette."""
    if palette is None or not len(palette.shares):
        return None
    distances = _label_distances(palette.lab, labels)
    logits = -distances / temperature
    logits -= logits.max(axis=1, keepdims=True)
    each = np.exp(logits)
    each /= each.sum(axis=1, keepdims=True)
    return (palette.shares[:, None] * each).sum(axis=0)


def blend(head: Mapping[str, float], pixels: np.ndarray | None, labels: Sequence[str], weight: float,
          sharpness: float = 1.0) -> dict[str, float]:
    """``(1 - weight) × head + weight × pixels`` over ``labels``, raised to ``sharpness`` and renormalised; the
    head's alone without pixel probabilities."""
    if pixels is None or weight <= 0:
        return dict(head)
    mixed = (1 - weight) * np.array([head.get(label, 0.0) for label in labels]) + weight * np.asarray(pixels)
    mixed = np.power(np.maximum(mixed, 0.0), sharpness)
    mixed /= max(float(mixed.sum()), 1e-12)
    return {label: float(p) for label, p in zip(labels, mixed, strict=True)}


class PixelColour:
    """One engine's pixel colour: the colour head's labels and the blend weights; blends pixel colour into the
    head's attributes (vectors are left alone)."""

    def __init__(self, labels: Sequence[str], photo_weight: float = PHOTO_WEIGHT,
                 packshot_weight: float = PACKSHOT_WEIGHT, temperature: float = TEMPERATURE,
                 sharpness: float = SHARPNESS) -> None:
        self.labels = list(labels)
        self.photo_weight, self.packshot_weight, self.temperature = photo_weight, packshot_weight, temperature
        self.sharpness = sharpness

    @classmethod
    def for_head(cls, vocabularies: Mapping[str, Sequence[str]] | None) -> PixelColour | None:
        """For a head with a colour head whose labels the references cover; None otherwise (or with no weight)."""
        labels = (vocabularies or {}).get("colour")
        if not labels or not any(label in PROTOTYPES for label in labels) or not (PHOTO_WEIGHT or PACKSHOT_WEIGHT):
            return None
        return cls(labels)

    def fingerprint(self) -> str:
        """What an index's labels depend on: the method's version and its weights."""
        return (f"{PIXEL_COLOUR_VERSION}:{self.photo_weight:g}/{self.packshot_weight:g}/{self.temperature:g}/"
                f"{self.sharpness:g}/{CORRECTION_STRENGTH:g}")

    def photos(self, images: Sequence[Image.Image], masks: Sequence[np.ndarray | None]) -> list[np.ndarray | None]:
        return [colour_probabilities(garment_palette(image, mask), self.labels, self.temperature)
                for image, mask in zip(images, masks, strict=True)]

    def packshots(self, pixels: np.ndarray) -> list[np.ndarray | None]:
        """(N, H, W, 3) sRGB 0..255 packshots (a coarse grid of them) → each one's probabilities."""
        return [colour_probabilities(packshot_palette(one), self.labels, self.temperature) for one in pixels]

    def blend_photos(self, attributes: list[Attributes] | None, images: Sequence[Image.Image],
                     masks: Sequence[np.ndarray | None] | None) -> list[Attributes] | None:
        if attributes is None or masks is None or not self.photo_weight:
            return attributes
        return self._blend(attributes, self.photos(images, masks), self.photo_weight)

    def blend_packshots(self, attributes: list[Attributes] | None, pixels: np.ndarray) -> list[Attributes] | None:
        if attributes is None or not self.packshot_weight:
            return attributes
        return self._blend(attributes, self.packshots(pixels), self.packshot_weight)

    def _blend(self, attributes: list[Attributes], pixels: Sequence[np.ndarray | None],
               weight: float) -> list[Attributes]:
        return [Attributes({**row.probabilities,
                            "colour": blend(row.probabilities.get("colour", {}), seen, self.labels, weight,
                                            self.sharpness)})
                if "colour" in row.probabilities else row for row, seen in zip(attributes, pixels, strict=True)]


def batch_pixels(batch: np.ndarray, mean: Sequence[float], std: Sequence[float],
                 stride: int = PACKSHOT_STRIDE) -> np.ndarray:
    """A preprocessed (N, 3, H, W) batch (normalised by ``mean``/``std`` of 0..1 pixels) → (N, H/stride, W/stride, 3)
    sRGB 0..255: the pixels the model saw, every ``stride``-th row and column."""
    coarse = np.asarray(batch[:, :, ::stride, ::stride], np.float32).transpose(0, 2, 3, 1)
    return np.clip((coarse * np.asarray(std, np.float32) + np.asarray(mean, np.float32)) * 255, 0, 255)


# Every reference in one array, grouped by label (ΔE00 is computed once for all of them).
_REFERENCE_LABELS = list(PROTOTYPES)
_REFERENCE_LAB = srgb_to_lab(np.array([rgb for label in _REFERENCE_LABELS for rgb in PROTOTYPES[label]], np.float64))
_REFERENCE_STARTS = np.cumsum([0] + [len(PROTOTYPES[label]) for label in _REFERENCE_LABELS[:-1]])


def _label_distances(lab: np.ndarray, labels: Sequence[str]) -> np.ndarray:
    """(k, len(labels)) ΔE00 from each colour to each label's nearest reference (inf for labels without any)."""
    nearest = np.minimum.reduceat(ciede2000(lab[:, None, :], _REFERENCE_LAB[None, :, :]), _REFERENCE_STARTS, axis=1)
    position = {label: i for i, label in enumerate(_REFERENCE_LABELS)}
    out = np.full((len(lab), len(labels)), np.inf)
    for column, label in enumerate(labels):
        if label in position:
            out[:, column] = nearest[:, position[label]]
    return out


def _pooled(mask: np.ndarray, grid: int) -> np.ndarray:
    """A square mask averaged down to ``grid`` (resized when its side is not a multiple)."""
    side = mask.shape[0]
    if mask.shape != (side, side) or side % grid:
        return np.asarray(Image.fromarray(mask).resize((grid, grid), Image.Resampling.BOX), np.float32)
    factor = side // grid
    return mask.reshape(grid, factor, grid, factor).mean(axis=(1, 3))


def _backdrop(pixels: np.ndarray) -> np.ndarray:
    """Pixels of the border's colour connected to the border (4-neighbours), grown by dilation within the
    pixels of that colour."""
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    paper = np.median(border, axis=0)
    return border_connected(np.sqrt(((pixels - paper) ** 2).sum(axis=-1)) < BACKDROP_DISTANCE)
