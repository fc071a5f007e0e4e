"""The timings table and Gantt, --dry-run touching nothing, and usage errors (exit 2)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from steward.pipeline.report import gantt, timings_table
from steward.pipeline.state import ReleaseState
from tests.pipeline.conftest import git, make_sample
from tests.pipeline.test_release_run import invoke, run_cli


def _state() -> ReleaseState:
    s = ReleaseState("1.0.0")
    seal = s.stage("seal")
    seal.status, seal.started, seal.finished = "completed", 100.0, 100.5
    build = s.stage("build")
    build.status, build.started, build.finished = "failed", 100.5, 102.75
    s.stage("publish")  # pending: in the table, not in the chart
    return s


def test_timings_table() -> None:
    assert timings_table(_state()).splitlines() == [
        "stage    status     seconds",
        "seal     completed     0.50",
        "build    failed        2.25",
        "publish  pending          -",
        "total                  2.75",
    ]


def test_gantt_draws_the_real_run_with_epoch_milliseconds() -> None:
    assert gantt(_state(), {"seal": "Seal it"}).splitlines() == [
        "```mermaid",
        "gantt",
        "title Release 1.0.0",
        "dateFormat x",
        "axisFormat %H:%M:%S",
        "section seal",
        "Seal it (0.50s) : done, seal, 100000, 100500",
        "section build",
        "build (2.25s) : crit, build, 100500, 102750",
        "```",
    ]


def snapshot(root: Path) -> tuple[str, str, list[str]]:
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if ".git" not in p.parts)
    return git(root, "show-ref"), git(root, "status", "--porcelain", "--ignored"), files


def test_dry_run_prints_the_plan_and_touches_nothing(tmp_path: Path) -> None:
    sample = make_sample(tmp_path, None)
    remote_before = git(sample.remote, "show-ref")
    before = snapshot(sample.root)
    out = invoke(sample, "run", "--version", "1.2.0", "--dry-run", "--skip", "quality")
    assert out.exit_code == 0, out.output
    assert snapshot(sample.root) == before
    assert git(sample.remote, "show-ref") == remote_before
    text = out.output
    for pattern in (
        f"commit {sample.commit[:12]}",
        "SOURCE_DATE_EPOCH 1700000000",
        "target index: http://127.0.0.1:9/",
        "git remote: origin",
        "[2] quality (skipped)",
        "-m build --outdir {w}/build-dist --no-isolation {w}/build",
        "annotated tag v1.2.0",
        "dry run: nothing was changed",
    ):
        expected = pattern.format(w=sample.release_dir / "1.2.0" / "work")
        assert expected in text, expected


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    sample = make_sample(tmp_path, None)
    resume = invoke(sample, "run", "--version", "1.2.0", "--resume")
    assert resume.exit_code == 2
    assert "no release 1.2.0 to resume" in resume.output
    pre = invoke(sample, "run", "--version", "1.2.0", "--prerelease")
    assert pre.exit_code == 2
    assert "--prerelease needs a pre-release version" in pre.output
    bad = invoke(sample, "run", "--version", "one.two")
    assert bad.exit_code == 2
    assert "not a PEP 440 version" in bad.output
    skip = invoke(sample, "run", "--version", "1.2.0", "--skip", "deploy")
    assert skip.exit_code == 2
    assert not (sample.root / ".steward").exists()
    status = invoke(sample, "status", "--version", "9.9.9")
    assert status.exit_code == 2
    env = {
        k: v for k, v in sample.env().items() if k not in {"STEWARD_SIGNING_KEY", "TWINE_PASSWORD"}
    }
    nokey = run_cli(["run", "--version", "1.2.0", "--path", str(sample.root)], env)
    assert nokey.exit_code == 2
    assert "set STEWARD_SIGNING_KEY" in nokey.output
    assert "set TWINE_PASSWORD" in nokey.output
    assert not (sample.root / ".steward").exists()
    missing = run_cli(
        [
            "verify",
            str(tmp_path / "nope"),
            "--provenance",
            str(tmp_path / "p"),
            "--public-key",
            str(sample.public_pem),
        ]
    )
    assert missing.exit_code == 2


def test_failed_quality_keeps_the_seal_and_says_how_to_resume(tmp_path: Path) -> None:
    sample = make_sample(tmp_path, None, stages="[seal, quality]")
    cfg = sample.root / ".github" / "steward.yml"
    cfg.write_text(cfg.read_text().replace("'{version}'", "'9.9.9'"))  # check.py will fail
    out = invoke(sample, "run", "--version", "1.2.0")
    assert out.exit_code == 1
    assert "stage quality: command exited 1" in out.output
    assert "quality failed" in (sample.release_dir / "1.2.0" / "quality.log").read_text()
    assert "steward release run --version 1.2.0 --resume" in out.output
    assert (sample.release_dir / "1.2.0" / "source.tar").is_file()
    status = invoke(sample, "status")
    assert "1.2.0: stage quality failed" in status.output
    cfg.write_text(cfg.read_text().replace("'9.9.9'", "'{version}'"))
    resumed = invoke(sample, "run", "--version", "1.2.0", "--resume")
    assert resumed.exit_code == 0, resumed.output
    assert "seal: done before, outputs verified" in resumed.output


def test_the_steward_command_prints_one_line_and_exits_2(tmp_path: Path) -> None:
    sample = make_sample(tmp_path, None)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "steward",
            "release",
            "run",
            "--version",
            "v1..2",
            "--path",
            str(sample.root),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "error: 'v1..2' is not a PEP 440 version (e.g. 1.2.0, 1.3.0a1)"
    ]
