"""Forms of the public verification page: a code to look up, a file to compare."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import StringField
from wtforms.validators import InputRequired


class CodeForm(FlaskForm):
    """A code typed by hand; a GET form (bookmarkable, nothing changes), so no CSRF token."""

    class Meta:
        csrf = False

    code = StringField(_l("Código de verificação"), validators=[InputRequired(
        _l("Digite o código impresso no rodapé do documento."))], render_kw={
        "placeholder": "7KQ2-M9XD-4TNV-8HCE", "autocomplete": "off", "autocapitalize": "characters",
        "spellcheck": "false", "required": True})


class UploadForm(FlaskForm):
    """A PDF to compare with what we issued; it is hashed in memory and never kept."""

    file = FileField(_l("Arquivo PDF"), validators=[FileRequired(
        _l("Escolha o arquivo PDF que você quer conferir."))],
        render_kw={"accept": "application/pdf,.pdf", "required": True})
