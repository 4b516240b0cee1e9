"""tus 1.0 resumable uploads: creation, core, termination and checksum extensions."""

from __future__ import annotations

import base64
import binascii

from fastapi import APIRouter, Request, Response
from starlette.requests import ClientDisconnect

from albumen.api.deps import CurrentUser, Uploads
from albumen.api.errors import error_response
from albumen.api.openapi import errors
from albumen.domain.errors import InvalidInput
from albumen.ports import Upload
from albumen.services.uploads import CHECKSUM_ALGORITHMS

router = APIRouter(prefix="/api/v1/uploads", tags=["uploads"])
TUS_VERSION = "1.0.0"
TUS = {"Tus-Resumable": TUS_VERSION}
OFFSET_STREAM = "application/offset+octet-stream"


def _header(name: str, description: str, schema: dict[str, object]) -> dict[str, object]:
    return {"name": name, "in": "header", "description": description, "schema": schema}


COUNT = {"type": "integer", "minimum": 0}
RESUMABLE = _header("Tus-Resumable", "The tus version spoken", {"enum": [TUS_VERSION]})
RESUMABLE["required"] = True
SAYS_TUS = {"Tus-Resumable": {"schema": {"enum": [TUS_VERSION]}, "required": True}}
PROGRESS = {
    "description": "How much of the upload the server has",
    "headers": SAYS_TUS
    | {
        "Upload-Offset": {"schema": COUNT, "required": True},
        "Upload-Length": {"schema": COUNT, "required": True},
        "Albumen-Photo-Id": {
            "schema": {"type": "string"},
            "description": "The photo made, once every byte has arrived",
        },
    },
}


def _require_tus(request: Request) -> Response | None:
    if request.headers.get("tus-resumable") != TUS_VERSION:
        response = error_response(412, "tus_version", f"this server speaks tus {TUS_VERSION}")
        response.headers["Tus-Version"] = TUS_VERSION
        return response
    return None


@router.options(
    "",
    response_class=Response,
    status_code=204,
    responses={
        204: {
            "description": "What this server's tus speaks",
            "headers": {
                "Tus-Version": {"schema": {"type": "string"}, "required": True},
                "Tus-Extension": {"schema": {"type": "string"}, "required": True},
                "Tus-Max-Size": {"schema": COUNT, "required": True},
                "Tus-Checksum-Algorithm": {"schema": {"type": "string"}, "required": True},
            },
        }
    },
)
def discover(uploads: Uploads) -> Response:
    return Response(
        status_code=204,
        headers={
            **TUS,
            "Tus-Version": TUS_VERSION,
            "Tus-Extension": "creation,termination,checksum",
            "Tus-Max-Size": str(uploads.max_bytes),
            "Tus-Checksum-Algorithm": ",".join(CHECKSUM_ALGORITHMS),
        },
    )


@router.post(
    "",
    response_class=Response,
    status_code=201,
    responses=errors(
        400,
        412,
        413,
        success={
            201: {
                "description": "Created: send its bytes to `Location`",
                "headers": SAYS_TUS
                | {"Location": {"schema": {"type": "string"}, "required": True}},
            }
        },
    ),
    openapi_extra={
        "parameters": [
            RESUMABLE,
            _header("Upload-Length", "The file's size in bytes", COUNT) | {"required": True},
            _header(
                "Upload-Metadata",
                "`filename <base64>`, and `modified_at <base64>`: the file's date (ISO 8601)",
                {"type": "string"},
            ),
        ]
    },
)
def create(request: Request, user: CurrentUser, uploads: Uploads) -> Response:
    if (refused := _require_tus(request)) is not None:
        return refused
    length = _int_header(request, "upload-length")
    metadata = _metadata(request.headers.get("upload-metadata", ""))
    upload = uploads.create(
        user.id, length, metadata.get("filename", ""), metadata.get("modified_at")
    )
    location = str(request.url_for("upload_status", upload_id=upload.id).path)
    return Response(status_code=201, headers={**TUS, "Location": location})


@router.head(
    "/{upload_id}",
    response_class=Response,
    name="upload_status",
    responses=errors(412, success={200: PROGRESS}),
    openapi_extra={"parameters": [RESUMABLE]},
)
def status(upload_id: str, request: Request, user: CurrentUser, uploads: Uploads) -> Response:
    if (refused := _require_tus(request)) is not None:
        return refused
    return Response(status_code=200, headers=_progress(uploads.status(user.id, upload_id)))


@router.patch(
    "/{upload_id}",
    response_class=Response,
    status_code=204,
    responses=errors(400, 409, 412, 413, 415, 460, success={204: PROGRESS}),
    openapi_extra={
        "parameters": [
            RESUMABLE,
            _header("Upload-Offset", "Where these bytes start", COUNT) | {"required": True},
            _header("Upload-Checksum", "`sha1 <base64>` (or sha256, md5)", {"type": "string"}),
        ],
        "requestBody": {
            "required": True,
            "content": {OFFSET_STREAM: {"schema": {"type": "string", "format": "binary"}}},
        },
    },
)
async def append(upload_id: str, request: Request, user: CurrentUser, uploads: Uploads) -> Response:
    if (refused := _require_tus(request)) is not None:
        return refused
    if request.headers.get("content-type") != OFFSET_STREAM:
        return error_response(415, "unsupported_media", f"PATCH bodies are {OFFSET_STREAM}")
    offset = _int_header(request, "upload-offset")
    checksum = request.headers.get("upload-checksum")
    try:
        upload, result = await uploads.append(
            user.id, upload_id, offset, request.stream(), checksum
        )
    except ClientDisconnect:
        return Response(status_code=400)  # nobody is listening; what arrived is kept
    headers = _progress(upload)
    if result is not None:
        headers["Albumen-Duplicate"] = str(result.duplicate).lower()
    return Response(status_code=204, headers=headers)


@router.delete(
    "/{upload_id}",
    response_class=Response,
    status_code=204,
    responses=errors(412, success={204: {"description": "Ended", "headers": SAYS_TUS}}),
    openapi_extra={"parameters": [RESUMABLE]},
)
def terminate(upload_id: str, request: Request, user: CurrentUser, uploads: Uploads) -> Response:
    if (refused := _require_tus(request)) is not None:
        return refused
    uploads.terminate(user.id, upload_id)
    return Response(status_code=204, headers=TUS)


def _progress(upload: Upload) -> dict[str, str]:
    headers = {
        **TUS,
        "Upload-Offset": str(upload.offset),
        "Upload-Length": str(upload.length),
        "Cache-Control": "no-store",
    }
    if upload.photo_id:
        headers["Albumen-Photo-Id"] = upload.photo_id
    return headers


def _int_header(request: Request, name: str) -> int:
    value = request.headers.get(name, "")
    if not value.isdigit():
        raise InvalidInput(f"{name} must be a non-negative integer", code="bad_header")
    return int(value)


def _metadata(header: str) -> dict[str, str]:
    found = {}
    for pair in filter(None, (item.strip() for item in header.split(","))):
        key, _, encoded = pair.partition(" ")
        try:
            found[key] = base64.b64decode(encoded, validate=True).decode("utf-8", "replace")
        except binascii.Error as err:
            raise InvalidInput("Upload-Metadata values are base64", code="bad_header") from err
    return found
