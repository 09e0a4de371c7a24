"""Photo bytes in, embedding vectors out: safe decoding, timm backbones, batched inference."""

from .backbones import AUTO, BackboneUnavailableError, create_backbone
from .batcher import MicroBatcher
from .embed import Engine, EngineConfig
from .preprocess import ImageDecodeError, decode_image

__all__ = [
    "AUTO",
    "BackboneUnavailableError",
    "Engine",
    "EngineConfig",
    "ImageDecodeError",
    "MicroBatcher",
    "create_backbone",
    "decode_image",
]
