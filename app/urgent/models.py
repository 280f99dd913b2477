"""Crisis services the admin keeps, and how often urgent help was asked for, per day."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import db


class CrisisService(db.Model):
    """A country's crisis line: what the caller hears and what the line dials.

    `checked` is set by an admin who has confirmed the service and its number; the seeded
    ones are not, and the admin says so until they are.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    country: Mapped[str] = mapped_column(String(2), unique=True)  # ISO 3166-1 alpha-2
    name: Mapped[str] = mapped_column(String(120))
    spoken: Mapped[str] = mapped_column(String(40))  # as said: "116 123"
    dial: Mapped[str | None] = mapped_column(String(20))  # E.164, or none: said only
    checked: Mapped[bool] = mapped_column(default=False)


class UrgentHelpDay(db.Model):
    """How many times urgent help was asked for on a day (UTC). No identity, no country."""

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    uses: Mapped[int] = mapped_column(Integer, default=0)
