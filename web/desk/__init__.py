from . import enforcement  # noqa: F401  (registers the supervisors' enforcement pages)
from .views import bp

__all__ = ["bp"]
