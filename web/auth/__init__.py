from . import second_factor  # noqa: F401  (registers the second sign-in step on bp)
from .views import bp

__all__ = ["bp"]
