"""What an admin page reads from its URL, bounded: no odd value reaches the database."""

from __future__ import annotations

from flask import abort

from app.admin import bp

MAX_ID = 2**31 - 1  # the largest INTEGER the database stores
MAX_PAGE = 100_000


def page_number(args) -> int:
    """The `page` argument as a page number from 1 to MAX_PAGE (1 when it is no number)."""
    page = args.get("page", 1, type=int)
    return min(max(page, 1), MAX_PAGE)


@bp.url_value_preprocessor
def bounded_ids(_endpoint: str | None, values: dict | None) -> None:
    """An id in the path that no row can have is a 404, not a database error."""
    for value in (values or {}).values():
        if isinstance(value, int) and value > MAX_ID:
            abort(404)
