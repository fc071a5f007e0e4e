"""The sandbox a repository's changelog template runs in: no code, bounded size, bounded time.

Jinja2's `SandboxedEnvironment` stops a template from reaching Python internals
(``cycler.__init__.__globals__.os``); it does not stop one from building a terabyte string
(``{{ ("x"*1000000)|replace("x","x"*1000000) }}``) or from looping for days. `Sandbox` adds
the bounds of `steward.limits`, enforced while the template runs:

* **Time**: `limits.TEMPLATE_SECONDS` of rendering (the time spent inside the template, not
  the time its reader takes with the output). The deadline is checked at every call,
  operator and filter, and every 1024 turns of every ``{% for %}`` loop (the loops are
  compiled through `Sandbox.bounded_iter`), so even a loop with an empty body stops.
* **Size of one value**: an operation that would build a string over
  `limits.MAX_TEMPLATE_STRING` characters, or a list, tuple, dict or set over
  `limits.MAX_TEMPLATE_ITEMS` items, is refused *before* it runs, from its arguments: ``*``,
  ``+``, ``%`` and ``~``; the filters that can build more than they are given (``replace``,
  ``join``, ``format``, ``center``, ``indent``, ``wordwrap``, ``urlize``, ``tojson``,
  ``batch``, ``slice``, ``sum``) and the methods (``str.replace``, ``join``, ``format``,
  ``format_map``, ``ljust``, ``rjust``, ``center``, ``zfill``, ``expandtabs``,
  ``translate``, ``int.to_bytes``, ``list.append``/``extend``/``insert``, ``dict.update``/
  ``setdefault``, ``set.add``/``update``), ``lipsum``, and turning a value into text (output,
  ``~``, ``string``, ``upper``...: ``str()`` of a list holding one long string a million
  times). Every result is checked again after.
* **Size of everything built**: the results of all those operations count towards
  `limits.MAX_TEMPLATE_BUILT`, so a loop that keeps what it builds stops too.
* **Size of the output**: `limits.MAX_TEMPLATE_OUTPUT` characters, counted as the output is
  produced (`bounded_output`, for built-in templates too), and the same for what a
  ``{% set %}``, ``{% filter %}``, macro or call block captures.

No constant folding can get around them: the filters take the context (Jinja2 never runs such
a filter while compiling) and the operators are intercepted, so what is folded while compiling
is the template's own text. A refusal is a `TemplateLimit` (a `SecurityError`);
`steward.release.changelog.render` turns it into one `ConfigError` line naming the template.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextvars import ContextVar
from functools import update_wrapper
from itertools import islice
from string import Formatter
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame, optimizeconst
from jinja2.exceptions import SecurityError
from jinja2.filters import make_attrgetter
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import _PassArg, generate_lorem_ipsum
from markupsafe import soft_str

from steward import limits


class TemplateLimit(SecurityError):
    """A template went past one of the bounds of `steward.limits`."""


# -- the budget of one rendering --------------------------------------------------------------


class Budget:
    """The time a rendering has left inside the template, and what it has built."""

    __slots__ = ("built", "deadline", "left")

    def __init__(self) -> None:
        self.left = limits.TEMPLATE_SECONDS  # while the template is not running
        self.deadline = 0.0  # while it is
        self.built = 0

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise TemplateLimit(f"still rendering after {limits.TEMPLATE_SECONDS:g} s (the limit)")


_ACTIVE: ContextVar[Budget | None] = ContextVar("steward_template_budget", default=None)
_BATCH = 512  # chunks the template produces between two checks of the output's size


def bounded_output(chunks: Iterator[str], *, sandboxed: bool) -> Iterator[str]:
    """A template's output (its `generate`), joined in batches of `_BATCH` chunks, stopped
    past `limits.MAX_TEMPLATE_OUTPUT` characters (counted before a batch is joined).

    ``sandboxed``: a `Budget` is in force while the template produces a batch, and only
    then: the time the caller takes with the output is not the template's. Pulling a batch
    at a time keeps that bookkeeping (and the count) off each chunk: built-in templates
    render as fast as without it.
    """
    budget = Budget() if sandboxed else None
    cap = limits.MAX_TEMPLATE_OUTPUT
    total = 0
    while True:
        if budget is None:
            batch = list(islice(chunks, _BATCH))
        else:
            token = _ACTIVE.set(budget)
            started = time.monotonic()
            budget.deadline = started + budget.left
            try:
                batch = list(islice(chunks, _BATCH))
            finally:
                budget.left -= time.monotonic() - started
                _ACTIVE.reset(token)
        if not batch:
            return
        total += sum(map(len, batch))
        if total > cap:
            raise TemplateLimit(f"its output is over the limit of {cap:,} characters")
        yield "".join(batch)


def _tick() -> None:
    budget = _ACTIVE.get()
    if budget is not None and time.monotonic() > budget.deadline:
        budget.check_time()


# -- sizes ------------------------------------------------------------------------------------

_TEXT = (str, bytes, bytearray)
_COLLECTIONS = (list, tuple, dict, set, frozenset)


def _over(size: int, cap: int, unit: str, what: object) -> TemplateLimit:
    """``what``: the operation's name, or the object called (named only for the message)."""
    name = what if isinstance(what, str) else _name_of(what)
    return TemplateLimit(f"{name} would build {size:,} {unit}, over the limit of {cap:,} {unit}")


