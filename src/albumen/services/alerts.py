"""``AlertService``: the alert rules judged on live figures, for the embedded default.

Each evaluation compares every rule with the figures of the last five minutes. A rule whose
condition holds starts *pending*; it *fires* once it has held for its ``for_minutes`` (as in
Prometheus), and it resolves as soon as the condition ends. Firing and resolving are handed to
the notifier, which delivers them in the background: a slow or dead webhook never holds up
evaluation, let alone a request.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import timedelta

from albumen.domain.monitoring import RULES, Alert, AlertRule, Figures
from albumen.ports import AlertNotifier, Clock

log = logging.getLogger(__name__)


class AlertService:
    def __init__(
        self,
        figures: Callable[[], Figures],
        clock: Clock,
        notifier: AlertNotifier | None = None,
        rules: Sequence[AlertRule] = RULES,
    ) -> None:
        self._figures = figures
        self._clock = clock
        self._notifier = notifier
        self._rules = rules
        self._active: dict[str, Alert] = {}
        self._lock = threading.Lock()

    @property
    def rules(self) -> Sequence[AlertRule]:
        return self._rules

    def evaluate(self) -> list[Alert]:
        """Judge every rule now; returns the alerts active afterwards (pending or firing)."""
        figures, now = self._figures(), self._clock.now()
        fired: list[Alert] = []
        resolved: list[Alert] = []
        with self._lock:
            for rule in self._rules:
                breached, value = rule.breached(figures)
                before = self._active.get(rule.name)
                if not breached or value is None:
                    if before is not None:
                        del self._active[rule.name]
                        if before.firing:
                            resolved.append(before)
                    continue
                since = before.since if before else now
                firing = now - since >= timedelta(minutes=rule.for_minutes)
                alert = Alert(
                    rule.name, rule.summary, rule.severity, value, rule.threshold, since, firing
                )
                self._active[rule.name] = alert
                if firing and not (before and before.firing):
                    fired.append(alert)
            active = list(self._active.values())
        for alert in fired:
            log.warning("alert firing", extra={"alert": alert.name, "value": alert.value})
        for alert in resolved:
            log.info("alert resolved", extra={"alert": alert.name})
        if self._notifier is not None and (fired or resolved):
            self._notifier.send(fired, resolved, now)
        return active

    def active(self) -> list[Alert]:
        with self._lock:
            return sorted(self._active.values(), key=lambda a: (not a.firing, a.name))
