"""Forms of sign-in (password, then the second factor), sign-up and the language switch."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from workflow.deadlines import UFS


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Senha"), validators=[DataRequired(), Length(max=200)])


class RegisterForm(FlaskForm):
    name = StringField(_l("Nome completo"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    cpf_cnpj = StringField(_l("CPF ou CNPJ"), validators=[DataRequired(), Length(max=20)])
    phone = StringField(_l("Telefone"), validators=[DataRequired(), Length(max=20)])
    subscriber_id = StringField(_l("Código do contrato/assinante"),
                                validators=[DataRequired(), Length(max=64)])
    uf = SelectField(_l("Estado (UF)"),
                     choices=[SelectChoice("", "—")] + [SelectChoice(uf) for uf in UFS],
                     validators=[DataRequired()])
    password = PasswordField(_l("Senha (mínimo 10 caracteres)"),
                             validators=[DataRequired(), Length(max=200)])
    confirm = PasswordField(_l("Repita a senha"),
                            validators=[DataRequired(), EqualTo("password",
                                                                _l("As senhas não conferem."))])


class LanguageForm(FlaskForm):
    locale = HiddenField(validators=[DataRequired()])
    next = HiddenField()


class SecondFactorForm(FlaskForm):
    """The code step: six digits from the app, or a recovery code."""

    code = StringField(_l("Código"), validators=[DataRequired(_l("Informe o código.")),
                                                 Length(max=32)],
                       render_kw={"autocomplete": "one-time-code", "autofocus": True,
                                  "spellcheck": "false", "autocapitalize": "off"})


class EnrolForm(FlaskForm):
    """Enrolment: the first code the app shows, which proves it holds the secret."""

    code = StringField(_l("Código de 6 dígitos"),
                       validators=[DataRequired(_l("Informe o código.")), Length(max=32)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})


class EmptyForm(FlaskForm):
    """Gives POST-only buttons (logout, actions without fields) their CSRF token."""
