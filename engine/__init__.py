"""Photo bytes in, embedding vectors out: safe decoding, timm backbones, batched inference."""

from .backbones import AUTO, BackboneUnavailableError, create_backbone
from .batcher import MicroBatcher
from .embed import Engine, EngineConfig
from .preprocess import ImageDecodeError, ImageProblem, decode_image

__all__ = [
    "AUTO",
    "BackboneUnavailableError",
    "Engine",
    "EngineConfig",
    "ImageDecodeError",
    "ImageProblem",
    "MicroBatcher",
    "create_backbone",
    "decode_image",
]