def _check_string(size: int, what: object) -> None:
    if size > limits.MAX_TEMPLATE_STRING:
        raise _over(size, limits.MAX_TEMPLATE_STRING, "characters", what)


def _check_items(size: int, what: object) -> None:
    if size > limits.MAX_TEMPLATE_ITEMS:
        raise _over(size, limits.MAX_TEMPLATE_ITEMS, "items", what)


def _count(size: int) -> None:
    budget = _ACTIVE.get()
    if budget is not None:
        budget.built += size
        if budget.built > limits.MAX_TEMPLATE_BUILT:
            raise TemplateLimit(
                f"what it built in all is over the limit of {limits.MAX_TEMPLATE_BUILT:,} "
                "characters and items"
            )


def _built(value: Any, what: object, given: tuple[Any, ...] = ()) -> Any:
    """``value``, once it is checked against the bounds and counted (unless it is one of the
    ``given`` arguments: nothing new was built)."""
    if isinstance(value, _TEXT):
        size = len(value)
        _check_string(size, what)
    elif isinstance(value, _COLLECTIONS):
        size = len(value)
        _check_items(size, what)
    else:
        return value
    for g in given:
        if value is g:
            return value
    _count(size)
    return value


class _Over(Exception):
    pass


def text_size(value: Any, cap: int | None = None) -> int:
    """At least how long ``str(value)`` is, without building it; stops counting past ``cap``
    (the result is then over ``cap``). Containers count their items' text (each object's
    once: ``[s] * 1000000`` counts ``s`` a million times but measures it once); a cycle
    counts as ``[...]``."""
    limit = limits.MAX_TEMPLATE_STRING if cap is None else cap
    sizes: dict[int, int] = {}
    active: set[int] = set()
    total = 0

    def size(v: Any) -> int:
        if isinstance(v, str):
            return len(v) + 2
        if isinstance(v, bytes | bytearray):
            return 4 * len(v) + 3
        if v is None or isinstance(v, bool | float | complex):
            return 8
        if isinstance(v, int):
            return v.bit_length() // 3 + 2
        key = id(v)
        known = sizes.get(key)
        if known is not None:
            return known
        if key in active:
            return 5
        if isinstance(v, _COLLECTIONS):
            active.add(key)
            n = 2
            items = [*v.keys(), *v.values()] if isinstance(v, dict) else v
            for item in items:
                n += size(item) + 2
                if n > limit:
                    raise _Over
            active.discard(key)
        else:
            n = len(str(v))  # data the template was given: its text is not the template's work
        sizes[key] = n
        return n

    try:
        total = size(value)
    except _Over:
        return limit + 1
    return total


def _check_text(value: Any, what: str) -> None:
    """Refuse turning ``value`` into text when the text would be over the string limit."""
    if not isinstance(value, str | int | float) and value is not None:
        _check_string(text_size(value), what)


# -- formatting -------------------------------------------------------------------------------

_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?[a-zA-Z%]")
_DIGITS = re.compile(r"\d+")


def _ints(values: Iterable[Any]) -> list[int]:
    return [abs(v) for v in values if isinstance(v, int) and not isinstance(v, bool)]


def percent_size(fmt: str | bytes, args: Any) -> int:
    """At least how long ``fmt % args`` is: each conversion takes its width or precision,
    or its argument's text, whichever is longer."""
    text = fmt.decode("latin-1") if isinstance(fmt, bytes) else fmt
    specs = _PERCENT_SPEC.findall(text)
    if not specs:
        return len(text)
    values = (
        list(args.values())
        if isinstance(args, Mapping)
        else (list(args) if isinstance(args, tuple) else [args])
    )
    numbers = [int(n) for spec in specs for n in spec if n.isascii() and n.isdigit()]
    if any("*" in spec for spec in specs):
        numbers += _ints(values)
    widest = max(numbers, default=0)
    sizes = [text_size(v) for v in values]
    if isinstance(args, tuple):  # each conversion takes the next argument
        return len(text) + sum(sizes) + len(specs) * (widest + 400)
    return len(text) + len(specs) * (widest + max(sizes, default=0) + 400)


