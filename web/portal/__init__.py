from . import documents  # noqa: F401  (registers the customer's documents page)
from .views import bp

__all__ = ["bp"]
