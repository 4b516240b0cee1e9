"""Where a photo was taken, as people name it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Place:
    city: str
    region: str
    country: str
    country_code: str

    @property
    def label(self) -> str:
        """ "Paris, Île-de-France, France", skipping empty or repeated parts."""
        parts: list[str] = []
        for part in (self.city, self.region, self.country):
            if part and part not in parts:
                parts.append(part)
        return ", ".join(parts)
