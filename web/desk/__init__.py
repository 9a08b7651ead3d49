# Registered on the desk blueprint: the supervisors' enforcement pages, the period reports.
from . import enforcement, reports  # noqa: F401
from .views import bp

__all__ = ["bp"]
