"""What a policy module exports: one `Policy`, the registry's unit (Prow's plugin shape).

A policy is one file under `steward/policies/` holding its config section, its pure
``evaluate`` and a module-level ``POLICY = Policy(...)`` that says everything the rest of
steward needs to know about it: the engine (events and stage), the config model (section),
the snapshot (what to read), `config check` (labels) and `steward handle --help` (help).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from steward.config.base import Section

if TYPE_CHECKING:
    from steward.config.model import StewardConfig
    from steward.domain.events import Event
    from steward.plan import Plan
    from steward.policies.context import Context

Stage = Literal["labels", "gate", "scheduled"]
"""``labels``: runs first on an event and decides labels, comments and statuses from it;
``gate``: runs second, on the labels the item will carry once the first stage's plan applies
(`Context.labels_after`); ``scheduled``: not run on events but by its own command (sweep)."""

STAGES: tuple[Stage, ...] = ("labels", "gate", "scheduled")


class PolicySection(Section):
    """Base of a policy's config section: every policy can be turned off."""

    enabled: bool = True


@dataclass(frozen=True, slots=True)
class ChangedFiles:
    """The PR's changed files (not read for a title or body edit: the diff is the same)."""


@dataclass(frozen=True, slots=True)
class NamedIssues:
    """The issues a merged PR's body names as related (read once it merged)."""


@dataclass(frozen=True, slots=True)
class LabelledIssues:
    """Issues in any state that carry ``label``."""

    label: str


@dataclass(frozen=True, slots=True)
class EarlierIssues:
    """For an issue just opened by an author whose association is one of ``associations``:
    the number of that author's oldest issue in the repository (one search read per author
    and run; none for a bot, nor for any other association)."""

    associations: frozenset[str]


@dataclass(frozen=True, slots=True)
class QueuedPulls:
    """The pull request a merge group was made for, read fresh (once per run)."""


Read = ChangedFiles | NamedIssues | LabelledIssues | EarlierIssues | QueuedPulls
S = TypeVar("S", bound=PolicySection)


def _nothing(_: Any) -> tuple[Any, ...]:
    return ()


@dataclass(frozen=True, slots=True)
class Policy(Generic[S]):
    """One rule of the playbook, as the registry knows it."""

    name: str
    """The config section's key, and the name `decide` reports when the policy ran."""
    section: type[S]
    """The config section model; its defaults are the playbook's."""
    help: str
    """One line for `steward handle --help` and the docs."""
    order: int
    """Position within its stage (and among the config file's sections)."""
    evaluate: Callable[[Context], Plan] | None = None
    """The pure decision; ``None`` for a scheduled policy, run by its own command."""
    events: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Webhook event name -> the actions it handles."""
    stage: Stage = "labels"
    reads: Callable[[S], Iterable[Read]] = _nothing
    """What the shell must read for it beyond the payload, given its section."""
    labels: Callable[[S], Iterable[str]] = _nothing
    """Labels it applies or acts on with this section (`config check` wants them listed)."""

    def handles(self, event: Event) -> bool:
        return event.action in self.events.get(event.name, frozenset())

    def of(self, config: StewardConfig) -> S:
        """This policy's section of ``config``."""
        value = getattr(config, self.name)
        if not isinstance(value, self.section):  # pragma: no cover - the model guarantees it
            raise TypeError(f"config.{self.name} is not a {self.section.__name__}")
        return value


def handles(**events: Iterable[str]) -> dict[str, frozenset[str]]:
    """``handles(pull_request={"opened"})``: the ``events`` table of a `Policy`."""
    return {name: frozenset(actions) for name, actions in events.items()}
