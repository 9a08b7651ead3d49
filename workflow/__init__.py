"""The domain of porta25: every rule and every change of state lives here.

Nothing in this package reads flask.request, session or g: the actor, the
source address and the message are explicit arguments. Functions flush when
they need ids and never commit; the caller (a view, an API endpoint, a CLI
command) commits once.
"""
