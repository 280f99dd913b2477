"""The Fusing Hour schedule: the weekly rule, one-off dates and cancellations."""

from __future__ import annotations

from datetime import timedelta

from flask import flash, redirect, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import delete, select

from app import i18n
from app.admin import bp, zones
from app.admin.audit import audit
from app.admin.forms import WEEKDAYS, ActionForm, CancelDateForm, ExtraDateForm, RuleForm
from app.db import db, utcnow
from app.fusing import sessions
from app.fusing.models import DateKind, FusingDate
from app.fusing.schedule import occurrences, spoken_when

SHOWN = 8


def _rule_form() -> RuleForm:
    rule = sessions.rule_row()
    return RuleForm(
        weekday=rule.weekday,
        start=rule.start_time,
        zone=rule.timezone,
        minutes=rule.duration_seconds // 60,
        round_minutes=rule.round_seconds // 60,
    )


def _page(rule_form=None, extra_form=None, cancel_form=None, status: int = 200):
    rule, extras, cancelled = sessions.schedule()
    now = utcnow()
    coming = occurrences(rule, now, now + timedelta(days=400), extras, cancelled)[:SHOWN]
    page = render_template(
        "admin/schedule.html",
        rule=sessions.rule_row(),
        weekdays=WEEKDAYS,
        upcoming=[(o, spoken_when(o, now)) for o in coming],
        dates=db.session.scalars(select(FusingDate).order_by(FusingDate.day)).all(),
        rule_form=rule_form or _rule_form(),
        extra_form=extra_form or ExtraDateForm(formdata=None),
        cancel_form=cancel_form or CancelDateForm(formdata=None),
        action_form=ActionForm(),
    )
    return page, status


def _saved(form, action: str, detail: str, message: str | None = None):
    """Save through the schedule's own validation; an impossible schedule shows on the form."""
    try:
        sessions.save_schedule()
    except ValueError as error:
        form.form_errors.append(str(error))
        return False
    audit(action, detail=detail)
    db.session.commit()
    flash(message or _("Schedule saved."))
    return True


@bp.get("/schedule")
def schedule():
    """The rule, its exceptions and the next sessions."""
    return _page()


@bp.post("/schedule/rule")
def save_rule():
    """Change the weekly rule."""
    form = RuleForm()
    if form.validate_on_submit():
        rule = sessions.rule_row()
        rule.weekday, rule.start_time = form.weekday.data, form.start.data
        rule.timezone = form.zone.data
        rule.duration_seconds = form.minutes.data * 60
        rule.round_seconds = form.round_minutes.data * 60
        with force_locale(i18n.SOURCE):  # the audit log keeps one language
            weekday = str(WEEKDAYS[rule.weekday])
        detail = (
            f"{weekday} {rule.start_time:%H:%M} {rule.timezone}, "
            f"{form.minutes.data} min, rounds of {form.round_minutes.data} min"
        )
        if _saved(form, "schedule_changed", detail):
            return redirect(url_for("admin.schedule"))
    return _page(rule_form=form, status=400)


@bp.post("/schedule/dates")
def add_date():
    """Add a one-off Fusing Hour."""
    form = ExtraDateForm()
    if form.validate_on_submit():
        minutes = form.minutes.data
        db.session.add(
            FusingDate(
                day=form.day.data,
                kind=DateKind.EXTRA,
                start_time=form.start.data,
                duration_seconds=minutes * 60 if minutes else None,
            )
        )
        detail = f"{form.day.data} {form.start.data:%H:%M}"
        if _saved(
            form,
            "date_added",
            detail,
            _("Fusing Hour added on %(day)s.", day=zones.named(form.day.data, "%A %d %B %Y")),
        ):
            return redirect(url_for("admin.schedule"))
    return _page(extra_form=form, status=400)


@bp.post("/schedule/cancel")
def cancel_date():
    """Cancel the Fusing Hour on a date: drop a one-off there, skip the weekly session."""
    form = CancelDateForm()
    if form.validate_on_submit():
        day = form.day.data
        removed = db.session.execute(
            delete(FusingDate).where(FusingDate.day == day, FusingDate.kind == DateKind.EXTRA)
        ).rowcount
        weekly = day.weekday() == sessions.rule_row().weekday and not _cancelled(day)
        if weekly:
            db.session.add(FusingDate(day=day, kind=DateKind.CANCELLED))
        if not (weekly or removed):
            named = zones.named(day, "%A %d %B %Y")
            form.day.errors = [_("There is no Fusing Hour on %(day)s.", day=named)]
            db.session.rollback()
            return _page(cancel_form=form, status=400)
        if _saved(
            form,
            "date_cancelled",
            str(day),
            _("Fusing Hour on %(day)s cancelled.", day=zones.named(day, "%A %d %B %Y")),
        ):
            return redirect(url_for("admin.schedule"))
    return _page(cancel_form=form, status=400)


def _cancelled(day) -> bool:
    found = select(FusingDate.id).where(
        FusingDate.day == day, FusingDate.kind == DateKind.CANCELLED
    )
    return db.session.scalar(found) is not None


@bp.post("/schedule/dates/<int:date_id>/remove")
def remove_date(date_id: int):
    """Undo a one-off date or a cancellation."""
    row = db.session.get(FusingDate, date_id)
    if row is not None:
        detail = f"{row.kind} {row.day}"
        db.session.delete(row)
        audit("date_removed", target=date_id, detail=detail)
        db.session.commit()
        when = zones.named(row.day, "%A %d %B %Y")
        if row.kind == DateKind.CANCELLED:
            flash(_("The Fusing Hour on %(day)s is no longer cancelled.", day=when))
        else:
            flash(_("The one-off Fusing Hour on %(day)s is removed.", day=when))
    return redirect(url_for("admin.schedule"))
