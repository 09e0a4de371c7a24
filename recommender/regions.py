"""Shop the look: the garments a person wears in a photo, each with a query that leans toward its kind.

A photo goes to the pose model (engine/pose.py); with a person in it, the body's landmarks give the boxes of the
top, the bottom, a one-piece and the shoes (engine/regions.py). Each garment is cropped with some context around
it and embedded as a user photo (every crop of a batch of photos in one pass). Whether the person wears a top and
a bottom or a one-piece (a dress, a saree, a jumpsuit) is the head's call on the one-piece box (on the top's
when the legs are out of view): a dress's box looks like a dress, a shirt over trousers does not; geometry alone
cannot tell a skirt from a dress's lower half. Without a head there is no such call, and the person wears a top
and a bottom.

Each region's query carries a prior toward its kind: its predicted categories are kept to the region's
(a top's to Topwear, shoes' to Shoes, Sandal and Flip Flops…) and renormalised, so the re-rank
(recommender/rerank.py) rewards products of that kind, and the style guess names one. A photo without a person
has no regions here; the recommender answers it as it always has, with the one region ``whole``.
"""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image

from catalog.vocabulary.vocabulary import PARENT, VOCABULARY
from engine.attributes import Attributes
from engine.pose import PoseLocator, PoseModelUnavailableError
from engine.preprocess import ImageDecodeError
from engine.regions import ONE_PIECE, body_regions, outfit
from engine.runtime import EmbeddingEngine

from .protocol import Query, Region
from .rerank import RerankPolicy

log = logging.getLogger(__name__)

WHOLE = "whole"
# Each region's kinds: sub_categories of the heads' vocabulary (catalog/vocabulary/vocabulary.toml).
REGION_KINDS: dict[str, tuple[str, ...]] = {
    "top": ("Topwear",),
    "bottom": ("Bottomwear",),
    ONE_PIECE: ("Dress", "Saree", "Loungewear and Nightwear", "Apparel Set"),
    "shoes": ("Shoes", "Sandal", "Flip Flops"),
}
# The one-piece box is a one-piece when the head gives its kinds at least this probability together.
ONE_PIECE_SHARE = 0.5
# A region's query carries its prior as this attribute: its kinds, uniform. The re-rank adds PRIOR_WEIGHT times
# it to products of those kinds, and re-ranks every hit (the visually nearest one, kept in place for a whole
# photo, may be of another kind: the top over the jeans in a bottom's crop). Measured on the shared sample's
# photos of people (scripts/eval_regions.py): the share of a bottom's first five results that are bottoms is
# 0.42 with the restricted categories alone, 0.86 with the prior at 0.4 keeping the nearest hit, 0.94 at 0.4
# re-ranking all (0.90 at 0.2, 0.94 at 0.6); a top's type precision stays 0.88.
PRIOR = "prior"
PRIOR_WEIGHT = 0.4
# The pose models are small: on one thread the detector takes 13 ms on a busy 2-core machine, on two 37 ms (they
# wait on the engine's threads); they run beside the engine, not inside it.
POSE_THREADS = 1
_EXIF_ORIENTATION = 0x0112
_TURNED = (5, 6, 7, 8)  # orientations that swap width and height


@dataclass(frozen=True)
class Outfit:
    """What the pose model found in one photo: the photo's size as sent (width, height) and the regions of the
    garments worn, most prominent first (empty: no person)."""

    size: tuple[int, int]
    regions: list[Region]


class OutfitFinder:
    """Photos of people → their garments' regions with queries, in batches. The pose models are loaded on first
    use, once (nothing at import or construction)."""

    def __init__(self, engine: EmbeddingEngine, threads: int | None = POSE_THREADS) -> None:
        self.engine = engine
        self._threads = threads
        self._locator: PoseLocator | None = None
        self._unavailable = False
        self._loading = threading.Lock()

    @property
    def locator(self) -> PoseLocator | None:
        """The pose models, loaded on first use; None when they cannot be (every photo is then whole, as before
        shop the look, and the log says why once)."""
        with self._loading:
            if self._locator is None and not self._unavailable:
                try:
                    self._locator = PoseLocator.load(self._threads)
                except PoseModelUnavailableError as error:
                    self._unavailable = True
                    log.warning("no garment regions: %s", error)
            return self._locator

    def find(self, blobs: Sequence[bytes]) -> list[Outfit | ImageDecodeError]:
        """Per photo its outfit, or why it could not be decoded (what the CLI runs: decode, then :meth:`regions`)."""
        decoded: list[Photo | ImageDecodeError] = []
        for data in blobs:
            try:
                decoded.append(decode(self.engine, data))
            except ImageDecodeError as error:
                decoded.append(error)
        photos = [photo for photo in decoded if not isinstance(photo, ImageDecodeError)]
        found = iter(self.regions(photos))
        return [photo if isinstance(photo, ImageDecodeError) else Outfit(photo.size, next(found))
                for photo in decoded]

    def regions(self, photos: Sequence[Photo]) -> list[list[Region]]:
        """Per decoded photo the regions of what its person wears, most prominent first (none without a person);
        all the crops are embedded in one pass."""
        locator = self.locator
        bodies = []
        for photo in photos:
            pose = locator.locate(photo.image) if locator is not None else None
            bodies.append(body_regions(pose.points, pose.seen(), photo.image.size) if pose is not None else [])
        crops = [photo.image.crop(region.view) for photo, regions in zip(photos, bodies, strict=True)
                 for region in regions]
        vectors, attributes = self.engine.embed_photos(crops)
        rows = iter(range(len(crops)))
        found = []
        for photo, regions in zip(photos, bodies, strict=True):
            queries = {region.name: _query(vectors, attributes, next(rows), self.engine.fingerprint)
                       for region in regions}
            worn = outfit(regions, wears_one_piece(queries.get(ONE_PIECE, queries.get("top"))))
            read = {region.view: queries[region.name] for region in regions}  # a top worn as a one-piece: its crop
            scale = (photo.size[0] / photo.image.width, photo.size[1] / photo.image.height)
            found.append([Region(region.name, scaled(region.box, scale, photo.size),
                                 with_prior(read[region.view], region.name), region.prominence) for region in worn])
        return found


