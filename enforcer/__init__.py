"""porta25 reference enforcement receiver (DESIGN §5): ``python -m enforcer``.

A package of its own: it imports nothing from the portal (no database, no app),
only the standard library and ``standardwebhooks``, so it can be copied alone onto
an enforcement host. See enforcer/README.md.
"""
