"""Reports and blocks: who was reported, who is kept off the line, and lifting a block."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from app.admin import bp
from app.admin.audit import audit
from app.admin.forms import ActionForm
from app.db import db, utcnow
from app.line import safety
from app.line.models import Block, Call, Report

SHOWN = 100


@bp.get("/safety")
def safety_page():
    """Active and past blocks, and the most reported callers (by identity prefix)."""
    now = utcnow()
    blocks = db.session.scalars(
        select(Block).order_by(Block.created_at.desc(), Block.id.desc()).limit(SHOWN)
    ).all()
    reported = db.session.execute(
        select(
            Report.reported,
            func.count(func.distinct(Report.reporter)).label("reporters"),
            func.max(Report.created_at).label("latest"),
        )
        .group_by(Report.reported)
        .order_by(
            func.count(func.distinct(Report.reporter)).desc(), func.max(Report.created_at).desc()
        )
        .limit(SHOWN)
    ).all()
    masked = _masked_numbers([row.reported for row in reported])
    active = [b for b in blocks if b.lifted_at is None and b.expires_at > now]
    return render_template(
        "admin/safety.html",
        active=active,
        past=[b for b in blocks if b not in active],
        reported=reported,
        masked=masked,
        total_reports=db.session.scalar(select(func.count()).select_from(Report)),
        form=ActionForm(),
    )


def _masked_numbers(identities: list[str]) -> dict[str, str]:
    """The masked form last seen for each identity (reports keep identities only)."""
    rows = db.session.execute(
        select(Call.identity, Call.masked_number)
        .where(Call.identity.in_(identities))
        .order_by(Call.arrived_at)
    )
    return {identity: masked for identity, masked in rows}


@bp.post("/blocks/<int:block_id>/lift")
def lift_block(block_id: int):
    """Lift a block before it expires."""
    if safety.lift(block_id):
        audit("block_lifted", target=block_id)
        db.session.commit()
        flash(_("Block lifted: the caller can use the line again."))
    else:
        flash(_("That block was already lifted or no longer exists."), "error")
    return redirect(url_for("admin.safety_page"))
