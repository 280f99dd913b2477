"""Admin forms: every one carries a CSRF token (Flask-WTF)."""

from __future__ import annotations

from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TimeField,
)
from wtforms.validators import (
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from app.admin.models import MIN_PASSWORD
from app.fusing.sessions import DURATION_MINUTES, ROUND_MINUTES

WEEKDAYS = (
    _l("Monday"),
    _l("Tuesday"),
    _l("Wednesday"),
    _l("Thursday"),
    _l("Friday"),
    _l("Saturday"),
    _l("Sunday"),
)


def _known_zone(_form, field) -> None:
    if field.data not in available_timezones():
        raise ValidationError(_l("Unknown time zone; use an IANA name such as Europe/Berlin."))


class LoginForm(FlaskForm):
    """Email and password."""

    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


class CodeForm(FlaskForm):
    """The second step of a login: a code from the authenticator app, or a recovery code."""

    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=64)])


class PasswordForm(FlaskForm):
    """A password change: the current password, and the new one twice."""

    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    new = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(),
            Length(MIN_PASSWORD, 1024, _l("Use at least %(num)d characters.", num=MIN_PASSWORD)),
        ],
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("new", _l("The two new passwords differ."))],
    )


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class LanguageForm(FlaskForm):
    """The language the admin reads these pages in."""

    language = StringField(_l("Language"), validators=[DataRequired()])


class ZoneForm(FlaskForm):
    """The time zone the admin reads times in."""

    zone = StringField(_l("Time zone"), validators=[DataRequired(), _known_zone])


class RuleForm(FlaskForm):
    """The weekly Fusing Hour rule."""

    weekday = SelectField(
        _l("Weekday"),
        choices=[SelectChoice(i, name) for i, name in enumerate(WEEKDAYS)],
        coerce=int,
    )
    start = TimeField(_l("Local start"), validators=[InputRequired()])
    zone = StringField(_l("Time zone"), validators=[DataRequired(), _known_zone])
    minutes = IntegerField(
        _l("Length (minutes)"), validators=[InputRequired(), NumberRange(*DURATION_MINUTES)]
    )
    round_minutes = IntegerField(
        _l("Round (minutes)"), validators=[InputRequired(), NumberRange(*ROUND_MINUTES)]
    )


class ExtraDateForm(FlaskForm):
    """A one-off Fusing Hour on a local date."""

    day = DateField(_l("Date"), validators=[InputRequired()])
    start = TimeField(_l("Local start"), validators=[InputRequired()])
    minutes = IntegerField(
        _l("Length (minutes)"), validators=[Optional(), NumberRange(*DURATION_MINUTES)]
    )


class CancelDateForm(FlaskForm):
    """Cancel the Fusing Hour on a local date."""

    day = DateField(_l("Date"), validators=[InputRequired()])


class CrisisServiceForm(FlaskForm):
    """A country's crisis service: what callers hear, and the number the line dials."""

    country = StringField(
        _l("Country (ISO code)"),
        validators=[DataRequired(), Regexp(r"^[A-Za-z]{2}$", message=_l("Two letters, e.g. GB."))],
    )
    name = StringField(_l("Name, as said"), validators=[DataRequired(), Length(max=120)])
    spoken = StringField(_l("Number, as said"), validators=[DataRequired(), Length(max=40)])
    dial = StringField(
        _l("Number to dial (E.164; empty: only said)"),
        validators=[
            Optional(),
            Regexp(r"^\+[1-9]\d{6,14}$", message=_l("E.164, e.g. +498001110111.")),
        ],
    )
    checked = BooleanField(_l("Checked: this service and number are right for going live"))


class ListenerForm(FlaskForm):
    """A volunteer listener: alias, number, languages, zone and weekly hours."""

    alias = StringField(
        _l("Alias (what the admin sees)"), validators=[DataRequired(), Length(max=60)]
    )
    number = StringField(
        _l("Phone number (E.164; kept encrypted)"),
        validators=[
            DataRequired(),
            Regexp(r"^\+[1-9]\d{6,14}$", message=_l("E.164, e.g. +15550100.")),
        ],
    )
    languages = SelectMultipleField(_l("Languages spoken"), validators=[DataRequired()])
    time_zone = StringField(_l("Time zone (IANA)"), validators=[DataRequired(), Length(max=64)])
    hours = StringField(
        _l("Weekly hours, in that zone (e.g. mon-fri 18:00-22:00, sun 09:00-12:00)"),
        validators=[DataRequired(), Length(max=500)],
    )

    def validate_time_zone(self, field) -> None:
        """An IANA zone name."""
        if field.data not in available_timezones():
            raise ValidationError(_l("Not a time zone, e.g. Europe/Berlin."))
