"""Encryption of the numbers the line must call or text back (subscribers, listeners),
with rotating keys (MultiFernet)."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app

from app.settings import settings

EXTENSION = "mindfuse.fernet"


def _fernet() -> MultiFernet:
    # NUMBER_ENCRYPTION_KEY may list several keys, newest first: the first encrypts, any decrypts.
    found = current_app.extensions.get(EXTENSION)
    if found is None:
        keys = [k.strip() for k in settings.NUMBER_ENCRYPTION_KEY.split(",") if k.strip()]
        found = MultiFernet([Fernet(key) for key in keys])
        current_app.extensions[EXTENSION] = found
    return found


def encrypt(number: str) -> bytes:
    """The number, encrypted with the newest key."""
    return _fernet().encrypt(number.encode())


def decrypt(token: bytes) -> str:
    """The number, from a token made with any of the configured keys."""
    try:
        return _fernet().decrypt(token).decode()
    except InvalidToken as error:
        raise ValueError("a stored number cannot be decrypted with the configured keys") from error


def rotate(token: bytes) -> bytes:
    """The same number, re-encrypted with the newest key."""
    return _fernet().rotate(token)
