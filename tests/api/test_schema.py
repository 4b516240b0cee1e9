"""Schemathesis against ``/openapi.json``: every operation, signed in, in both worlds (#21).

Each operation gets requests made from its own description, valid ones and broken ones, with
the ids of a real library (a processed photo, an album holding it, a share link, a tus upload)
in place of a path's ids half of the time. Each answer must be one the document names, with the
body, content type and headers it says, and never a 5xx; a request the document calls invalid
must be refused. ``ALBUMEN_SCHEMA_EXAMPLES`` sets the requests per operation and mode (12 here;
``make fuzz`` runs 300, not derandomized).

Not run: schemathesis's ``positive_data_acceptance``, which takes any 4xx to a request the
schema allows as a failure. A cursor, a search query or a share password is valid only if the
server made or knows it, which no schema can say; what such a request must get (a clear 400)
the status-code check holds.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation import GenerationMode
from schemathesis.generation.meta import negated_parameters
from schemathesis.python.asgi import shutdown_lifespans

from albumen.adapters.queue import HueyJobQueue
from albumen.app.services import Services
from albumen.config import Settings
from albumen.web import create_app
from tests.conftest import make_jpeg, upload

EXAMPLES = int(os.environ.get("ALBUMEN_SCHEMA_EXAMPLES", "12"))
RANDOM = os.environ.get("ALBUMEN_SCHEMA_RANDOM") == "1"  # make fuzz: new requests every run
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# tus PATCH bodies are bytes, sent as schemathesis sends application/octet-stream
schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")


PATHS: dict[str, dict[str, Any]] = create_app(Settings(data_dir=Path("/nonexistent"))).openapi()[
    "paths"
]
# every operation, and whether it takes anything a request could get wrong
OPERATIONS = {
    (method.upper(), path): bool(spec.get("parameters") or spec.get("requestBody"))
    for path, methods in PATHS.items()
    for method, spec in methods.items()
}
LIST_QUERIES = {
    parameter["name"]
    for methods in PATHS.values()
    for spec in methods.values()
    for parameter in spec.get("parameters", ())
    if parameter["in"] == "query" and "array" in str(parameter["schema"])
}


def _checks(case: Any, checks: list[Any]) -> list[Any]:
    """Checks for one request. A query string carries text only, so a list parameter that
    schemathesis broke (an object, a number) reaches the server as a valid list of text, and
    a parameter given twice is read as its last value, as FastAPI reads it: neither is a
    request the API must refuse."""
    negated = {name for name, where in negated_parameters(case.meta) if where.value == "query"}
    repeated = any(isinstance(value, list) for value in (case.query or {}).values())
    if repeated or negated & LIST_QUERIES:
        return [check for check in checks if check is not negative_data_rejection]
    return checks


@pytest.fixture
def library(
    client: TestClient, auth: dict[str, str], services: Services, queue: HueyJobQueue
) -> Iterator[dict[str, list[str]]]:
    """The ids a path may name: each of them real, in the signed-in user's library."""
    photo = upload(client, auth, make_jpeg(seed=21)).json()["id"]
    queue.run_pending()
    album = client.post("/api/v1/albums", headers=auth, json={"name": "Ice"}).json()["id"]
    client.put(f"/api/v1/albums/{album}/photos", headers=auth, json={"ids": [photo]})
    link = client.post("/api/v1/shares", headers=auth, json={"album_id": album}).json()
    bob = services.users.add("bob").user.id
    tus = {"Tus-Resumable": "1.0.0", "Upload-Length": "10"}
    location = client.post("/api/v1/uploads", headers=auth | tus).headers["location"]
    yield {
        "photo_id": [photo],
        "album_id": [album],
        "link_id": [link["id"]],
        "token": [link["token"]],
        "user_id": [bob],
        "upload_id": [location.rsplit("/", 1)[1]],
    }
    shutdown_lifespans()  # schemathesis keeps each app it has called alive until told


@pytest.mark.slow
@pytest.mark.parametrize(
    ("method", "path"), list(OPERATIONS), ids=[f"{m} {p}" for m, p in OPERATIONS]
)
def test_every_operation_answers_as_its_description_says(
    method: str,
    path: str,
    client: TestClient,
    auth: dict[str, str],
    library: dict[str, list[str]],
) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    # refused in any clear way: tus answers 412 for a missing version, 415 for a wrong body
    schema.config.checks.negative_data_rejection.expected_statuses = ["4XX"]
    operation = schema[path][method]
    modes = [(GenerationMode.POSITIVE, CHECKS)]
    if OPERATIONS[method, path]:  # requests it must refuse
        modes.append((GenerationMode.NEGATIVE, [*CHECKS, negative_data_rejection]))
    for mode, checks in modes:
        try:
            _explore(operation, mode, checks, auth, library)
        except Unsatisfiable:  # nothing of it can be got wrong (a path's free text, say)
            assert mode is GenerationMode.NEGATIVE


def _explore(
    operation: Any,
    mode: GenerationMode,
    checks: list[Any],
    auth: dict[str, str],
    library: dict[str, list[str]],
) -> None:
    """``EXAMPLES`` requests of ``mode`` to ``operation``, each answer checked."""

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=not RANDOM,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
    def call(case: Any, data: st.DataObject) -> None:
        for name in case.path_parameters or {}:
            if name in library and data.draw(st.booleans(), label=f"real {name}"):
                case.path_parameters[name] = data.draw(st.sampled_from(library[name]))
        response = case.call(headers=dict(auth))
        case.validate_response(response, checks=_checks(case, checks), headers=dict(auth))

    call()
