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


def test_every_error_answer_is_documented_with_the_error_body(tmp_path: Path) -> None:
    """Before, the document named 200 and 422 alone (with FastAPI's body, not ours)."""
    paths = create_app(Settings(data_dir=tmp_path)).openapi()["paths"]
    photo = paths["/api/v1/photos/{photo_id}"]["get"]["responses"]
    assert {"401", "404", "500", "503"} <= set(photo)
    for methods in paths.values():
        for method, operation in methods.items():
            for status, answer in operation["responses"].items():
                if int(status) >= 400 and method != "head":
                    schema = answer["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorOut"}


def test_the_tus_headers_are_in_the_document(tmp_path: Path) -> None:
    uploads = create_app(Settings(data_dir=tmp_path)).openapi()["paths"][
        "/api/v1/uploads/{upload_id}"
    ]
    sent = {p["name"] for p in uploads["patch"]["parameters"] if p["in"] == "header"}
    assert {"Tus-Resumable", "Upload-Offset", "Upload-Checksum"} <= sent
    assert {"Upload-Offset", "Upload-Length"} <= set(uploads["head"]["responses"]["200"]["headers"])
    assert "460" in uploads["patch"]["responses"]
