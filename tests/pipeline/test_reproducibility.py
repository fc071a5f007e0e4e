"""The build stage's optional reproducibility check: two builds from fresh restores."""

from __future__ import annotations

import json
from pathlib import Path

from tests.pipeline.conftest import git, make_sample
from tests.pipeline.test_release_run import invoke

# A hatchling build hook that puts the build's own random bytes into the wheel only.
NOISY_HOOK = """
import os
from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CustomBuildHook(BuildHookInterface):
    def initialize(self, version, build_data):
        if self.target_name == "wheel":
            path = os.path.join(self.root, "noise.bin")
            with open(path, "wb") as fh:
                fh.write(os.urandom(16))
            build_data["force_include"][path] = "sample/noise.bin"
"""


def test_hatchling_builds_are_reproducible_and_noise_is_named(tmp_path: Path) -> None:
    good = make_sample(
        tmp_path / "good", None, extra="  reproducibility_check: true\n", stages="[seal, build]"
    )
    ok = invoke(good, "run", "--version", "1.0.0")
    assert ok.exit_code == 0, ok.output
    state = json.loads((good.release_dir / "1.0.0" / "state.json").read_text())
    build = next(s for s in state["stages"] if s["name"] == "build")
    assert build["details"]["reproducible"] is True

    bad = make_sample(
        tmp_path / "bad", None, extra="  reproducibility_check: true\n", stages="[seal, build]"
    )
    (bad.root / "hatch_build.py").write_text(NOISY_HOOK)
    with (bad.root / "pyproject.toml").open("a") as fh:
        fh.write("\n[tool.hatch.build.targets.wheel.hooks.custom]\n")
    git(bad.root, "add", "-A")
    git(bad.root, "commit", "-q", "-m", "build: noisy wheel")
    refused = invoke(bad, "run", "--version", "1.0.0")
    assert refused.exit_code == 1
    assert (
        "not reproducible, these artifacts differ between two builds: "
        "sample-1.0.0-py3-none-any.whl\n"
    ) in refused.output
