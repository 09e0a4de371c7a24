"""Settings read once, at the edge, from the environment and an optional .env file."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from engine.config import EngineConfig, default_export_dir
from engine.framing import Framing

# Package data, so a checkout and an installed wheel find it alike (pip installs unzipped: these are real paths).
DEMO_DIR = Path(str(files("demo")))
DEMO_FEED = DEMO_DIR / "catalog.csv"
DEMO_PHOTOS = DEMO_DIR / "photos"


class RecommenderSettings(BaseSettings):
    """What the recommender runs on (``FASHIONBOT_*``), shared by every front door: the engine's model, the
    index it serves, the feed a rebuild reads, whether results are re-ranked; and where the conversation keeps
    ratings and finds its example photos."""

    model_config = SettingsConfigDict(env_prefix="FASHIONBOT_", env_file=".env", extra="ignore")

    backbone: str = Field("auto", description="auto, or any timm model name")
    weights: str | None = Field(None, description="local weights file for the backbone")
    device: str = Field("auto", description="auto, cpu or cuda")
    batch_size: int = Field(16, ge=1, le=1024, description="images per forward pass")
    hub_timeout_s: float = Field(2.0, gt=0, description="how long to wait for the model hub to answer")
    threads: int | None = Field(None, ge=1, description="CPU threads of the model's runtime (default: all cores)")
    runtime: Literal["auto", "onnx", "torch"] = Field(
        "auto", description="what runs the model: onnx (ONNX Runtime on the CPU; the bot never loads PyTorch), "
                            "torch (PyTorch: GPUs, torch.compile), or auto: torch where a GPU is, else onnx")
    precision: Literal["fp32", "int8"] = Field("fp32", description="ONNX Runtime's precision; int8 is refused "
                                                                   "where it does not hold parity with fp32")
    model_cache: Path = Field(default_factory=default_export_dir, description="where ONNX exports of the model "
                                                                              "are kept (made once per model)")
    max_pixels: int = Field(40_000_000, ge=1_000)
    artifact: str | None = Field("auto", description="trained head: auto (the shipped one when it fits the "
                                                     "backbone), a file, or none")
    rerank: bool = Field(True, description="re-rank results by the head's predicted attributes (with a head)")
    index: Path = Field(Path("var/index"), description="index directory")
    catalog: Path = Field(DEMO_FEED, description="the product feed that /reindex rebuilds from")
    cache_dir: Path = Field(Path("var/cache"), description="downloaded catalog images")
    allow_private_image_hosts: bool = Field(False, description="let catalog image URLs reach loopback, private "
                                                               "and link-local addresses (an intranet catalog)")
    max_images_per_product: int = Field(5, ge=1, le=11, description="images embedded per product: image_link "
                                                                    "and additional_image_link, each a vector")
    query_framing: str = Field("auto", description="how user photos are framed: auto (what the head was trained "
                                                   "with), or views joined by '+': whole, centre, garment, cutout, "
                                                   "mirror")
    garment_model: Literal["student", "u2netp"] = Field("student", description="what finds the garment in a "
                                                        "photo: student (distilled, fast) or u2netp (its teacher)")
    min_similarity: float | None = Field(None, ge=-1, le=1, description="a photo whose best match is less similar "
                                                                        "than this finds 'nothing close' (default: "
                                                                        "the head's calibrated threshold)")
    redis_url: SecretStr | None = Field(None, description="redis://…: several bot processes share sessions, "
                                                         "flood budgets, per-user limits, index builds and "
                                                         "ratings; never logged")
    state_dir: Path | None = Field(None, description="where sessions are kept (SQLite); default: beside the index")
    follow_builds_s: float = Field(5.0, ge=0, description="how often a running bot looks for a newly published "
                                                          "index build to swap in (0: never)")
    feedback_db: Path | None = Field(None, description="the SQLite file ratings are kept in without Redis "
                                                       "(default: feedback.sqlite in the index directory)")
    examples: Path = Field(DEMO_PHOTOS, description="example photos /start offers to tap")

    @property
    def state_path(self) -> Path:
        """The directory for state that outlives restarts (sessions): ``state_dir``, else the index's parent."""
        return self.state_dir if self.state_dir is not None else self.index.parent

    @property
    def feedback_path(self) -> Path:
        return self.feedback_db or self.index / "feedback.sqlite"

    @property
    def redis_address(self) -> str | None:
        return self.redis_url.get_secret_value() if self.redis_url is not None else None

    @field_validator("query_framing")
    @classmethod
    def _known_framing(cls, value: str) -> str:
        return value if value == "auto" else str(Framing.parse(value))

    def engine_config(self) -> EngineConfig:
        return EngineConfig(backbone=self.backbone, weights=self.weights, device=self.device,
                            batch_size=self.batch_size, max_pixels=self.max_pixels,
                            hub_timeout_s=self.hub_timeout_s, threads=self.threads,
                            artifact=None if (self.artifact or "none").lower() == "none" else self.artifact,
                            query_framing=self.query_framing, garment_model=self.garment_model,
                            runtime=self.runtime, precision=self.precision,
                            export_dir=self.model_cache)