@dataclass(frozen=True)
class Photo:
    """A decoded photo and its size as sent (a JPEG may decode at a reduced scale; boxes are in the sender's
    pixels)."""

    image: Image.Image
    size: tuple[int, int]


def decode(engine: EmbeddingEngine, data: bytes) -> Photo:
    """The engine's decode (raises :class:`engine.ImageDecodeError`), with the photo's size as sent."""
    image = engine.decode(data)
    return Photo(image, photo_size(data, image))


def wears_one_piece(query: Query | None) -> bool:
    """Whether the head sees a one-piece in the one-piece box (False without the box or without a head)."""
    if query is None or query.attributes is None:
        return False
    kinds = query.attributes.probabilities.get("sub_category", {})
    return sum(kinds.get(kind, 0.0) for kind in REGION_KINDS[ONE_PIECE]) >= ONE_PIECE_SHARE


def with_prior(query: Query, region: str) -> Query:
    """The query with a prior toward the region's kinds: its predicted category and sub_category kept to them and
    renormalised (the head's probabilities times a uniform prior over the kinds: what the style guess names),
    and the prior itself as the attribute :data:`PRIOR` (what the re-rank rewards). Unchanged without a head."""
    if query.attributes is None or region not in REGION_KINDS:
        return query
    kinds = set(REGION_KINDS[region])
    allowed = {"sub_category": kinds, "category": {label for label, parent in PARENT.items() if parent in kinds}}
    probabilities = dict(query.attributes.probabilities)
    for attribute, labels in allowed.items():
        if attribute in probabilities:
            probabilities[attribute] = restricted(probabilities[attribute], labels)
    probabilities[PRIOR] = {kind: 1 / len(kinds) for kind in REGION_KINDS[region]}
    return Query(query.vector, Attributes(probabilities), query.fingerprint)


def policy_for(query: Query, policy: RerankPolicy | None) -> RerankPolicy | None:
    """The re-rank of a query: a region's (one with a prior) adds the prior's weight and keeps no hit in place;
    any other query's is ``policy`` as it is."""
    if policy is None or query.attributes is None or PRIOR not in query.attributes.probabilities:
        return policy
    return RerankPolicy({**policy.weights, PRIOR: PRIOR_WEIGHT}, keep_top=0)


def restricted(probabilities: dict[str, float], allowed: set[str]) -> dict[str, float]:
    """The distribution kept to ``allowed`` labels and renormalised; uniform over them when it gave them nothing."""
    kept = {label: probability if label in allowed else 0.0 for label, probability in probabilities.items()}
    total = sum(kept.values())
    if total > 0:
        return {label: probability / total for label, probability in kept.items()}
    return {**kept, **{label: 1 / len(allowed) for label in sorted(allowed)}}


def region_labels(region: str) -> tuple[str, ...]:
    """The categories of the heads' vocabulary a region searches toward (for reports and tests)."""
    kinds = set(REGION_KINDS.get(region, ()))
    return tuple(label for label in VOCABULARY["category"] if PARENT.get(label) in kinds)


def whole(size: tuple[int, int], query: Query) -> Region:
    """The one region of a photo without a person: all of it, searched as a photo always was."""
    return Region(WHOLE, (0, 0, *size), query)


def photo_size(data: bytes, decoded: Image.Image) -> tuple[int, int]:
    """The photo's size as sent, upright: a JPEG may have been decoded at a reduced scale, and boxes are given in
    the sender's pixels. Falls back to the decoded size when the header says otherwise nothing usable."""
    try:
        header = Image.open(io.BytesIO(data))
        width, height = header.size
        if header.getexif().get(_EXIF_ORIENTATION) in _TURNED:
            width, height = height, width
    except (OSError, ValueError, SyntaxError):  # decoded once already; a header quirk is no reason to fail
        return decoded.size
    return (width, height) if width >= decoded.width and height >= decoded.height else decoded.size


def scaled(box: tuple[int, int, int, int], scale: tuple[float, float],
           size: tuple[int, int]) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = box
    return (max(0, round(x0 * scale[0])), max(0, round(y0 * scale[1])), min(size[0], round(x1 * scale[0])),
            min(size[1], round(y1 * scale[1])))


def _query(vectors, attributes: list[Attributes] | None, row: int, fingerprint: str) -> Query:
    return Query(vectors[row], attributes[row] if attributes else None, fingerprint)
