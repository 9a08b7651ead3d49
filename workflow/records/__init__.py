"""Consumer-protection records (DESIGN §8): asked for in a transaction, issued by the worker.

``issue`` asks for and issues records; ``access`` says who may read which;
``verification`` answers the public page; ``render`` turns HTML into PDF/A;
``documents`` holds one builder per kind.
"""

from .issue import language_of, request_record

__all__ = ["language_of", "request_record"]
