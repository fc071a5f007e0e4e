"""Rewrite a Powertools-style E2E suite's imports to `steward.e2e.compat` (pure functions).

``tests.e2e.utils.X`` becomes ``steward.e2e.compat.X`` in ``from ... import`` and
``import ... [as ...]`` statements, and nothing else changes: `ast` finds the import
statements, `tokenize` the dotted module names inside them, and only those characters are
replaced, so comments, strings, formatting, line endings and the file's encoding (a BOM,
a coding cookie) are kept byte for byte. A rewritten file has nothing left to rewrite.
`steward e2e migrate` (``steward.cli.e2e_cmd``) walks the files and writes them.
"""

from __future__ import annotations

import ast
import codecs
import difflib
import io
import re
import tokenize
from dataclasses import dataclass, field
from typing import NamedTuple

OLD_ROOT = "tests.e2e.utils"
NEW_ROOT = "steward.e2e.compat"


class ModuleMapping(NamedTuple):
    """One row of the rewrite: Powertools' module, its compat module, what it holds, and
    the steward-native way to do the same (for the docs)."""

    powertools: str
    compat: str
    names: str
    native: str


# The one table: `rewrite_source` uses its first two columns, docs/e2e.md shows all of it
# (`markdown_table`; tests/unit/test_e2e_migrate.py checks the docs match).
COMPAT_MODULES: tuple[ModuleMapping, ...] = (
    ModuleMapping(OLD_ROOT, NEW_ROOT, "(package)", "`steward.e2e`"),
    ModuleMapping(
        f"{OLD_ROOT}.infrastructure",
        f"{NEW_ROOT}.infrastructure",
        "`BaseInfrastructure`, `call_once`",
        "`steward.e2e.cdk.CdkInfrastructure`, `steward.e2e.call_once`",
    ),
    ModuleMapping(
        f"{OLD_ROOT}.base",
        f"{NEW_ROOT}.base",
        "`InfrastructureProvider`",
        "`steward.e2e.BaseInfrastructure`",
    ),
    ModuleMapping(
        f"{OLD_ROOT}.constants",
        f"{NEW_ROOT}.constants",
        "`PYTHON_RUNTIME_VERSION`, `SOURCE_CODE_ROOT_PATH`, `CDK_OUT_PATH`, `LAYER_BUILD_PATH`",
        "fixtures `e2e_build_dir`, `e2e_shared_dir`",
    ),
    ModuleMapping(
        f"{OLD_ROOT}.auth",
        f"{NEW_ROOT}.auth",
        "`build_iam_auth` (needs aws-requests-auth)",
        "-",
    ),
    ModuleMapping(
        f"{OLD_ROOT}.data_fetcher",
        f"{NEW_ROOT}.data_fetcher",
        "`get_lambda_response`, `get_http_response`, `get_logs`, `get_metrics`, "
        "`get_traces`, `get_ddb_idempotency_record`",
        "`steward.e2e.data_fetcher`",
    ),
    ModuleMapping(
        f"{OLD_ROOT}.data_fetcher.common",
        f"{NEW_ROOT}.data_fetcher.common",
        "`get_lambda_response`, `get_lambda_response_in_parallel`, "
        "`GetLambdaResponseOptions`, `get_http_response`",
        "`steward.e2e.data_fetcher.get_lambda_response`",
    ),
    ModuleMapping(
        f"{OLD_ROOT}.data_fetcher.idempotency",
        f"{NEW_ROOT}.data_fetcher.idempotency",
        "`get_ddb_idempotency_record`",
        "`steward.e2e.data_fetcher.retry_until`",
    ),
    ModuleMapping(
        f"{OLD_ROOT}.data_fetcher.logs",
        f"{NEW_ROOT}.data_fetcher.logs",
        "`get_logs`, `LogFetcher`, `Log`",
        "`steward.e2e.data_fetcher.get_logs`",
    ),
    ModuleMapping(
        f"{OLD_ROOT}.data_fetcher.metrics",
        f"{NEW_ROOT}.data_fetcher.metrics",
        "`get_metrics`",
        "`steward.e2e.data_fetcher.get_metrics`",
    ),
    ModuleMapping(
        f"{OLD_ROOT}.data_fetcher.traces",
        f"{NEW_ROOT}.data_fetcher.traces",
        "`get_traces`, `TraceFetcher`, `TraceDocument`, `TraceSubsegment`",
        "`steward.e2e.data_fetcher.get_traces`",
    ),
    ModuleMapping(
        f"{OLD_ROOT}.data_builder",
        f"{NEW_ROOT}.data_builder",
        "every `build_*` helper",
        "-",
    ),
    ModuleMapping(
        f"{OLD_ROOT}.data_builder.common",
        f"{NEW_ROOT}.data_builder.common",
        "`build_random_value`, `build_service_name`",
        "-",
    ),
    ModuleMapping(
        f"{OLD_ROOT}.data_builder.metrics",
        f"{NEW_ROOT}.data_builder.metrics",
        "`build_metric_query_data`, `build_add_metric_input`, ...",
        "-",
    ),
    ModuleMapping(
        f"{OLD_ROOT}.data_builder.traces",
        f"{NEW_ROOT}.data_builder.traces",
        "`build_trace_default_query`, `build_put_annotations_input`, ...",
        "-",
    ),
    ModuleMapping(f"{OLD_ROOT}.lambda_layer", f"{NEW_ROOT}.lambda_layer", "(package)", "-"),
    ModuleMapping(
        f"{OLD_ROOT}.lambda_layer.base",
        f"{NEW_ROOT}.lambda_layer.base",
        "`BaseLocalLambdaLayer`",
        "`steward.e2e.build_layer`",
    ),
    ModuleMapping(
        f"{OLD_ROOT}.lambda_layer.powertools_layer",
        f"{NEW_ROOT}.lambda_layer.powertools_layer",
        "`LocalLambdaPowertoolsLayer`",
        "`steward.e2e.build_layer` + fixture `e2e_layer_zip`",
    ),
)
MODULE_MAP: dict[str, str] = {m.powertools: m.compat for m in COMPAT_MODULES}


