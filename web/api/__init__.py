from . import enforcement  # noqa: F401  (registers /enforcement/* on the blueprint)
from .views import bp

__all__ = ["bp"]
