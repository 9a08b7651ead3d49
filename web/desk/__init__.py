# Registered on the desk blueprint: the supervisors' enforcement pages, the period reports,
# the case page's document requests and automated checks, the staff accounts' second factor,
# the reason-code catalogue and the business calendar's corrections.
from . import (  # noqa: F401
    calendar,
    enforcement,
    evidence,
    reason_codes,
    records,
    reports,
    users,
)
from .views import bp

__all__ = ["bp"]
