"""What both runtimes do with user photos once each can run the backbone (``photo_features``) and the head
(``vectors_of``): one garment mask a photo, for its views and for its colour, then vectors and attributes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from .framing import Framing, framing_for
from .garment import GarmentLocator, load_locator
from .preprocess import ImageDecodeError, each_decodable

if TYPE_CHECKING:
    from .attributes import Attributes
    from .colour import PixelColour


class PhotoEmbedding:
    """Mixed into :class:`engine.embed.Engine` and :class:`engine.onnx_engine.OnnxEngine`."""

    if TYPE_CHECKING:  # what the engines provide; nothing of it exists here at run time
        dim: int
        framing: Framing
        locator: GarmentLocator | None
        framing_key: str
        pixel_colour: PixelColour | None
        head: Any  # the engine's head record (HeadInfo), or None

        def decode(self, data: bytes) -> Image.Image: ...

        def photo_features(self, images: Sequence[Image.Image],
                           masks: Sequence[np.ndarray | None] | None = None) -> Any: ...

        def vectors_of(self, features: Any) -> tuple[np.ndarray, list[Attributes] | None]: ...

    def _frame_photos(self, query_framing: str, threads: int | None, locator: GarmentLocator | None,
                      garment_model: str) -> None:
        """How photos are framed (``query_framing``, or what the head was trained with), the garment locator that
        framing needs (``garment_model``, loaded here unless given), and the key photos' features are cached
        under."""
        self.framing = Framing.parse(framing_for(query_framing, self.head.training if self.head else None))
        self.locator = locator or (load_locator(garment_model, threads) if self.framing.needs_garment else None)
        # What decides a photo's features besides the weights: the views, and the mask's model and resolution.
        self.framing_key = str(self.framing) + (f"@{self.locator.key}" if self.framing.needs_garment and self.locator
                                                else "")

    def decode_photos(self, blobs: Sequence[bytes]) -> tuple[list[Image.Image], list[ImageDecodeError | None]]:
        """User photos' bytes → the decodable ones as images, and per blob its error (None when it decoded)."""
        return each_decodable(blobs, self.decode)

    def embed_photos(self, images: Sequence[Image.Image]) -> tuple[np.ndarray, list[Attributes] | None]:
        """User photos (not packshots): each framed as :attr:`framing` says, its views' features averaged,
        then embedded like any image — unit vectors and, with a head, attributes (colour read from the pixels
        too)."""
        if not images:
            return np.zeros((0, self.dim), np.float32), ([] if self.head is not None else None)
        masks = list(self.locator.masks(images)) if self.framing.needs_garment and self.locator else None
        vectors, attributes = self.vectors_of(self.photo_features(images, masks))
        if self.pixel_colour is not None:
            attributes = self.pixel_colour.blend_photos(attributes, images, masks)
        return vectors, attributes
