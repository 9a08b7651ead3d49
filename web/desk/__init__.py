# Registered on the desk blueprint: the supervisors' enforcement pages, the period reports,
# the case page's document requests and automated checks.
from . import enforcement, evidence, records, reports  # noqa: F401
from .views import bp

__all__ = ["bp"]
