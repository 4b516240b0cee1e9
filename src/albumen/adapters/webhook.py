"""``WebhookNotifier``: alerts posted as JSON, in Alertmanager's webhook format, in the background.

One daemon thread delivers; each message is retried with exponential backoff. The queue is
bounded: when the endpoint is down for long, the oldest undelivered messages are dropped
(logged) rather than memory growing, and the caller never waits.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import urllib.error
import urllib.request
from datetime import datetime
from typing import Any

from albumen.domain.monitoring import Alert

log = logging.getLogger(__name__)
MAX_WAITING = 100


class WebhookNotifier:
    def __init__(
        self, url: str, attempts: int = 5, first_delay: float = 1.0, timeout: float = 5.0
    ) -> None:
        self._url = url
        self._attempts = attempts
        self._first_delay = first_delay
        self._timeout = timeout
        self._waiting: queue.Queue[dict[str, Any] | None] = queue.Queue(MAX_WAITING)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._deliver, name="alert-webhook", daemon=True)
        self._thread.start()

    def send(self, fired: list[Alert], resolved: list[Alert], now: datetime) -> None:
        for status, alerts in (("firing", fired), ("resolved", resolved)):
            if alerts:
                self._put(payload(status, alerts, now))

    def close(self) -> None:
        self._stop.set()
        self._waiting.put(None)
        self._thread.join(timeout=self._timeout)

    def _put(self, message: dict[str, Any]) -> None:
        while True:
            try:
                self._waiting.put_nowait(message)
                return
            except queue.Full:
                dropped = self._waiting.get_nowait()
                log.error(
                    "alert webhook backlog full; dropped a message", extra={"dropped": dropped}
                )

    def _deliver(self) -> None:
        while (message := self._waiting.get()) is not None:
            delay = self._first_delay
            for attempt in range(1, self._attempts + 1):
                if self._post(message):
                    break
                if attempt == self._attempts or self._stop.wait(delay):
                    log.error("alert webhook gave up", extra={"attempts": attempt})
                    break
                delay *= 2

    def _post(self, message: dict[str, Any]) -> bool:
        body = json.dumps(message).encode()
        request = urllib.request.Request(
            self._url, body, {"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                return bool(200 <= response.status < 300)
        except urllib.error.HTTPError as err:
            err.close()
            log.warning("alert webhook refused", extra={"status": err.code})
            return False
        except (urllib.error.URLError, TimeoutError, OSError) as err:
            log.warning("alert webhook failed", extra={"error": str(err)})
            return False


def payload(status: str, alerts: list[Alert], now: datetime) -> dict[str, Any]:
    """Alertmanager's webhook body (version 4), so existing receivers understand it."""
    return {
        "version": "4",
        "status": status,
        "receiver": "albumen",
        "groupLabels": {},
        "commonLabels": {"service": "albumen"},
        "alerts": [
            {
                "status": status,
                "labels": {"alertname": a.name, "severity": a.severity.value, "service": "albumen"},
                "annotations": {
                    "summary": a.summary,
                    "value": f"{a.value:g}",
                    "threshold": f"{a.threshold:g}",
                },
                "startsAt": a.since.isoformat(),
                "endsAt": now.isoformat() if status == "resolved" else "0001-01-01T00:00:00Z",
            }
            for a in alerts
        ],
    }
