"""The period reports on the regulators' portal: the desk's one implementation
(web/desk/reports.py), registered here too, so that a PROCON asks for and reads
its state's reports (workflow.records.reports keeps it to its UF) without the desk."""

from __future__ import annotations

from web.desk import reports

from .views import bp

bp.add_url_rule("/relatorios/", view_func=reports.reports_page, methods=["GET"])
bp.add_url_rule("/relatorios/", view_func=reports.reports_request, methods=["POST"])
bp.add_url_rule("/relatorios/relatorio.csv", view_func=reports.reports_csv, methods=["GET"])
