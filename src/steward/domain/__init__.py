"""Plain typed records and parsed events: the only place that knows GitHub's JSON shapes."""
