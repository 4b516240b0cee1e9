"""``MapService``: where a user's photos were taken, as clusters a map draws at its scale."""

from __future__ import annotations

from dataclasses import dataclass

from albumen.domain.maps import CellRange, Cluster, cells_of, level_for
from albumen.domain.search import Box
from albumen.ports import MapIndex
from albumen.services.albums import AlbumService


@dataclass(frozen=True, slots=True)
class Pin:
    """A cluster as a map shows it: its photos' count and middle, the cell it stands for (its
    photos are those ``within`` the cell's box), and the newest photo, to show on it."""

    cluster: Cluster
    photo_id: str
    thumbhash: str | None


@dataclass(frozen=True, slots=True)
class MapView:
    level: int
    pins: list[Pin]

    @property
    def total(self) -> int:
        return sum(pin.cluster.count for pin in self.pins)


class MapService:
    def __init__(self, index: MapIndex, albums: AlbumService) -> None:
        self._index = index
        self._albums = albums

    def library(self, user_id: str, box: Box, zoom: int) -> MapView:
        """The user's timeline (not trashed, not archived) in the box, at the zoom's scale."""
        cells = cells_of(box, level_for(zoom))
        return self._view(cells, self._index.clusters(user_id, cells))

    def album(self, user_id: str, album_id: str, box: Box, zoom: int) -> MapView:
        """An album's photos and its sub-albums' (as its page and downloads have them)."""
        return self.albums(self._albums.subtree(user_id, album_id), box, zoom)

    def albums(self, album_ids: list[str], box: Box, zoom: int) -> MapView:
        """The photos of albums already checked (a share link's)."""
        cells = cells_of(box, level_for(zoom))
        return self._view(cells, self._index.album_clusters(album_ids, cells))

    def _view(self, cells: CellRange, clusters: list[Cluster]) -> MapView:
        covers = self._index.photo_ids([cluster.cover for cluster in clusters])
        pins = [
            Pin(cluster, *covers[cluster.cover]) for cluster in clusters if cluster.cover in covers
        ]
        return MapView(cells.level, pins)
