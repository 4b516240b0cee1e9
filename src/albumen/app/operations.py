"""``Operations``: what watches the library rather than serving it. Only the admin and metrics
routes and the monitoring loop are given it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import psutil
from prometheus_client import CollectorRegistry

from albumen.adapters.cache import LayeredCache
from albumen.adapters.db.monitor import QueryMonitor
from albumen.adapters.metrics import (
    CONTENT_TYPE,
    AppCollector,
    CacheStats,
    HostCollector,
    app_registry,
    exposition,
)
from albumen.adapters.monitor import Sampler
from albumen.adapters.webhook import WebhookNotifier
from albumen.app.infrastructure import Infrastructure
from albumen.app.services import Services
from albumen.ports import TunableCache
from albumen.services.alerts import AlertService
from albumen.services.caching import CacheOptimizer


@dataclass(frozen=True)
class Operations:
    registry: CollectorRegistry  # what /metrics exposes
    sampler: Sampler  # the dashboard's recent figures
    alerts: AlertService
    optimizer: CacheOptimizer
    queries: QueryMonitor  # slow statements and their plans
    notifier: WebhookNotifier | None  # where alerts are posted
    unready: Callable[[], list[str]]  # what /readyz reports failing (empty: ready)

    EXPOSITION_TYPE = CONTENT_TYPE  # Prometheus' text format

    def exposition(self) -> bytes:
        """Every metric, as /metrics answers it."""
        return exposition(self.registry)

    def close(self) -> None:
        if self.notifier is not None:
            self.notifier.close()


def build_operations(
    infra: Infrastructure, services: Services, queries: QueryMonitor
) -> Operations:
    settings, cache, l1 = infra.settings, infra.cache, infra.thumbnail_cache
    caches = [CacheStats(l1.level, l1.size, lambda: l1.max_bytes, l1.hit_ratio)]
    tunable: list[TunableCache] = [l1]
    ceilings = {l1.level: psutil.virtual_memory().total // 4}
    if isinstance(cache, LayeredCache):
        l2 = cache.l2
        caches.append(CacheStats(l2.level, l2.size, l2.capacity, l2.hit_ratio))
        tunable.append(l2)
        ceilings[l2.level] = 4 * max(l2.capacity(), settings.thumbnail_cache_bytes)
    collector = AppCollector(infra.queue.stats, infra.engine, caches, services.prefetch.stats)
    registry = app_registry(collector, HostCollector(settings.data_dir))
    sampler = Sampler(registry)
    webhook = settings.alert_webhook_url
    notifier = WebhookNotifier(webhook.reveal()) if webhook else None
    return Operations(
        registry=registry,
        sampler=sampler,
        alerts=AlertService(figures=sampler.figures, clock=infra.clock, notifier=notifier),
        optimizer=CacheOptimizer(
            figures=lambda: sampler.figures(sampler.keep_seconds).caches,
            levels=tunable,
            ceilings=ceilings,
            auto_apply=settings.cache_optimizer_apply,
        ),
        queries=queries,
        notifier=notifier,
        unready=infra.unready,
    )