def format_size(fmt: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> int:
    """At least how long ``fmt.format(*args, **kwargs)`` is (fields times the widest width
    or the longest argument)."""
    fields = 0
    numbers: list[int] = []
    nested = False
    try:
        for _, name, spec, _ in Formatter().parse(fmt):
            if name is None:
                continue
            fields += 1
            if spec:
                numbers += [int(n) for n in _DIGITS.findall(spec)]
                nested = nested or "{" in spec
    except ValueError:
        return len(fmt)  # not a format string: str.format raises the error itself
    if not fields:
        return len(fmt)
    values = [*args, *kwargs.values()]
    if nested:  # a width taken from an argument: "{:>{w}}"
        numbers += _ints(values)
    longest = max((text_size(v) for v in values), default=0)
    return len(fmt) + fields * (max(numbers, default=0) + longest + 400)


# -- filters ----------------------------------------------------------------------------------

Check = Callable[[Any, list[Any], dict[str, Any]], None]


def _arg(args: list[Any], kwargs: dict[str, Any], index: int, name: str, default: Any) -> Any:
    if len(args) > index:
        return args[index]
    return kwargs.get(name, default)


def _width(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return abs(value)
    return len(str(value)) if isinstance(value, str) else 0


def _check_replace(ctx: Any, args: list[Any], kwargs: dict[str, Any]) -> None:
    s = soft_str(args[0]) if args else ""
    old = soft_str(_arg(args, kwargs, 1, "old", ""))
    new = soft_str(_arg(args, kwargs, 2, "new", ""))
    count = _arg(args, kwargs, 3, "count", None)
    n = s.count(old) if old else len(s) + 1
    if isinstance(count, int) and count >= 0:
        n = min(n, count)
    _check_string(len(s) + n * (len(new) - len(old)), "replace")


def _materialize(args: list[Any], index: int = 0) -> Collection[Any]:
    """The argument at ``index``, made a list first when it is an iterator or generator
    (so that its length is known before the call, which then gets the list)."""
    if len(args) <= index:
        return ()
    if not isinstance(args[index], Collection):
        args[index] = list(args[index])
    value: Collection[Any] = args[index]
    return value


def _check_join(ctx: Any, args: list[Any], kwargs: dict[str, Any]) -> None:
    items = _materialize(args)
    attribute = _arg(args, kwargs, 2, "attribute", None)
    if attribute is not None:
        get = make_attrgetter(ctx.environment, attribute)
        items = args[0] = [get(item) for item in items]
        if len(args) > 2:
            del args[2]
        kwargs.pop("attribute", None)
    separator = _width(soft_str(_arg(args, kwargs, 1, "d", "")))
    _check_items(len(items), "join")
    size = separator * max(0, len(items) - 1)
    _check_string(size, "join")
    for item in items:
        size += len(item) if isinstance(item, str) else text_size(item)
        if size > limits.MAX_TEMPLATE_STRING:
            _check_string(size, "join")


def _check_format(ctx: Any, args: list[Any], kwargs: dict[str, Any]) -> None:
    fmt = soft_str(args[0]) if args else ""
    _check_string(percent_size(fmt, kwargs or tuple(args[1:])), "format")


def _check_center(ctx: Any, args: list[Any], kwargs: dict[str, Any]) -> None:
    _check_string(_width(_arg(args, kwargs, 1, "width", 80)), "center")


def _check_indent(ctx: Any, args: list[Any], kwargs: dict[str, Any]) -> None:
    s = soft_str(args[0]) if args else ""
    width = _width(_arg(args, kwargs, 1, "width", 4))
    _check_string(len(s) + (s.count("\n") + 1) * width, "indent")


def _check_wordwrap(ctx: Any, args: list[Any], kwargs: dict[str, Any]) -> None:
    s = soft_str(args[0]) if args else ""
    width = _arg(args, kwargs, 1, "width", 79)
    wrap = _arg(args, kwargs, 3, "wrapstring", None)
    wrap_len = len(wrap) if isinstance(wrap, str) else len(ctx.environment.newline_sequence)
    if isinstance(width, int) and width > 0:
        breaks = len(s) // width + s.count("\n") + 1
        _check_items(breaks, "wordwrap")
        _check_string(len(s) + breaks * wrap_len, "wordwrap")


_MAX_JSON_INDENT = 32


def _check_tojson(ctx: Any, args: list[Any], kwargs: dict[str, Any]) -> None:
    indent = _width(_arg(args, kwargs, 1, "indent", None) or 0)
    if indent > _MAX_JSON_INDENT:
        raise TemplateLimit(f"a tojson indent of {indent:,} is over the limit of 32")


def _check_batch(ctx: Any, args: list[Any], kwargs: dict[str, Any]) -> None:
    _check_items(_width(_arg(args, kwargs, 1, "linecount", 0)), "batch")


def _check_slice(ctx: Any, args: list[Any], kwargs: dict[str, Any]) -> None:
    _check_items(_width(_arg(args, kwargs, 1, "slices", 0)), "slice")


def _check_sum(ctx: Any, args: list[Any], kwargs: dict[str, Any]) -> None:
    items = _materialize(args)
    attribute = _arg(args, kwargs, 1, "attribute", None)
    if attribute is not None:
        get = make_attrgetter(ctx.environment, attribute)
        items = [get(item) for item in items]
    start = _arg(args, kwargs, 2, "start", 0)
    sized = [len(v) for v in (start, *items) if isinstance(v, list | tuple | str)]
    if sized:  # each step copies what was summed so far
        total = sum(sized)
        _check_items(total, "sum")
        if len(sized) * total > 100 * limits.MAX_TEMPLATE_ITEMS:
            raise _over(len(sized) * total, 100 * limits.MAX_TEMPLATE_ITEMS, "copies", "sum")


def _check_urlize(ctx: Any, args: list[Any], kwargs: dict[str, Any]) -> None:
    s = soft_str(args[0]) if args else ""
    extra = sum(len(soft_str(_arg(args, kwargs, i, n, "") or "")) for i, n in _URLIZE_EXTRA)
    links = sum(s.count(mark) for mark in ("://", "www.", "@", ".com", ".org", ".net")) + 1
    _check_string(2 * len(s) + links * (extra + 64), "urlize")  # a link's text, twice


_URLIZE_EXTRA = ((3, "target"), (4, "rel"))

_FILTER_CHECKS: dict[str, Check] = {
    "urlize": _check_urlize,
    "replace": _check_replace,
    "join": _check_join,
    "format": _check_format,
    "center": _check_center,
    "indent": _check_indent,
    "wordwrap": _check_wordwrap,
    "tojson": _check_tojson,
    "batch": _check_batch,
    "slice": _check_slice,
    "sum": _check_sum,
}
# filters that turn the value they are given into text (str() of a list included)
_TO_TEXT = frozenset(
    {
        "capitalize",
        "center",
        "e",
        "escape",
        "forceescape",
        "format",
        "indent",
        "lower",
        "pprint",
        "replace",
        "safe",
        "string",
        "striptags",
        "title",
        "tojson",
        "trim",
        "truncate",
        "upper",
        "urlencode",
        "urlize",
        "wordcount",
        "wordwrap",
        "xmlattr",
    }
)


def _guard_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """``func`` with its bounds: checked before, and its result after. The guard takes the
    context, which also keeps Jinja2 from running it while compiling (constant folding)."""
    pass_arg = _PassArg.from_obj(func)
    check = _FILTER_CHECKS.get(name)
    to_text = name in _TO_TEXT
    what = f"the {name} filter"

    def guarded(context: jinja2.runtime.Context, *args: Any, **kwargs: Any) -> Any:
        _tick()
        if to_text and args:
            _check_text(args[0], what)
        if check is not None:
            listed = list(args)
            check(context, listed, kwargs)
            args = tuple(listed)
        if pass_arg is _PassArg.context:
            result = func(context, *args, **kwargs)
        elif pass_arg is _PassArg.eval_context:
            result = func(context.eval_ctx, *args, **kwargs)
        elif pass_arg is _PassArg.environment:
            result = func(context.environment, *args, **kwargs)
        else:
            result = func(*args, **kwargs)
        return _built(result, what, args)

    update_wrapper(guarded, func)
    return jinja2.pass_context(guarded)


def _lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:
    """Jinja2's ``lipsum``, refused when it would write over the string limit."""
    _tick()
    _check_items(_width(n) * _width(max), "lipsum")
    return str(generate_lorem_ipsum(n=n, html=html, min=min, max=max))


# -- methods ----------------------------------------------------------------------------------


def _check_text_method(owner: str | bytes, name: str, args: list[Any], kw: dict[str, Any]) -> None:
    what = f"{type(owner).__name__}.{name}"
    n = len(owner)
    if name == "replace" and len(args) >= 2:
        old, new = args[0], args[1]
        if isinstance(old, str | bytes) and isinstance(new, str | bytes):
            count = owner.count(old) if old else n + 1  # type: ignore[arg-type]
            if len(args) > 2 and isinstance(args[2], int) and args[2] >= 0:
                count = min(count, args[2])
            _check_string(n + count * (len(new) - len(old)), what)
    elif name == "join" and args:
        items = _materialize(args)
        _check_items(len(items), what)
        size = n * max(0, len(items) - 1)
        _check_string(size, what)
        for item in items:
            size += len(item) if isinstance(item, str | bytes) else 0
            _check_string(size, what)
    elif name in {"center", "ljust", "rjust", "zfill"}:
        _check_string(_width(_arg(args, kw, 0, "width", 0)), what)
    elif name == "expandtabs":
        tabs = owner.count("\t" if isinstance(owner, str) else b"\t")  # type: ignore[arg-type]
        _check_string(n + tabs * _width(_arg(args, kw, 0, "tabsize", 8)), what)
    elif name == "translate" and args and isinstance(args[0], Mapping):
        longest = max((_width(v) for v in args[0].values() if isinstance(v, str)), default=1)
        _check_string(n * max(longest, 1), what)
    elif name == "format" and isinstance(owner, str):
        _check_string(format_size(owner, tuple(args), kw), what)
    elif name == "format_map" and isinstance(owner, str) and args and isinstance(args[0], Mapping):
        _check_string(format_size(owner, (), args[0]), what)


def _check_call(obj: Any, args: list[Any], kw: dict[str, Any]) -> None:
    """Refuse a method call that would build over the limits, from its arguments."""
    wrapped = getattr(obj, "__wrapped__", None)  # str.format, as the sandbox hands it out
    method = wrapped if wrapped is not None else obj
    owner = getattr(method, "__self__", None)
    if owner is None:  # a function (pr_link, a macro): what it builds is checked after
        return
    name = getattr(method, "__name__", "")
    if isinstance(owner, str | bytes):
        _check_text_method(owner, name, args, kw)
    elif isinstance(owner, list) and name in {"append", "insert", "extend"}:
        added = len(_materialize(args)) if name == "extend" else 1
        _check_items(len(owner) + added, f"list.{name}")
        _count(added)
    elif isinstance(owner, dict) and name in {"update", "setdefault"}:
        added = len(kw) + (1 if name == "setdefault" else 0)
        if name == "update" and args:
            added += len(_materialize(args))
        _check_items(len(owner) + added, f"dict.{name}")
        _count(added)
    elif isinstance(owner, set) and name in {"add", "update"}:
        added = 1 if name == "add" else sum(len(_materialize(args, i)) for i in range(len(args)))
        _check_items(len(owner) + added, f"set.{name}")
        _count(added)
    elif isinstance(owner, int) and name == "to_bytes":
        _check_string(_width(_arg(args, kw, 0, "length", 1)), "int.to_bytes")


# -- the environment --------------------------------------------------------------------------


class _Buffer(list[str]):
    """What a ``{% set %}``, ``{% filter %}``, macro or call block captures, bounded as it
    grows (each piece counts at least 8: a million pieces hold 8 MB of references)."""

    __slots__ = ("size",)

    def __init__(self) -> None:
        super().__init__()
        self.size = 0

    def _grow(self, pieces: Iterable[str]) -> None:
        for piece in pieces:
            self.size += len(piece) + 8
        if self.size > limits.MAX_TEMPLATE_OUTPUT:
            raise TemplateLimit(
                "what a block or macro captures is over the limit of "
                f"{limits.MAX_TEMPLATE_OUTPUT:,} characters"
            )

    def append(self, piece: str) -> None:
        self._grow((piece,))
        super().append(piece)

    def extend(self, pieces: Iterable[str]) -> None:
        pieces = list(pieces)
        self._grow(pieces)
        super().extend(pieces)


class _CodeGenerator(CodeGenerator):
    def buffer(self, frame: Frame) -> None:
        frame.buffer = self.temporary_identifier()
        self.writeline(f"{frame.buffer} = environment.bounded_buffer()")

    @optimizeconst  # constants only: text of the template itself
    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        if frame.eval_ctx.volatile:
            join = "(markup_join if context.eval_ctx.volatile else str_join)"
        elif frame.eval_ctx.autoescape:
            join = "markup_join"
        else:
            join = "str_join"
        self.write(f"environment.bounded_concat({join}, (")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class Sandbox(SandboxedEnvironment):
    """Jinja2's sandbox with the bounds of `steward.limits` (see the module)."""

    intercepted_binops = frozenset({"**", "*", "+", "%"})
    code_generator_class = _CodeGenerator

    def __init__(self, **options: Any) -> None:
        super().__init__(finalize=self._finalize, **options)
        self.filters = {name: _guard_filter(name, f) for name, f in self.filters.items()}
        self.globals["lipsum"] = _lipsum
        self.concat = self._concat  # type: ignore[method-assign]

    # -- compiling ------------------------------------------------------------------------

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        for loop in tree.find_all(nodes.For):  # each loop's iterable ticks the deadline
            loop.iter = nodes.Call(
                nodes.EnvironmentAttribute("bounded_iter"),
                [loop.iter],
                [],
                None,
                None,
                lineno=loop.iter.lineno,
            )
        return tree

    # -- what compiled templates call -----------------------------------------------------

    @staticmethod
    def bounded_iter(iterable: Iterable[Any]) -> Iterable[Any]:
        if _ACTIVE.get() is None:
            return iterable
        return _ticking(iterable)

    @staticmethod
    def bounded_concat(join: Callable[[Iterable[Any]], str], parts: tuple[Any, ...]) -> str:
        _tick()
        size = 0
        for part in parts:
            size += len(part) if isinstance(part, str) else text_size(part)
            _check_string(size, "~")
        return str(_built(join(parts), "~", parts))

    @staticmethod
    def bounded_buffer() -> list[str]:
        return _Buffer()

    def _concat(self, parts: Iterable[str]) -> str:
        pieces = parts if isinstance(parts, list) else list(parts)
        text = "".join(pieces)
        _count(len(text))
        return text

    @staticmethod
    def _finalize(value: Any) -> Any:
        if type(value) is not str and not isinstance(value, str | jinja2.Undefined):
            _check_text(value, "the output")
        return value

    # -- the sandbox's hooks --------------------------------------------------------------

    def call(self, context: jinja2.runtime.Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        _tick()
        listed = list(args)
        _check_call(obj, listed, kwargs)
        result = super().call(context, obj, *listed, **kwargs)
        return _built(result, obj, tuple(listed))

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        _tick()
        if operator == "**":
            if (
                _is_int(left)
                and _is_int(right)
                and right > 0
                and abs(left) > 1
                and abs(left).bit_length() * right > limits.MAX_TEMPLATE_INT_BITS
            ):
                raise TemplateLimit("a power over the size limit")
            return left**right
        if operator == "+":
            if isinstance(left, _TEXT) and isinstance(right, _TEXT):
                _check_string(len(left) + len(right), "+")
            elif isinstance(left, list | tuple) and isinstance(right, list | tuple):
                _check_items(len(left) + len(right), "+")
            return _built(left + right, "+", (left, right))
        if operator == "%":
            if isinstance(left, str | bytes):
                _check_string(percent_size(left, right), "%")
            return _built(left % right, "%", (left, right))
        if (
            _is_int(left)
            and _is_int(right)
            and left.bit_length() + right.bit_length() > limits.MAX_TEMPLATE_INT_BITS
        ):
            raise TemplateLimit("a product over the size limit")
        for seq, count in ((left, right), (right, left)):
            if isinstance(seq, (*_TEXT, list, tuple)) and _is_int(count):
                text = isinstance(seq, _TEXT)
                cap = limits.MAX_TEMPLATE_STRING if text else limits.MAX_TEMPLATE_ITEMS
                if len(seq) * count > cap:
                    unit = "characters" if text else "items"
                    raise TemplateLimit(f"repetition over the limit of {cap:,} {unit}")
        return _built(left * right, "*", (left, right))


def _ticking(iterable: Iterable[Any]) -> Iterator[Any]:
    for n, item in enumerate(iterable):
        if not n & 1023:
            _tick()
        yield item


def _name_of(obj: Any) -> str:
    method = getattr(obj, "__wrapped__", obj)
    owner = getattr(method, "__self__", None)
    name = getattr(method, "__name__", None) or type(obj).__name__
    return f"{type(owner).__name__}.{name}" if owner is not None else str(name)
