"""Admin accounts, their recovery codes, and the audit log of every change an admin makes."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from app.db import UTCDateTime, db, utcnow

MIN_PASSWORD = 12


class AdminUser(UserMixin, db.Model):
    """Someone who may log into /admin; only a password hash is stored."""

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Part of every session's user id: bumping it (logout, password change) ends every session
    # signed with an older one, copies of the cookie included.
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    totp_secret: Mapped[str | None] = mapped_column(String(64))  # base32, as the app shows it
    # The time step of the last code accepted: no code is accepted twice.
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    language: Mapped[str | None] = mapped_column(String(8))  # the admin's pages; None: default

    def get_id(self) -> str:
        """The id kept in the session: the account and its session generation."""
        return f"{self.id}.{self.session_generation}"

    def end_sessions(self) -> None:
        """End every session of this admin, on any device, at its next request."""
        self.session_generation += 1

    def set_password(self, password: str) -> None:
        """Store a salted hash of the password."""
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        """Whether the password matches the stored hash."""
        return check_password_hash(self.password_hash, password)


class RecoveryCode(db.Model):
    """A one-time code that stands in for the second factor; only its SHA-256 is kept."""

    __tablename__ = "admin_recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    admin_id: Mapped[int] = mapped_column(
        ForeignKey("admin_user.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditLog(db.Model):
    """One admin action: who did what, to which record, and when."""

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    admin_id: Mapped[int | None] = mapped_column(
        ForeignKey("admin_user.id", ondelete="SET NULL"), index=True
    )
    # Kept as text too, so the log still says who acted after an account is removed.
    admin_email: Mapped[str | None] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(32), index=True)
    target: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(String(200))
