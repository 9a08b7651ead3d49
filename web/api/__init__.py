from . import audit, enforcement, records  # noqa: F401  (register their routes on the blueprint)
from .views import bp

__all__ = ["bp"]
