"""Membership at a glance, and an admin's manual grant or revoke by a call's identity."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from app import identity_keys
from app.admin import bp
from app.admin.audit import audit
from app.billing import membership
from app.billing.models import Membership, MembershipStatus
from app.db import db
from app.line.models import Call
from app.sms import subscribers

MANUAL = "manual"


def status_of(identity: str) -> Membership | None:
    """The membership row of an identity, if the line has one."""
    forms = identity_keys.forms(identity)
    return db.session.scalar(select(Membership).where(Membership.identity.in_(forms)))


def is_member(row: Membership | None) -> bool:
    """Whether the membership is active: revoking applies then, granting otherwise."""
    return row is not None and row.status == MembershipStatus.ACTIVE


@bp.get("/members")
def members():
    """Membership counts, manual memberships and SMS subscribers."""
    manual = db.session.scalar(
        select(func.count()).select_from(Membership).where(Membership.source == MANUAL)
    )
    return render_template(
        "admin/members.html",
        counts=membership.counts(),
        manual=manual,
        subscribers=subscribers.active_count(),
    )


@bp.post("/calls/<int:call_id>/membership/<any(grant, revoke):change>")
def change_membership(call_id: int, change: str):
    """Grant or revoke a membership by hand for the caller of this call."""
    call = db.session.get(Call, call_id) or abort(404)
    if call.withheld:
        flash(_("A withheld number has no lasting identity to give a membership to."), "error")
        return redirect(url_for("admin.call_detail", call_id=call.id))
    if is_member(status_of(call.identity)) == (change == "grant"):  # a stale page: nothing to do
        flash(
            _("Already a member.") if change == "grant" else _("Not a member: nothing to revoke.")
        )
        return redirect(url_for("admin.call_detail", call_id=call.id))
    member = membership.set_manual(call.identity, active=change == "grant")
    action = "membership_granted" if change == "grant" else "membership_revoked"
    audit(action, target=member.id, detail=f"caller {call.identity[:10]} (call {call.id})")
    db.session.commit()
    flash(_("Membership granted.") if change == "grant" else _("Membership revoked."))
    return redirect(url_for("admin.call_detail", call_id=call.id))
