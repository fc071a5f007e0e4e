"""Load `.github/steward.yml`: YAML with line numbers, validated by the pydantic model.

PyYAML's node graph keeps a mark for every key and value; we map each key path to its line so
a validation error from pydantic (which knows paths, not lines) can name file, line and key.
The loaded config keeps that map (`origin_of`), so a path setting refused later, where it is
used (`steward.workspace`), is reported at its line too.

The file is read as `steward.workspace` reads every file: a regular file only (a FIFO named
by ``--config`` never blocks), at most `Limit.CONFIG` bytes.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from steward import limits
from steward.errors import ConfigError
from steward.workspace import Limit, Origin, Workspace, read_text

if TYPE_CHECKING:
    import yaml

    from steward.config.model import StewardConfig
    from steward.config.release import ReleaseSections, ReleaseView, Remembered

DEFAULT_LOCATIONS = (".github/steward.yml", ".github/steward.yaml")
MAX_CONFIG_BYTES = int(Limit.CONFIG)
# Nodes visited when aliases are expanded: a "billion laughs" file stops here, not in memory.
MAX_NODES = limits.MAX_YAML_NODES

PathKey = tuple[str | int, ...]
M = TypeVar("M")


def find_config(root: Path) -> Path | None:
    """The managed repository's config file, if it has one. One that is there but is not a
    regular file inside the repository (a directory, a FIFO, a symlink out) is an error,
    never skipped: the playbook's defaults would apply without a word."""
    for rel in DEFAULT_LOCATIONS:
        candidate = root / rel
        if candidate.exists() or candidate.is_symlink():
            return Workspace(root).config_path(rel, "config file")
    return None


def load_config(path: Path | None) -> StewardConfig:
    """Load and validate ``path``; ``None`` means the playbook's defaults."""
    from steward.config.model import config_model

    if path is None:
        return config_model()()
    return parse_config(_read(path), source=str(path))


def origin_of(config: ReleaseView) -> Origin | None:
    """The file ``config`` was loaded from and the line of each of its keys (None: the
    defaults, no file)."""
    return config.origin


def load_release_config(path: Path | None) -> ReleaseSections:
    """Only the release sections of ``path`` (`steward.config.release`), validated as the
    whole model would; other sections are checked for their names only (a misspelt
    section is an error), their content by `steward config check` and the commands that
    use them."""
    from steward.config.release import RELEASE_KEYS, ReleaseSections

    if path is None:
        return ReleaseSections()
    source = str(path)
    data, lines = _parse(_read(path), source)
    known = known_keys()
    for key in data:
        if key not in known:
            line = lines.get((key,))
            raise ConfigError(f"{key}: unknown key", path=source, line=line)
    wanted = {k: v for k, v in data.items() if k in RELEASE_KEYS}
    return _with_origin(_validate(ReleaseSections, wanted, lines, source), source, lines)


def _read(path: Path) -> str:
    return read_text(
        path, Limit.CONFIG, "config file", error=ConfigError, missing="config file not found"
    )


def parse_config(text: str, *, source: str = "<config>") -> StewardConfig:
    """Validate YAML ``text``; errors name ``source``, the line and the key path."""
    from steward.config.model import config_model

    data, lines = _parse(text, source)
    return _with_origin(_validate(config_model(), data, lines, source), source, lines)


R = TypeVar("R", bound="Remembered")


def _with_origin(config: R, source: str, lines: dict[PathKey, int]) -> R:
    return config.with_origin(Origin(source, lines))


def _parse(text: str, source: str) -> tuple[dict[str, Any], dict[PathKey, int]]:
    """The YAML mapping in ``text`` and the line of every key path in it."""
    import yaml  # only when there is a file: a release command without one skips it

    if len(text) > MAX_CONFIG_BYTES:
        raise ConfigError(f"config is over {MAX_CONFIG_BYTES} bytes", path=source)
    try:
        _check_depth(text, source)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark is not None else None
        raise ConfigError(f"invalid YAML: {exc.problem}", path=source, line=line) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}", path=source) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError("the top level must be a mapping of sections", path=source, line=1)
    return data, _line_map(node, source)


