"""The imperative shell of PR and issue automation: the only place that joins the policies
to GitHub.

`snapshot` reads what the policies ask for, `executor` handles an event (snapshot, engine,
plan, writes), `sweeper` runs the scheduled sweeps, `labels_sync` applies the taxonomy, and
`identity` says whose comments carry steward's markers.
"""
