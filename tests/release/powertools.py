"""The real Powertools history (shared/fixtures, copied to tests/fixtures/powertools) as a
git repository, loaded once per test module that asks for it.

How the fixture simplifies reality (see its README): commit ids differ from the original;
every file but `pyproject.toml` and `aws_lambda_powertools/shared/version.py` holds the
original blob's id instead of its content, so a commit changes exactly the paths the
original changed, and the two version files carry their real text.
"""

from __future__ import annotations

import gzip
import subprocess
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "powertools"
ORIGIN = "https://github.com/aws-powertools/powertools-lambda-python.git"


def load_powertools(where: Path) -> Path:
    """The history imported into ``where/h``, `develop` checked out, `origin` set."""
    repo = where / "h"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    stream = gzip.decompress((FIXTURES / "powertools-history.fi.gz").read_bytes())
    subprocess.run(["git", "-C", str(repo), "fast-import", "--quiet"], input=stream, check=True)
    subprocess.run(["git", "-C", str(repo), "checkout", "-q", "develop"], check=True)
    subprocess.run(["git", "-C", str(repo), "remote", "add", "origin", ORIGIN], check=True)
    return repo
