"""Flask-WTF forms: every form carries a CSRF token."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from web.store.contacts import ROUTES


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired(message="Enter your username."), Length(max=64)])
    password = PasswordField("Password", validators=[DataRequired(message="Enter your password."),
                                                     Length(max=1024)])


class ActionForm(FlaskForm):
    """A button that changes something (log out, accept): only the CSRF token."""


class ReasonForm(FlaskForm):
    reason = TextAreaField("Reason", validators=[DataRequired(message="Give a reason."), Length(max=2000)])


class OverrideForm(FlaskForm):
    route = SelectField("New route", choices=[SelectChoice(route, route.replace("_", " ")) for route in ROUTES],
                        validators=[DataRequired()])
    pathway = StringField("Pathway (optional)", validators=[Length(max=32)])
    reason = TextAreaField("Reason", validators=[DataRequired(message="Give a reason for the override."),
                                                 Length(max=2000)])


class OutcomeForm(FlaskForm):
    outcome = TextAreaField("Outcome", validators=[DataRequired(message="Say what the outcome was."),
                                                   Length(max=2000)])


class AgreeForm(FlaskForm):
    """"Reviewed, agree": a person confirms the current decision; a note is optional."""
    reason = TextAreaField("Note (optional)", validators=[Length(max=2000)])
