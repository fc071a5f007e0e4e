"""Quality command of the tests: the restored tree holds the bumped version and dotfiles."""

import pathlib
import sys

text = pathlib.Path("pyproject.toml").read_text()
ok = pathlib.Path(".github/workflows/ci.yml").is_file() and f'"{sys.argv[1]}"' in text
print("quality ok" if ok else "quality failed")
sys.exit(0 if ok else 1)
