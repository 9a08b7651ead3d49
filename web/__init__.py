"""The HTTP edge: blueprints by audience. Views validate, call one workflow verb,
commit, and redirect; domain errors become a flash message or a 4xx."""
