"""Issue #16, the workspace: a path from the config stays inside the checkout, and nothing
steward reads or replaces is a device, a FIFO or a socket.

Every test runs the real CLI on a real git repository with real files (and, as root, real
device nodes); the reproductions from the issue are the first tests here.
"""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.release.gitrepo import Repo, run

PAYLOAD = '[core]\n\tfsmonitor = "touch PWNED; false"\n'


def config(repo: Repo, text: str) -> Path:
    path = repo.path / ".github" / "steward.yml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    r = Repo(tmp_path / "repo")
    r.set_version("1.0.0")
    r.commit("feat: first (#1)")
    r.tag("v1.0.0")
    r.commit("fix: second (#2)")
    return r


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


def error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert lines, "nothing on stderr"
    assert "Traceback" not in err
    return lines[-1]


def steward(
    args: list[str], *, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """``steward ARGS`` as its own process: its /proc/self/environ is its environment, and
    a read that would block (a FIFO) is killed after ``timeout`` instead of hanging."""
    return subprocess.run(
        [sys.executable, "-m", "steward", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def device(tmp_path: Path) -> Path:
    """A character device of its own (the same as /dev/null): replacing it harms nothing."""
    path = tmp_path / "null-device"
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("creating a device node needs root (GitHub Actions containers run as root)")
    return path


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe"
    os.mkfifo(path)
    return path


@pytest.fixture
def unix_socket(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    yield path
    sock.close()


def is_node(path: Path, test: object) -> bool:
    return bool(test(path.lstat().st_mode))  # type: ignore[operator]


# ---- reproduction 1: code execution from the config ----------------------------------------


def test_changelog_output_from_the_config_cannot_leave_the_checkout(
    repo: Repo, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo.path / "t.j2").write_text(PAYLOAD, encoding="utf-8")
    cfg = config(repo, "changelog:\n  template: t.j2\n  output: ../home/.gitconfig\n")
    code, _, err = run(["changelog", "--path", str(repo.path), "--output"], capsys)
    assert code == 2, err
    assert not (home / ".gitconfig").exists()
    line = error_line(err)
    assert line.startswith(f"error: {cfg}:3: changelog.output: ")
    assert "'../home/.gitconfig' leaves the repository" in line


@pytest.mark.parametrize(
    "value",
    ["{home}/.gitconfig", ".git/hooks/post-checkout", ".git/config", "docs/.git/config"],
)
def test_changelog_output_absolute_or_in_git_is_refused(
    value: str, repo: Repo, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo.path / "t.j2").write_text(PAYLOAD, encoding="utf-8")
    before = (repo.path / ".git" / "config").read_bytes()
    cfg = config(repo, f"changelog:\n  template: t.j2\n  output: {value.format(home=home)}\n")
    code, _, err = run(["changelog", "--path", str(repo.path), "--output"], capsys)
    assert code == 2, err
    assert error_line(err).startswith(f"error: {cfg}:3: changelog.output: ")
    assert not (home / ".gitconfig").exists()
    assert not (repo.path / ".git" / "hooks" / "post-checkout").exists()
    assert (repo.path / ".git" / "config").read_bytes() == before


def test_a_symlink_in_the_checkout_cannot_lead_a_config_path_out(
    repo: Repo, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo.path / "notes").symlink_to(home)  # a directory symlink: `notes/x.md` is outside
    cfg = config(repo, "changelog:\n  output: notes/CHANGELOG.md\n")
    code, _, err = run(["changelog", "--path", str(repo.path), "--output"], capsys)
    assert code == 2, err
    line = error_line(err)
    assert line.startswith(f"error: {cfg}:2: changelog.output: notes/CHANGELOG.md resolves to ")
    assert "outside the repository" in line
    assert list(home.iterdir()) == []


def test_a_symlink_into_git_is_refused(repo: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    (repo.path / "hooks").symlink_to(".git/hooks")
    config(repo, "changelog:\n  output: hooks/post-checkout\n")
    code, _, err = run(["changelog", "--path", str(repo.path), "--output"], capsys)
    assert code == 2, err
    assert "inside .git/" in error_line(err)
    assert not (repo.path / ".git" / "hooks" / "post-checkout").exists()


@pytest.mark.parametrize(
    ("setting", "value"),
    [("version_file", "../home/version.py"), ("version_file", "{home}/version.py")],
)
def test_version_file_from_the_config_cannot_leave_the_checkout(
    setting: str, value: str, repo: Repo, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outside = home / "version.py"
    outside.write_text('__version__ = "0.0.1"\n', encoding="utf-8")
    cfg = config(repo, f"version:\n  {setting}: {value.format(home=home)}\n")
    code, _, err = run(["version", "next", "--path", str(repo.path), "--write"], capsys)
    assert code == 2, err
    assert error_line(err).startswith(f"error: {cfg}:2: version.{setting}: ")
    assert outside.read_text(encoding="utf-8") == '__version__ = "0.0.1"\n'


@pytest.mark.parametrize(
    ("key", "command"),
    [
        ("changelog", ["changelog", "--package", "web", "--output"]),
        ("version_file", ["version", "next", "--package", "web", "--write"]),
    ],
)
def test_a_packages_files_cannot_leave_the_checkout(
    key: str, command: list[str], repo: Repo, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outside = home / "pyproject.toml"
    outside.write_text('[project]\nname = "x"\nversion = "0.0.1"\n', encoding="utf-8")
    cfg = config(
        repo,
        "packages:\n  - name: web\n    paths: [web]\n"
        f"    {key}: ../home/{'pyproject.toml' if key == 'version_file' else 'CHANGELOG.md'}\n",
    )
    code, _, err = run([*command, "--path", str(repo.path)], capsys)
    assert code == 2, err
    assert error_line(err).startswith(f"error: {cfg}:4: packages.0.{key}: ")
    assert sorted(p.name for p in home.iterdir()) == ["pyproject.toml"]
    assert "0.0.1" in outside.read_text(encoding="utf-8")


def test_the_user_may_write_outside_with_an_explicit_option(
    repo: Repo, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = home / "x.md"
    code, _, err = run(["changelog", "--path", str(repo.path), "--output", str(target)], capsys)
    assert code == 0, err
    assert "## " in target.read_text(encoding="utf-8")


# ---- reproduction 2: secrets read through the config ---------------------------------------


@pytest.mark.parametrize("where", ["absolute", "relative"])
def test_a_template_outside_the_checkout_is_refused(repo: Repo, where: str) -> None:
    if not Path("/proc/self/environ").exists():
        pytest.skip("no procfs")
    value = (
        "/proc/self/environ"
        if where == "absolute"
        else os.path.relpath("/proc/self/environ", repo.path)
    )
    cfg = config(repo, f"changelog:\n  template: {value}\n")
    done = steward(["changelog", "--path", str(repo.path)], env={"MYSECRET": "hunter2"})
    assert done.returncode == 2, done.stderr
    assert "hunter2" not in done.stdout + done.stderr
    assert error_line(done.stderr).startswith(f"error: {cfg}:2: changelog.template: ")
    checked = steward(["config", "check", "--path", str(repo.path)])
    assert checked.returncode == 2, checked.stdout
    assert error_line(checked.stderr).startswith(f"error: {cfg}:2: changelog.template: ")


def test_config_check_reports_a_path_that_leaves_through_a_symlink(
    repo: Repo, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (home / "t.j2").write_text("secret\n", encoding="utf-8")
    (repo.path / "t.j2").symlink_to(home / "t.j2")
    cfg = config(repo, "version:\n  tag_pattern: 'v{version}'\nchangelog:\n  template: t.j2\n")
    code, out, err = run(["config", "check", "--path", str(repo.path)], capsys)
    assert code == 2, out
    line = error_line(err)
    assert line.startswith(f"error: {cfg}:4: changelog.template: t.j2 resolves to ")
    assert "outside the repository" in line


# ---- reproduction 3: a device replaced -------------------------------------------------------


def test_changelog_output_never_replaces_a_device(
    repo: Repo, device: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(["changelog", "--path", str(repo.path), "--output", str(device)], capsys)
    assert code == 2, err
    assert is_node(device, stat.S_ISCHR)
    assert "is a character device, not a regular file" in error_line(err)


def test_changelog_output_to_dev_null_is_refused(
    repo: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(["changelog", "--path", str(repo.path), "--output", "/dev/null"], capsys)
    assert code == 2, err
    assert is_node(Path("/dev/null"), stat.S_ISCHR)
    assert error_line(err).startswith("error: --output /dev/null: is a character device")


def test_changelog_output_never_blocks_on_a_fifo(repo: Repo, fifo: Path) -> None:
    done = steward(["changelog", "--path", str(repo.path), "--output", str(fifo)])
    assert done.returncode == 2, done.stderr
    assert is_node(fifo, stat.S_ISFIFO)
    assert f"error: --output {fifo}: is a FIFO, not a regular file" == error_line(done.stderr)


def test_changelog_output_never_replaces_a_socket(
    repo: Repo, unix_socket: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        ["changelog", "--path", str(repo.path), "--output", str(unix_socket)], capsys
    )
    assert code == 2, err
    assert is_node(unix_socket, stat.S_ISSOCK)


def test_a_config_path_that_is_a_fifo_or_a_directory_is_one_line(
    repo: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    os.mkfifo(repo.path / "CHANGELOG.md")
    (repo.path / "t.j2").mkdir()
    cfg = config(repo, "changelog:\n  template: t.j2\n")
    done = steward(["changelog", "--path", str(repo.path)])
    assert done.returncode == 2
    assert error_line(done.stderr) == (
        f"error: {cfg}:2: changelog.template: t.j2 is a directory, not a regular file"
    )
    cfg.write_text("changelog:\n  output: CHANGELOG.md\n", encoding="utf-8")
    done = steward(["changelog", "--path", str(repo.path), "--output"])
    assert done.returncode == 2
    assert error_line(done.stderr) == (
        f"error: {cfg}:2: changelog.output: CHANGELOG.md is a FIFO, not a regular file"
    )


def test_a_fifo_as_config_or_template_never_hangs(repo: Repo, fifo: Path) -> None:
    done = steward(["changelog", "--path", str(repo.path), "--config", str(fifo)])
    assert done.returncode == 2
    assert error_line(done.stderr) == f"error: --config {fifo}: is a FIFO, not a regular file"
    done = steward(["changelog", "--path", str(repo.path), "--template", str(fifo)])
    assert done.returncode == 2
    assert error_line(done.stderr) == f"error: --template {fifo}: is a FIFO, not a regular file"
    os.unlink(repo.path / "pyproject.toml")
    os.mkfifo(repo.path / "pyproject.toml")
    done = steward(["version", "next", "--path", str(repo.path), "--write"])
    assert done.returncode == 2
    assert "version.pyproject: pyproject.toml is a FIFO, not a regular file" in done.stderr


# ---- the release pipeline's paths ------------------------------------------------------------


def test_a_signing_key_file_leading_out_is_refused_before_the_release_starts(
    repo: Repo, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (home / "key.pem").write_text("-----BEGIN PRIVATE KEY-----\n", encoding="utf-8")
    (repo.path / "key.pem").symlink_to(home / "key.pem")
    cfg = config(repo, "release:\n  signing_key_file: key.pem\n")
    code, _, err = run(["release", "run", "--version", "1.0.1", "--path", str(repo.path)], capsys)
    assert code == 2, err
    assert "error: cannot start the release: " in err  # the problems, on one line each
    assert f"{cfg}:2: release.signing_key_file: key.pem resolves to " in err
    assert not (repo.path / ".steward").exists()


@pytest.mark.parametrize("value", ["~/.ssh/id_ed25519", "/run/secrets/key.pem"])
def test_a_signing_key_file_outside_the_repository_is_a_config_error(
    value: str, repo: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = config(repo, f"release:\n  signing_key_file: {value}\n")
    code, _, err = run(["config", "check", "--path", str(repo.path)], capsys)
    assert code == 2
    assert error_line(err).startswith(f"error: {cfg}:2: release.signing_key_file: ")


def test_release_state_never_follows_a_symlink_out(
    repo: Repo, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo.path / ".steward").mkdir()
    (repo.path / ".steward" / "releases").symlink_to(home)
    code, _, err = run(["release", "status", "--path", str(repo.path)], capsys)
    assert code == 2, err
    assert "release.state_dir: .steward/releases resolves to " in error_line(err)
    code, _, err = run(["release", "run", "--version", "1.0.1", "--path", str(repo.path)], capsys)
    assert code == 2, err
    assert "release.state_dir: .steward/releases resolves to " in error_line(err)
    assert list(home.iterdir()) == []


def test_config_check_names_the_line_of_a_state_dir_leading_out(
    repo: Repo, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo.path / "state").symlink_to(home)
    cfg = config(repo, "ignore_authors: []\nrelease:\n  stages: [seal]\n  state_dir: state\n")
    code, _, err = run(["config", "check", "--path", str(repo.path)], capsys)
    assert code == 2
    assert error_line(err).startswith(f"error: {cfg}:4: release.state_dir: state resolves to ")


def test_a_payload_from_the_environment_that_is_a_fifo_never_hangs(repo: Repo, fifo: Path) -> None:
    done = steward(
        ["handle", "--path", str(repo.path), "--dry-run"],
        env={"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": str(fifo)},
    )
    assert done.returncode == 2
    assert error_line(done.stderr) == f"error: --payload {fifo}: is a FIFO, not a regular file"