def markdown_table() -> str:
    """The table docs/e2e.md shows, rendered from `COMPAT_MODULES`."""
    rows = [
        "| Powertools (`tests.e2e.utils...`) | after the rewrite | names | steward-native |",
        "|---|---|---|---|",
    ]
    rows += [
        f"| `{m.powertools}` | `{m.compat}` | {m.names} | {m.native} |" for m in COMPAT_MODULES
    ]
    return "\n".join(rows) + "\n"


@dataclass(frozen=True)
class Edit:
    line: int  # 1-based
    old: str
    new: str
    bare: bool = False  # `import tests.e2e.utils.x` without `as`: the code's dotted uses change


@dataclass(frozen=True)
class Rewrite:
    """The outcome for one file: the new bytes and what changed or was left alone."""

    original: bytes
    data: bytes
    encoding: str
    edits: tuple[Edit, ...] = ()
    unmapped: tuple[Edit, ...] = field(default=())  # under tests.e2e.utils, not in the table
    bare: tuple[Edit, ...] = field(default=())  # `import tests.e2e.utils.x` without `as`

    @property
    def changed(self) -> bool:
        return self.data != self.original

    def diff(self, path: str) -> str:
        """A unified diff of the change (line endings kept as in the file)."""
        old = self.original.decode(self.encoding).splitlines(keepends=True)
        new = self.data.decode(self.encoding).splitlines(keepends=True)
        return "".join(difflib.unified_diff(old, new, f"a/{path}", f"b/{path}"))


class MigrateError(ValueError):
    """The file cannot be rewritten (not Python, not decodable): reported and skipped."""


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


def _lines(text: str) -> list[str]:
    """Lines as Python's tokenizer counts them (``\\r\\n``, ``\\r``, ``\\n``), ends kept."""
    return _LINE.findall(text)


def _mapped(module: str) -> str | None:
    """The compat module for a Powertools one, or None when it is not in the table."""
    return MODULE_MAP.get(module)


def _is_old(module: str | None) -> bool:
    return module is not None and (module == OLD_ROOT or module.startswith(OLD_ROOT + "."))


