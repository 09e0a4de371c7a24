"""The index build on Ray Data: fetch → decode + embed on model-holding actors → the same index, written here.

``fashionbot index build --ray local|ADDRESS`` runs :func:`build_index_ray`. The feed is read and its bad rows
skipped on the driver (:func:`catalog.read_feed`), as in :func:`recommender.indexing.build_index`; each image
to embed (:func:`recommender.indexing.product_views`: a product's main image, then its additional ones) becomes
one row, and the rows flow through two ``map_batches`` stages:

1. fetch (tasks): :func:`catalog.fetch_all` per batch (cache, retries, the private-address guard);
2. embed (actors, one :class:`~engine.Engine` each, loaded in ``__init__``; ``num_gpus=1`` per actor when the
   cluster has GPUs): ``Engine.prepare_bytes`` then ``Engine.embed_with_attributes``; a row whose image did not
   load or decode comes back with its reason and no vector; with a head, each row also brings its attribute
   probabilities (one flat row, :meth:`recommender.labelling.ViewVotes.row`), which label the product.

The driver writes what comes back with the same :class:`index.IndexWriter`, skip reasons and "nothing indexed"
refusal as the single-process build, so the result is the same index (same rows, vectors within float
tolerance, fingerprint, source hash) and bots serve it unchanged.

Ray is an optional extra (``pip install -e '.[ray]'``): this is the only runtime module importing it, and
``recommender`` does not import this module.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from catalog import Product, fetch_all
from engine import EngineConfig
from engine.runtime import EmbeddingEngine, load_engine
from index import IndexWriter

from .indexing import MAX_VIEWS, BuildReport, BuildTally, ProgressCallback, head_vocabularies, read_views
from .labelling import ViewVotes

try:
    import ray
    import ray.data
except ImportError as error:  # pragma: no cover - depends on the installed extras
    raise ImportError("building on Ray needs the ray extra: pip install -e '.[ray]'") from error

log = logging.getLogger(__name__)

LOCAL = "local"
FETCH_BATCH = 32  # images per fetch task (fetched concurrently within it)
# Environment the workers need to load the same model the driver did (offline hub, caches).
FORWARDED_ENV = ("HF_HUB_OFFLINE", "HF_HOME", "HF_HUB_CACHE", "TORCH_HOME")


@dataclasses.dataclass(frozen=True)
class RayPlan:
    """How the embed stage is laid out on the cluster."""

    actors: int
    num_gpus: float  # per actor
    num_cpus: float  # per actor (its torch threads on the CPU)
    batch_size: int

    @classmethod
    def for_cluster(cls, config: EngineConfig, resources: dict[str, float], *, actors: int | None = None,
                    cpus_per_actor: float | None = None) -> RayPlan:
        """One GPU actor per GPU when the cluster has GPUs (batches of 256 as on a single GPU); otherwise CPU
        actors of ``cpus_per_actor`` cores each (default 1) filling the cluster's CPUs."""
        gpus = int(resources.get("GPU", 0) or 0)
        cpus = max(1.0, float(resources.get("CPU", 1) or 1))
        if gpus and config.device != "cpu":
            return cls(actors=actors or gpus, num_gpus=1, num_cpus=cpus_per_actor or 1,
                       batch_size=max(config.batch_size, 256))
        per_actor = cpus_per_actor or 1.0
        return cls(actors=actors or max(1, int(cpus // per_actor)), num_gpus=0, num_cpus=per_actor,
                   batch_size=config.batch_size)


def build_index_ray(feed_path: Path, out_dir: Path, engine: EmbeddingEngine, *, address: str = LOCAL,
                    index_type: str = "auto", cache_dir: Path | None = None,
                    progress: ProgressCallback | None = None, fetch_concurrency: int = 8,
                    allow_private_hosts: bool = False, max_views: int = MAX_VIEWS, actors: int | None = None,
                    cpus_per_actor: float | None = None, num_cpus: int | None = None,
                    temp_dir: Path | None = None) -> BuildReport:
    """:func:`recommender.indexing.build_index` with fetching and embedding on Ray Data.

    ``engine`` (loaded here) gives the fingerprint and dimension the index is written with; every actor loads
    ``engine.config`` and must compute the same fingerprint. ``address``: ``"local"`` starts Ray on this
    machine (``num_cpus``, default all cores; ``temp_dir``: where its sessions go, keep the path short), any
    other value joins that cluster (``ray.init(address=...)``); a Ray already initialised in this process is
    used as it is. Ray started here is shut down before returning.
    """
    started = time.perf_counter()
    feed, skipped, views = read_views(feed_path, max_views)

    owns_ray = connect(address, num_cpus=num_cpus, temp_dir=temp_dir)
    try:
        plan = RayPlan.for_cluster(engine.config, ray.cluster_resources(), actors=actors,
                                   cpus_per_actor=cpus_per_actor)
        log.info("ray: %s", plan)
        description = engine.describe()
        if plan.num_gpus:
            description["device"] = "cuda"
        with IndexWriter(out_dir, fingerprint=engine.fingerprint, dim=engine.dim, engine=description,
                         index_type=index_type) as writer:
            tally = BuildTally(writer, len(views), started, progress, head_vocabularies(engine))
            if views:
                results = _pipeline(views, engine, plan, cache_dir=cache_dir, fetch_concurrency=fetch_concurrency,
                                    allow_private_hosts=allow_private_hosts)
                for batch in results.iter_batches(batch_format="numpy", batch_size=None):
                    ready, vectors, probabilities = [], [], []
                    for row, (position, error) in enumerate(zip(batch["position"], batch["error"], strict=True)):
                        view = views[int(position)]
                        if error:
                            tally.failed(view.product.id, str(error))
                        else:
                            ready.append(view)
                            vectors.append(batch["vector"][row])
                            if "probabilities" in batch:
                                probabilities.append(batch["probabilities"][row])
                    if ready:
                        tally.add(np.stack(vectors), probabilities or None, ready)
                    tally.advanced(len(batch["position"]))
            return tally.finish(feed, feed_path, skipped)
    finally:
        if owns_ray:
            ray.shutdown()


def connect(address: str, *, num_cpus: int | None = None, temp_dir: Path | None = None) -> bool:
    """Start (``"local"``) or join (an address) Ray unless it is up already; True when this call started it."""
    if ray.is_initialized():
        return False
    env = {name: os.environ[name] for name in FORWARDED_ENV if name in os.environ}
    runtime_env = {"env_vars": env} if env else None
    if address == LOCAL:
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # a local build reports nothing anywhere
        ray.init(num_cpus=num_cpus or os.cpu_count() or 1, include_dashboard=False, _node_ip_address="127.0.0.1",
                 _temp_dir=str(temp_dir) if temp_dir else None, runtime_env=runtime_env,
                 logging_level=logging.WARNING, log_to_driver=False)
    else:
        ray.init(address=address, runtime_env=runtime_env, logging_level=logging.WARNING)
    return True


def _pipeline(views: list, engine: EmbeddingEngine, plan: RayPlan, *, cache_dir: Path | None, fetch_concurrency: int,
              allow_private_hosts: bool) -> ray.data.Dataset:
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False  # the caller's progress callback reports
    rows = [{"position": position, "product": json.dumps(view.product.to_dict(), ensure_ascii=False),
             "image_link": view.image.image_link} for position, view in enumerate(views)]
    blocks = max(1, -(-len(rows) // FETCH_BATCH))
    dataset = ray.data.from_items(rows, override_num_blocks=blocks)
    # Fetching waits on I/O, so its tasks take no CPU from the actors; a few of them, reused, because each
    # worker process imports this module (and with it torch) once.
    # The ignore: ray's stub wants a one-argument function, though fn_kwargs fills the keyword-only rest.
    fetched = dataset.map_batches(
        fetch_batch, batch_size=FETCH_BATCH, batch_format="numpy", num_cpus=0,  # type: ignore[arg-type]
        compute=ray.data.TaskPoolStrategy(size=min(max(2, plan.actors), blocks)),
        fn_kwargs={"cache_dir": str(cache_dir) if cache_dir else None, "concurrency": fetch_concurrency,
                   "allow_private_hosts": allow_private_hosts})
    return fetched.map_batches(
        EmbedActor, batch_size=plan.batch_size, batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=min(plan.actors, blocks)), num_cpus=plan.num_cpus,
        num_gpus=plan.num_gpus or None,
        # Workers run the driver's runtime (an ONNX Runtime driver's vectors are not a PyTorch worker's).
        fn_constructor_kwargs={"config": dataclasses.replace(engine.config, runtime=engine.runtime),
                               "fingerprint": engine.fingerprint,
                               "threads": None if plan.num_gpus else max(1, int(plan.num_cpus))})


def fetch_batch(batch: dict[str, np.ndarray], *, cache_dir: str | None, concurrency: int,
                allow_private_hosts: bool) -> dict[str, Any]:
    """Stage 1 (a task): each row's image, fetched with the catalog's fetcher; bytes, or why not."""
    images = [dataclasses.replace(Product.from_dict(json.loads(record)), image_link=str(link))
              for record, link in zip(batch["product"], batch["image_link"], strict=True)]
    results = fetch_all(images, Path(cache_dir) if cache_dir else None, concurrency=concurrency,
                        allow_private_hosts=allow_private_hosts)
    return {"position": batch["position"],
            "data": np.array([result.data or b"" for result in results], dtype=object),
            "error": np.array([f"image: {result.error}" if result.data is None else "" for result in results],
                              dtype=object)}


class EmbedActor:
    """Stage 2 (an actor): one engine, loaded once; decodes a batch's bytes and embeds those that decode."""

    def __init__(self, config: EngineConfig, fingerprint: str, threads: int | None = None) -> None:
        if threads and not config.threads:
            config = dataclasses.replace(config, threads=threads)
        self.engine = load_engine(config)
        if self.engine.fingerprint != fingerprint:
            raise RuntimeError(f"this worker's engine computes fingerprint {self.engine.fingerprint}, the driver's "
                               f"{fingerprint}: install the same fashionbot, weights and head on every node")
        vocabularies = head_vocabularies(self.engine)
        self.votes = ViewVotes(vocabularies) if vocabularies else None  # only to flatten attributes into rows

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, Any]:
        errors = [str(error) for error in batch["error"]]
        vectors = np.zeros((len(errors), self.engine.dim), dtype=np.float32)
        probabilities = np.zeros((len(errors), self.votes.width if self.votes is not None else 0), np.float32)
        loaded = [row for row, error in enumerate(errors) if not error]
        if loaded:
            tensors, decode_errors = self.engine.prepare_bytes([bytes(batch["data"][row]) for row in loaded])
            good = []
            for row, error in zip(loaded, decode_errors, strict=True):
                if error is None:
                    good.append(row)
                else:
                    errors[row] = f"image: {error}"
            if good:
                vectors[good], attributes = self.engine.embed_with_attributes(tensors)
                if self.votes is not None and attributes is not None:
                    probabilities[good] = np.stack([self.votes.row(seen) for seen in attributes])
        found = {"position": batch["position"], "error": np.array(errors, dtype=object), "vector": vectors}
        return found | ({"probabilities": probabilities} if self.votes is not None else {})
