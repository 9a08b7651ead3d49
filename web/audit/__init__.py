# The regulators' portal (/regulador): the case list and case pages (views), the audit
# trail and the exports (trail), and the period reports shared with the desk (reports).
from . import reports, trail  # noqa: F401
from .views import bp

__all__ = ["bp"]
