"""What operators watch (Prometheus, ``/metrics``): photos served and how fast, flood control, queues, the index.

Each application has its own registry (nothing global), read at scrape time where a value lives elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from recommender import Recommender
from recommender.readiness import Readiness

# Photo → album and links sent: from tens of milliseconds (a quiet GPU) to many seconds (a busy CPU, a 429).
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0)


class BotMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.photos_served = Counter("fashionbot_photos_served", "Photos answered with an album",
                                     registry=self.registry)
        self.photo_latency = Histogram("fashionbot_photo_latency_seconds",
                                       "From a photo's arrival to its album and links sent",
                                       buckets=LATENCY_BUCKETS, registry=self.registry)
        self.flood_waits = Counter("fashionbot_telegram_flood_waits",
                                   "429 Too Many Requests answers from Telegram (each one waited out)",
                                   registry=self.registry)
        self.send_queue = Gauge("fashionbot_send_queue_depth",
                                "Messages waiting for their turn under Telegram's flood limits",
                                registry=self.registry)
        self.update_queue = Gauge("fashionbot_update_queue_depth", "Updates received, not yet handled",
                                  registry=self.registry)
        self.ready = Gauge("fashionbot_ready", "1 once the index is open and photos are answered, 0 while starting",
                           registry=self.registry)
        self.configuration_warnings = Gauge("fashionbot_configuration_warnings",
                                            "What the running configuration lacks of the measured one (no "
                                            "trained head, no re-rank, no 'nothing close'); 0 as measured",
                                            registry=self.registry)
        self._index = _IndexCollector()
        self.registry.register(self._index)

    def watch(self, recommender: Recommender, update_queue_size: Callable[[], int]) -> None:
        """Read the index's size and build, and the update queue, from these at each scrape."""
        self._index.recommender = recommender
        self.update_queue.set_function(update_queue_size)

    def watch_readiness(self, readiness: Readiness) -> None:
        self.ready.set_function(lambda: float(readiness.ready))
        self.configuration_warnings.set_function(lambda: float(len(readiness.warnings)))

    def photo_served(self, latency_s: float) -> None:
        """A photo's first page was sent, ``latency_s`` after its update's handling began."""
        self.photo_latency.observe(latency_s)
        self.photos_served.inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class _IndexCollector(Collector):
    recommender: Recommender | None = None

    def collect(self) -> Iterator[GaugeMetricFamily]:
        if self.recommender is None:
            return
        products = GaugeMetricFamily("fashionbot_index_products", "Products in the index being served")
        products.add_metric([], self.recommender.products_served)
        build = GaugeMetricFamily("fashionbot_index_build", "The index build being served (always 1)",
                                  labels=["build_id"])
        build.add_metric([self.recommender.build_id], 1)
        yield products
        yield build

    def describe(self) -> Iterator[GaugeMetricFamily]:
        return iter(())
