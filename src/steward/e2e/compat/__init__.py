"""Powertools' ``tests/e2e/utils``, module for module, over steward's E2E API.

A suite written against Powertools' helpers runs on steward after one rewrite of its import
lines, ``tests.e2e.utils.X`` -> ``steward.e2e.compat.X`` (``steward e2e migrate``), so a
project can move without touching its tests. Every module here is a thin adapter: the work
(deploys, retries, layer hashing, run-once) is steward's; only the names, signatures and
exceptions are Powertools'. The table of modules is `steward.e2e.migrate.COMPAT_MODULES`.
"""
