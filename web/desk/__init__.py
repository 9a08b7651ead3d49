# Registered on the desk blueprint: the supervisors' enforcement pages, the period reports,
# the case page's document requests and automated checks, the reason-code catalogue and the
# business calendar's corrections.
from . import calendar, enforcement, evidence, reason_codes, records, reports  # noqa: F401
from .views import bp

__all__ = ["bp"]
