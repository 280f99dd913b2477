"""Urgent help: the crisis services callers are told of and connected to, and daily uses."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from app.admin import bp
from app.admin.audit import audit
from app.admin.forms import ActionForm, CrisisServiceForm
from app.db import db
from app.urgent import services
from app.urgent.models import CrisisService


@bp.get("/urgent")
def urgent_help(form: CrisisServiceForm | None = None):
    """Every crisis service by country, which are not yet checked, and recent daily uses."""
    rows = db.session.scalars(select(CrisisService).order_by(CrisisService.country)).all()
    return render_template(
        "admin/urgent.html",
        services=rows,
        unchecked=[s for s in rows if not s.checked],
        uses=services.recent_uses(),
        form=form or CrisisServiceForm(),
        action=ActionForm(),
    )


@bp.post("/urgent/services")
def save_crisis_service():
    """Add a country's service, or change the one it has."""
    form = CrisisServiceForm()
    if not form.validate_on_submit():
        return urgent_help(form), 400
    country = form.country.data.upper()
    row = db.session.scalar(select(CrisisService).where(CrisisService.country == country))
    if row is None:
        row = CrisisService(country=country)
        db.session.add(row)
    row.name, row.spoken = form.name.data.strip(), form.spoken.data.strip()
    row.dial, row.checked = (form.dial.data or "").strip() or None, form.checked.data
    audit("crisis_service_saved", target=country, detail="checked" if row.checked else None)
    db.session.commit()
    flash(_("Crisis service for %(country)s saved.", country=country))
    return redirect(url_for("admin.urgent_help"))


@bp.post("/urgent/services/<int:service_id>/remove")
def remove_crisis_service(service_id: int):
    """Remove a service: callers from its country hear the local emergency number."""
    if not ActionForm().validate_on_submit():
        flash(_("The form expired; please try again."), "error")
        return redirect(url_for("admin.urgent_help"))
    row = db.session.get(CrisisService, service_id)
    if row is not None:
        audit("crisis_service_removed", target=row.country)
        db.session.delete(row)
        db.session.commit()
        flash(_("Crisis service for %(country)s removed.", country=row.country))
    return redirect(url_for("admin.urgent_help"))