def rewrite_bytes(data: bytes) -> Rewrite:
    """The file's bytes with every ``tests.e2e.utils`` import pointing at the compat layer."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        text = data.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError) as exc:
        raise MigrateError(f"cannot decode: {exc}") from None
    if encoding == "utf-8" and data.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
        text = data.decode(encoding)
    new_text, edits, unmapped = rewrite_source(text)
    bare = [e for e in edits if e.bare]
    return Rewrite(
        original=data,
        data=new_text.encode(encoding) if edits else data,
        encoding=encoding,
        edits=tuple(edits),
        unmapped=tuple(unmapped),
        bare=tuple(bare),
    )


def rewrite_source(text: str) -> tuple[str, list[Edit], list[Edit]]:
    """``text`` with its Powertools imports rewritten; the edits, and the imports under
    ``tests.e2e.utils`` that the table does not know (left unchanged)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError) as exc:
        line = getattr(exc, "lineno", None)
        where = f" (line {line})" if line else ""
        raise MigrateError(f"not valid Python{where}: {getattr(exc, 'msg', exc)}") from None
    lines = _lines(text)
    spans = [
        _span(node, lines)
        for node in ast.walk(tree)
        if (isinstance(node, ast.ImportFrom) and node.level == 0 and _is_old(node.module))
        or (isinstance(node, ast.Import) and any(_is_old(a.name) for a in node.names))
    ]
    if not spans:
        return text, [], []
    names = _dotted_names(lines, spans)
    offsets = _line_offsets(lines)
    edits: list[tuple[int, int, Edit]] = []
    unmapped: list[Edit] = []
    for (row, col), (end_row, end_col), name, bare in names:
        if not _is_old(name):
            continue
        new = _mapped(name)
        if new is None:
            unmapped.append(Edit(row, name, name))
            continue
        start = offsets[row - 1] + col
        end = offsets[end_row - 1] + end_col
        edits.append((start, end, Edit(row, name, new, bare)))
    out = text
    for start, end, edit in sorted(edits, key=lambda e: e[0], reverse=True):
        out = out[:start] + edit.new + out[end:]
    return out, sorted((e for _, _, e in edits), key=lambda e: e.line), unmapped


Pos = tuple[int, int]


def _char_col(lines: list[str], row: int, byte_col: int) -> int:
    """ast's columns count UTF-8 bytes; tokenize's count characters."""
    return len(lines[row - 1].encode("utf-8")[:byte_col].decode("utf-8", errors="ignore"))


def _span(node: ast.stmt, lines: list[str]) -> tuple[Pos, Pos]:
    end_row = node.end_lineno or node.lineno  # always set on parsed statements
    end_col = node.end_col_offset if node.end_col_offset is not None else len(lines[end_row - 1])
    start = (node.lineno, _char_col(lines, node.lineno, node.col_offset))
    end = (end_row, _char_col(lines, end_row, end_col))
    return start, end


def _dotted_names(
    lines: list[str], spans: list[tuple[Pos, Pos]]
) -> list[tuple[Pos, Pos, str, bool]]:
    """The module names of the import statements in ``spans``: after ``from`` up to
    ``import``, or each name after ``import`` (before any ``as``), with their positions and
    whether the name is bound as it is (``import a.b`` without ``as``)."""
    tokens = list(tokenize.generate_tokens(iter(lines).__next__))
    found: list[tuple[Pos, Pos, str, bool]] = []
    for start, end in spans:
        inside = [t for t in tokens if t.start >= start and t.end <= end and t.type not in _LAYOUT]
        is_from = inside[0].string == "from"
        parts: list[tokenize.TokenInfo] = []
        collecting = True
        for tok in inside[1:]:
            if tok.string in {"import", "as", ","} and tok.type in {tokenize.NAME, tokenize.OP}:
                if parts:
                    found.append(_name(parts, bare=not is_from and tok.string != "as"))
                    parts = []
                if is_from:
                    break  # `import` ends the module; what follows are imported names
                collecting = tok.string == ","
            elif collecting and (tok.type == tokenize.NAME or tok.string == "."):
                parts.append(tok)
        if parts:
            found.append(_name(parts, bare=not is_from))
    return found


_LAYOUT = {tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT}


def _name(parts: list[tokenize.TokenInfo], *, bare: bool) -> tuple[Pos, Pos, str, bool]:
    return parts[0].start, parts[-1].end, "".join(t.string for t in parts), bare


def _line_offsets(lines: list[str]) -> list[int]:
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    return offsets
