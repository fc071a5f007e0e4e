"""``steward ARGS`` run in-process, as a user's shell would see it: exit code, stdout, stderr."""

from __future__ import annotations

import pytest

from steward.cli.main import main


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """The exit code (1 for a non-integer exit), stdout and stderr of ``steward ARGS``."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        main(args)
    out, err = capsys.readouterr()
    code = info.value.code
    return (code if isinstance(code, int) else 1), out, err
