"""Finding the crisis service for a country, and counting uses without anyone's identity."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.db import db, dialect_insert, utcnow
from app.urgent.models import CrisisService, UrgentHelpDay

DIALABLE = re.compile(r"\+[1-9]\d{6,14}")


def service_for(country: str | None) -> CrisisService | None:
    """The crisis service of this country (ISO code), if the line has one."""
    if not country:
        return None
    return db.session.scalar(select(CrisisService).where(CrisisService.country == country))


def by_id(service_id: int) -> CrisisService | None:
    """The service with this id."""
    return db.session.get(CrisisService, service_id)


def count_use() -> None:
    """Count one use of urgent help today, in one statement. Commits."""
    table = UrgentHelpDay.__table__
    statement = dialect_insert(table).values(day=utcnow().date(), uses=1)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.day], set_={"uses": table.c.uses + 1}
    )
    db.session.execute(statement)
    db.session.commit()


def recent_uses(days: int = 14) -> list[UrgentHelpDay]:
    """The last days' counts, newest first (days without a use are not listed)."""
    return db.session.scalars(
        select(UrgentHelpDay).order_by(UrgentHelpDay.day.desc()).limit(days)
    ).all()
