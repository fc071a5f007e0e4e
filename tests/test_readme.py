"""The README cannot rot: every command it shows must parse against the real CLI, and every
`make` target it names must exist. (The commands' behaviour is tested where it lives; the
offline ones are also run here for real.)"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest

from steward.cli.main import cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
_BLOCK = re.compile(r"```console\n(.*?)```", re.DOTALL)


def _commands(prefix: str) -> list[str]:
    out: list[str] = []
    for block in _BLOCK.findall(README):
        for line in block.splitlines():
            if line.startswith(f"$ {prefix}"):
                text = line[2:].split("  #", 1)[0].strip()
                text = text.split(" > ", 1)[0].strip()
                out.append(text)
    return out


STEWARD = _commands("steward ")
MAKE = _commands("make ")


def test_the_readme_shows_commands():
    assert len(STEWARD) >= 10
    assert {"make demo", "make test"} <= set(MAKE)


@pytest.mark.parametrize("line", STEWARD)
def test_every_steward_command_in_the_readme_parses(line: str):
    args = shlex.split(line)[1:]
    ctx = click.Context(cli, info_name="steward")
    cmd: click.Command = cli
    while isinstance(cmd, click.Group) and args and not args[0].startswith("-"):
        sub = cmd.get_command(ctx, args[0])
        assert sub is not None, f"README shows unknown command {args[0]!r} in: {line}"
        ctx = click.Context(sub, info_name=args[0], parent=ctx)
        cmd, args = sub, args[1:]
    assert not isinstance(cmd, click.Group) or args == [] or args[0] in {"-h", "--help"}
    # Parsing (not invoking) checks every option and argument the README uses exists.
    cmd.make_context(ctx.info_name, list(args), parent=ctx.parent)


@pytest.mark.parametrize("line", MAKE)
def test_every_make_target_in_the_readme_exists(line: str):
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    target = line.split()[1]
    assert re.search(rf"^{re.escape(target)}:", makefile, re.MULTILINE), line


def test_ci_runs_exactly_the_readme_test_command():
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    commands = [
        ln.strip()
        for ln in script.splitlines()
        if ln.strip() and not ln.startswith(("#", "set ", "cd "))
    ]
    assert commands == ["make test"]
