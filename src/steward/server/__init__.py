"""`steward serve`: the GitHub App server.

Signed webhooks are verified and committed to a durable inbox (`intake`, `inbox`, `db`)
before GitHub gets its 2xx; workers (`worker`) claim the jobs and run each delivery through
the same snapshot, engine and executor as `steward handle` (`processing`). The server adds
transport, not behaviour. Needs the ``server`` extra: ``pip install 'repo-steward[server]'``.
"""
