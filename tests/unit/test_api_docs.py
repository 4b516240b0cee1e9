"""docs/api.md names every path the API serves (its OpenAPI document), and nothing it does not."""

from __future__ import annotations

import re
from pathlib import Path

from albumen.config import Settings
from albumen.web import create_app

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
PATH = re.compile(r"(?<![\w.])(/(?:api/v1|s|t|metrics|healthz|readyz)(?:/[^\s`|)?,·]*)?)")


def _shape(path: str) -> str:
    """A path with its parameters unnamed: ``/albums/{id}`` and ``/albums/{album_id}`` agree."""
    return re.sub(r"\{[^}]*\}", "{}", path.rstrip("/"))


def test_docs_api_md_names_every_path_of_the_openapi_document(tmp_path: Path) -> None:
    served = {_shape(path) for path in create_app(Settings(data_dir=tmp_path)).openapi()["paths"]}
    named = {_shape(found) for found in PATH.findall(DOC.read_text())}
    assert sorted(served - named) == []
