from . import documents, profile  # noqa: F401  (register the documents and profile pages)
from .views import bp

__all__ = ["bp"]
