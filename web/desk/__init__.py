# Registered on the desk blueprint: the supervisors' enforcement pages, the period reports,
# the case page's automated checks.
from . import enforcement, evidence, reports  # noqa: F401
from .views import bp

__all__ = ["bp"]
