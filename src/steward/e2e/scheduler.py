"""An xdist scheduler whose unit of distribution is the feature (a folder with infrastructure.py).

`--dist loadgroup` does not keep groups together with pytest 9.2 / pytest-xdist 3.8, so the
plugin installs this scheduler instead: every test of a feature goes to the same worker,
which deploys the feature's stack once. Tests outside any feature are grouped by module, as
`--dist loadscope` would.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from xdist.scheduler import LoadScopeScheduling  # type: ignore[import-untyped]


class FeatureScheduling(LoadScopeScheduling):  # type: ignore[misc]
    """LoadScopeScheduling keyed by feature: `scope_of(nodeid)` names the group."""

    def __init__(
        self, config: Any, log: Any = None, *, scope_of: Callable[[str], str | None]
    ) -> None:
        super().__init__(config, log)
        self._scope_of = scope_of

    def _split_scope(self, nodeid: str) -> str:
        scope = self._scope_of(nodeid)
        return scope if scope is not None else nodeid.rsplit("::", 1)[0]