def _validate(model: type[M], data: dict[str, Any], lines: dict[PathKey, int], source: str) -> M:
    """``data`` as ``model`` (a pydantic model, or a dataclass such as the release sections,
    through a `TypeAdapter`); the first error as a `ConfigError` at its key's line."""
    from pydantic import BaseModel, TypeAdapter, ValidationError

    try:
        if issubclass(model, BaseModel):
            return model.model_validate(data)
        return TypeAdapter(model).validate_python(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc: PathKey = tuple(err["loc"])
        key = ".".join(str(p) for p in loc) or "(top level)"
        line = _nearest_line(lines, loc)
        msg = err["msg"]
        if err["type"] in ("extra_forbidden", "unexpected_keyword_argument"):
            msg = "unknown key"
        more = len(exc.errors()) - 1
        suffix = f" (and {more} more error{'s' if more > 1 else ''})" if more else ""
        raise ConfigError(f"{key}: {msg}{suffix}", path=source, line=line) from None


MAX_DEPTH = limits.MAX_YAML_DEPTH
MAX_ALIASES = limits.MAX_YAML_ALIASES


def _check_depth(text: str, source: str) -> None:
    """Refuse YAML nested deeper than any config needs before the (recursive) composer
    sees it (PyYAML's event parser is iterative, its composer is not), alias bombs, and an
    alias inside the collection its anchor names (``a: &x [*x]``): a cycle, which walking
    the nodes would follow until Python's recursion limit."""
    import yaml  # only when there is a file: a release command without one skips it

    aliases = 0
    open_anchors: list[str | None] = []  # the anchor of each collection not closed yet
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        line = event.start_mark.line + 1 if event.start_mark is not None else None
        if isinstance(event, yaml.AliasEvent):
            aliases += 1  # each may stand for a whole subtree: a few nested ones explode
            if aliases > MAX_ALIASES:
                raise ConfigError(f"more than {MAX_ALIASES} YAML aliases", path=source, line=line)
            if event.anchor in open_anchors:
                raise ConfigError(
                    f"the YAML alias *{event.anchor} refers to itself: it is inside "
                    f"&{event.anchor}",
                    path=source,
                    line=line,
                )
        elif isinstance(event, yaml.CollectionStartEvent):
            open_anchors.append(event.anchor)
            if len(open_anchors) > MAX_DEPTH:
                raise ConfigError(
                    f"nested more than {MAX_DEPTH} levels deep", path=source, line=line
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            open_anchors.pop()


def _line_map(node: yaml.Node | None, source: str) -> dict[PathKey, int]:
    """Line of every key path; also refuses duplicate keys (YAML would keep the last
    silently) and alias expansions too large to validate."""
    import yaml  # only when there is a file: a release command without one skips it

    out: dict[PathKey, int] = {}
    visited = 0

    def walk(n: yaml.Node, path: PathKey) -> None:
        nonlocal visited
        visited += 1
        if visited > MAX_NODES:
            raise ConfigError(f"config expands to over {MAX_NODES} values (aliases?)", path=source)
        out.setdefault(path, n.start_mark.line + 1)
        if isinstance(n, yaml.MappingNode):
            seen: set[str] = set()
            for k, v in n.value:
                key = k.value if isinstance(k, yaml.ScalarNode) else str(k.value)
                line = k.start_mark.line + 1
                if key in seen and key != "<<":
                    dotted = ".".join(str(p) for p in (*path, key))
                    raise ConfigError(f"{dotted}: duplicate key", path=source, line=line)
                seen.add(key)
                walk(v, (*path, key))
                # The key's own line wins over the value's for error messages.
                out[(*path, key)] = line
        elif isinstance(n, yaml.SequenceNode):
            for i, item in enumerate(n.value):
                walk(item, (*path, i))

    if node is not None:
        walk(node, ())
    return out


def _nearest_line(lines: dict[PathKey, int], loc: PathKey) -> int | None:
    # pydantic may append a union member or model name to the path; walk back to what exists.
    for end in range(len(loc), -1, -1):
        line = lines.get(loc[:end])
        if line is not None:
            return line
    return None


def as_yaml(data: Any) -> str:
    """Render effective config for `steward config show`."""
    import yaml  # only when there is a file: a release command without one skips it

    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def known_keys() -> frozenset[str]:
    """Every top-level key the whole model accepts, without importing a policy: a policy's
    section is named after its module (`steward.policies.registry` checks that)."""
    import pkgutil

    import steward.policies as package
    from steward.config.release import OTHER_CORE_KEYS, RELEASE_KEYS
    from steward.policies.registry import HELPERS

    policies = {
        m.name
        for m in pkgutil.iter_modules(package.__path__)
        if m.name not in HELPERS and not m.name.startswith("_")
    }
    return RELEASE_KEYS | OTHER_CORE_KEYS | policies
