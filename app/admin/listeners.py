"""Volunteer listeners: the roster (masked numbers only), added, paused, resumed, removed."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app import i18n
from app.admin import bp
from app.admin.audit import audit
from app.admin.forms import ActionForm, ListenerForm
from app.db import db
from app.listeners import roster
from app.listeners.models import Listener

CHANGES = {"pause": "paused", "resume": "resumed", "remove": "removed"}  # what -> audit word
DONE = {  # what -> what the admin is told
    "pause": _l("Listener %(alias)s paused."),
    "resume": _l("Listener %(alias)s resumed."),
    "remove": _l("Listener %(alias)s removed."),
}


def _form() -> ListenerForm:
    form = ListenerForm()
    form.languages.choices = [(code, i18n.LANGUAGES[code].name) for code in i18n.offered()]
    return form


@bp.get("/listeners")
def listeners(form: ListenerForm | None = None):
    """The roster: alias, masked number, languages, hours in their zone, paused or not."""
    return render_template(
        "admin/listeners.html", roster=roster.everyone(), form=form or _form(), action=ActionForm()
    )


@bp.post("/listeners")
def add_listener():
    """Put a listener on the roster."""
    form = _form()
    if not form.validate_on_submit():
        return listeners(form), 400
    try:
        added = roster.add(
            form.alias.data,
            form.number.data,
            form.languages.data,
            form.time_zone.data,
            form.hours.data,
        )
        db.session.flush()
    except ValueError as error:
        form.hours.errors = [*form.hours.errors, str(error)]
        return listeners(form), 400
    audit("listener_added", target=added.id)
    db.session.commit()
    roster.offered_now(added)
    flash(_("Listener %(alias)s added.", alias=added.alias))
    return redirect(url_for("admin.listeners"))


@bp.post("/listeners/<int:listener_id>/<what>")
def change_listener(listener_id: int, what: str):
    """Pause, resume or remove a listener."""
    if what not in CHANGES:
        abort(404)
    if not ActionForm().validate_on_submit():
        flash(_("The form expired; please try again."), "error")
        return redirect(url_for("admin.listeners"))
    listener = db.session.get(Listener, listener_id)
    if listener is None:
        return redirect(url_for("admin.listeners"))
    if what == "remove":
        roster.remove(listener)
    else:
        roster.set_paused(listener, what == "pause")
    audit(f"listener_{CHANGES[what]}", target=listener_id)
    db.session.commit()
    if what == "resume":
        roster.offered_now(listener)
    flash(str(DONE[what]) % {"alias": listener.alias})
    return redirect(url_for("admin.listeners"))
