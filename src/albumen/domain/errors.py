"""The one error tree. Each error carries a machine-readable ``code``; the API maps classes to
HTTP statuses in ``albumen.api.errors``."""

from __future__ import annotations


class AlbumenError(Exception):
    """Base of every error Albumen raises on purpose."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, object] = {}
        if code is not None:
            self.code = code


class NotFound(AlbumenError):
    code = "not_found"


class Conflict(AlbumenError):
    code = "conflict"


class Unauthorized(AlbumenError):
    code = "unauthorized"


class Forbidden(AlbumenError):
    code = "forbidden"


class Gone(AlbumenError):
    """It existed, and is no longer available (an expired share link)."""

    code = "gone"


class BlobMissing(Gone):
    """A record's bytes are not in the store (nor in the mirror): lost until restored."""

    code = "blob_missing"


class DatabaseDamaged(AlbumenError):
    """The database file cannot be read as a database."""

    code = "database_damaged"


class OriginalDamaged(Gone):
    """An original's bytes no longer match their hash, and no good copy was at hand."""

    code = "original_damaged"


class Unavailable(AlbumenError):
    """A backend needed for this request cannot be reached now; trying later may work."""

    code = "unavailable"


class Archived(Unavailable):
    """Stored in an archive class (S3 Glacier): readable only after a restore."""

    code = "in_cold_storage"


class RateLimited(AlbumenError):
    code = "rate_limited"


class InvalidInput(AlbumenError):
    code = "invalid_input"


class UnsupportedMedia(InvalidInput):
    code = "unsupported_media"


class TooLarge(InvalidInput):
    code = "too_large"


class CorruptMedia(InvalidInput):
    """The bytes claim a known format but cannot be decoded (truncated, broken, a bomb)."""

    code = "corrupt_media"


class IntegrityError(AlbumenError):
    """Stored bytes no longer match their checksum."""

    code = "integrity_error"
