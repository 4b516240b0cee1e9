"""``SearchService``: find photos by what one remembers of them, and count them by month."""

from __future__ import annotations

from dataclasses import dataclass

from albumen.domain.errors import InvalidInput
from albumen.domain.photos import Page, TimelineCursor
from albumen.domain.search import SearchFilters, SearchOrder, Suggestion, parse_query
from albumen.ports import SearchIndex
from albumen.services.albums import AlbumService
from albumen.services.photos import check_limit

# Counting stops here ("1,000+" is all a person needs to know), and only the first page counts:
# a count costs as much as reading that many results.
COUNT_CAP = 1000
MAX_QUERY = 1000


@dataclass(frozen=True, slots=True)
class SearchResult:
    page: Page
    total: int | None  # on the first page only
    total_is_exact: bool
    filters: SearchFilters


class SearchService:
    def __init__(self, index: SearchIndex, albums: AlbumService) -> None:
        self._index = index
        self._albums = albums

    def filters(self, q: str, extra: SearchFilters) -> SearchFilters:
        """The query language's filters narrowed by those given as parameters."""
        if len(q) > MAX_QUERY:
            raise InvalidInput(f"a query has at most {MAX_QUERY} characters", code="query_too_long")
        return parse_query(q).merged(extra)

    def search(
        self,
        user_id: str,
        filters: SearchFilters,
        order: SearchOrder,
        limit: int,
        cursor: TimelineCursor | None,
    ) -> SearchResult:
        check_limit(limit)
        album_ids = self._album_ids(user_id, filters)
        if order is SearchOrder.RELEVANCE and not filters.has_text:
            order = SearchOrder.NEWEST  # nothing to rank by
        cap = COUNT_CAP + 1 if cursor is None else 0  # the first page counts
        page, counted = self._index.search(user_id, filters, album_ids, order, limit, cursor, cap)
        if cursor is not None:
            return SearchResult(page, None, False, filters)
        total = len(page.photos) if page.next_cursor is None else (counted or 0)
        return SearchResult(page, min(total, COUNT_CAP), total <= COUNT_CAP, filters)

    def buckets(self, user_id: str, filters: SearchFilters, by_day: bool) -> list[tuple[str, int]]:
        """Counts per month (or day), newest first: of the timeline, or of a search."""
        if filters.is_empty:
            return self._index.buckets(user_id, None, None, by_day)
        return self._index.buckets(user_id, filters, self._album_ids(user_id, filters), by_day)

    def suggest(self, user_id: str, prefix: str, limit: int = 12) -> list[Suggestion]:
        """Suggestions for the word being typed in the search box (two characters or more)."""
        prefix = prefix.strip().lstrip('-"')
        if ":" in prefix or len(prefix) < 2 or len(prefix) > 100:
            return []
        return self._index.suggest(user_id, prefix, limit)

    def _album_ids(self, user_id: str, filters: SearchFilters) -> list[str] | None:
        if filters.album is None:
            return None
        return self._albums.resolve(user_id, filters.album)
