"""``SqlTierRepo``: the tier of each original, its last read, moves, and retrievals."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, func, select, update

from albumen.adapters.db.engine import dialect_insert, writing
from albumen.adapters.db.tables import blob_tiers, photos, tier_retrievals, users
from albumen.domain.tiers import Retrieval, Tier, TierUsage


class SqlTierRepo:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def tier(self, sha256: str) -> Tier | None:
        query = select(blob_tiers.c.tier).where(blob_tiers.c.sha256 == sha256)
        with self._engine.connect() as conn:
            found = conn.execute(query).scalar()
        return None if found is None else Tier(found)

    def read(self, sha256: str, now: datetime) -> None:
        with writing(self._engine) as conn:
            conn.execute(
                update(blob_tiers).where(blob_tiers.c.sha256 == sha256).values(read_at=now)
            )

    def unread_since(self, tier: Tier, before: datetime, limit: int) -> list[str]:
        """Originals in ``tier`` last read before ``before``, longest unread first."""
        query = (
            select(blob_tiers.c.sha256)
            .where(
                blob_tiers.c.tier == tier.value,
                blob_tiers.c.read_at < before,
                blob_tiers.c.moving_to.is_(None),
            )
            .order_by(blob_tiers.c.read_at)
            .limit(limit)
        )
        with self._engine.connect() as conn:
            return list(conn.execute(query).scalars())

    def read_since(self, tier: Tier, since: datetime, limit: int) -> list[str]:
        """Originals in ``tier`` read at or after ``since`` (to come back up)."""
        query = (
            select(blob_tiers.c.sha256)
            .where(
                blob_tiers.c.tier == tier.value,
                blob_tiers.c.read_at >= since,
                blob_tiers.c.moving_to.is_(None),
            )
            .limit(limit)
        )
        with self._engine.connect() as conn:
            return list(conn.execute(query).scalars())

    def start_move(self, sha256: str, to: Tier) -> None:
        with writing(self._engine) as conn:
            conn.execute(
                update(blob_tiers).where(blob_tiers.c.sha256 == sha256).values(moving_to=to.value)
            )

    def finish_move(self, sha256: str, to: Tier, now: datetime) -> None:
        values: dict[str, object] = {"tier": to.value, "moving_to": None, "moved_at": now}
        if to is Tier.HOT:
            values["read_at"] = now  # restored because someone asked: it was just read
        with writing(self._engine) as conn:
            conn.execute(update(blob_tiers).where(blob_tiers.c.sha256 == sha256).values(values))

    def forget(self, sha256: str) -> None:
        """Stop tracking a blob no photo refers to any more."""
        with writing(self._engine) as conn:
            conn.execute(blob_tiers.delete().where(blob_tiers.c.sha256 == sha256))

    def moving(self, limit: int) -> list[tuple[str, Tier]]:
        """Moves begun and not finished (a crash, or a restore asked for)."""
        query = (
            select(blob_tiers.c.sha256, blob_tiers.c.moving_to)
            .where(blob_tiers.c.moving_to.is_not(None))
            .limit(limit)
        )
        with self._engine.connect() as conn:
            return [(row.sha256, Tier(row.moving_to)) for row in conn.execute(query)]

    def count_retrieval(self, owner_id: str, tier: Tier, size: int, now: datetime) -> None:
        values = {
            "owner_id": owner_id,
            "tier": tier.value,
            "month": now.strftime("%Y-%m"),
            "reads": 1,
            "bytes": size,
        }
        upsert = dialect_insert(self._engine, tier_retrievals).values(values)
        upsert = upsert.on_conflict_do_update(
            index_elements=["owner_id", "tier", "month"],
            set_={
                "reads": tier_retrievals.c.reads + 1,
                "bytes": tier_retrievals.c.bytes + size,
            },
        )
        with writing(self._engine) as conn:
            conn.execute(upsert)

    def usage(self) -> list[TierUsage]:
        query = (
            select(
                users.c.name,
                func.coalesce(blob_tiers.c.tier, Tier.HOT.value).label("tier"),
                func.count().label("photos"),
                func.sum(photos.c.size).label("bytes"),
            )
            .select_from(
                photos.join(users, users.c.id == photos.c.owner_id).outerjoin(
                    blob_tiers, blob_tiers.c.sha256 == photos.c.sha256
                )
            )
            .group_by(users.c.name, "tier")
        )
        with self._engine.connect() as conn:
            return [
                TierUsage(row.name, Tier(row.tier), row.photos, int(row.bytes or 0))
                for row in conn.execute(query)
            ]

    def retrievals(self, since_month: str) -> list[Retrieval]:
        query = (
            select(tier_retrievals, users.c.name)
            .join(users, users.c.id == tier_retrievals.c.owner_id)
            .where(tier_retrievals.c.month >= since_month)
        )
        with self._engine.connect() as conn:
            return [
                Retrieval(row.name, Tier(row.tier), row.month, row.reads, row.bytes)
                for row in conn.execute(query)
            ]
