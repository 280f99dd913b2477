"""The admins' second factor: a TOTP key (RFC 6238, as authenticator apps read it) and
one-time recovery codes, of which only hashes are kept."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum

import pyotp
import qrcode
import qrcode.image.svg
from sqlalchemy import delete, func, or_, select, update

from app.admin.models import AdminUser, RecoveryCode
from app.db import db, utcnow

ISSUER = "Mindfuse admin"
RECOVERY_CODES = 10
DRIFT_STEPS = 1  # a phone's clock may be a step (30 s) either way


class Factor(StrEnum):
    """What stood in for the second factor at a login."""

    TOTP = "totp"
    RECOVERY = "recovery"


@dataclass(frozen=True)
class Enrolment:
    """What the admin is shown once: the key, as text and as a URI for a QR, and the codes."""

    secret: str
    uri: str
    recovery_codes: list[str]


def _hash(code: str) -> str:
    return hashlib.sha256(_normal(code).encode()).hexdigest()


def _normal(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()


def _recovery_code() -> str:
    # 80 random bits: a fast hash is enough, nobody can search that space from a stolen row.
    raw = base64.b32encode(secrets.token_bytes(10)).decode().lower()
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def enrol(user: AdminUser) -> Enrolment:
    """Give the admin a new key and new recovery codes (the old ones stop working)."""
    user.totp_secret, user.totp_last_step = pyotp.random_base32(32), None
    codes = [_recovery_code() for _ in range(RECOVERY_CODES)]
    db.session.flush()
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.admin_id == user.id))
    db.session.add_all(RecoveryCode(admin_id=user.id, code_hash=_hash(c)) for c in codes)
    uri = pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.email, issuer_name=ISSUER)
    return Enrolment(user.totp_secret, uri, codes)


def qr_text(uri: str) -> str:
    """The URI as a QR code drawn with block characters, for a terminal."""
    code = qrcode.QRCode(border=2)
    code.add_data(uri)
    out = io.StringIO()
    code.print_ascii(out=out)
    return out.getvalue()


def qr_svg(uri: str) -> bytes:
    """The URI as a QR code in SVG."""
    return qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage).to_string()


def verify(user: AdminUser, code: str) -> Factor | None:
    """The current TOTP code (each accepted once) or an unused recovery code; else None."""
    code = _normal(code)
    if code.isdigit() and len(code) == 6:
        return Factor.TOTP if _totp(user, code) else None
    return Factor.RECOVERY if _recovery(user, code) else None


def _totp(user: AdminUser, code: str) -> bool:
    if not user.totp_secret:
        return False
    totp = pyotp.TOTP(user.totp_secret)
    now = totp.timecode(time.time())
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            # One UPDATE decides: of two requests with the same code, only one is accepted.
            fresh = or_(AdminUser.totp_last_step.is_(None), AdminUser.totp_last_step < step)
            claimed = db.session.execute(
                update(AdminUser)
                .where(AdminUser.id == user.id, fresh)
                .values(totp_last_step=step)
                .execution_options(synchronize_session=False)
            )
            return claimed.rowcount == 1
    return False


def _recovery(user: AdminUser, code: str) -> bool:
    claimed = db.session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.admin_id == user.id,
            RecoveryCode.code_hash == _hash(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
    )
    return claimed.rowcount == 1


def recovery_codes_left(user: AdminUser) -> int:
    """How many of the admin's recovery codes are unused."""
    return db.session.scalar(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.admin_id == user.id, RecoveryCode.used_at.is_(None))
    )
