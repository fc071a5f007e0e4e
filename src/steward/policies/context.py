"""What every policy receives: the event, the snapshot the shell read, and the config."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from steward.domain.events import Event
from steward.domain.models import Snapshot

if TYPE_CHECKING:
    from steward.config.model import StewardConfig


@dataclass(frozen=True, slots=True)
class Context:
    event: Event
    snapshot: Snapshot
    config: StewardConfig
    # For policies of the second stage: labels of the event's PR/issue once the first
    # stage's plan is applied (payload labels + added - removed).
    labels_after: frozenset[str] = frozenset()
