"""Subscribers' numbers are encrypted as every number the line keeps: app.infra.crypto."""

from __future__ import annotations

from app.infra.crypto import EXTENSION, decrypt, encrypt, rotate

__all__ = ["EXTENSION", "decrypt", "encrypt", "rotate"]
