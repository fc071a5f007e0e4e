"""`update_changelog` on real repositories and files: nothing released is ever lost.

Renders come from `steward changelog` (stdout) on real git repositories, including the
shallow clone CI checkouts make and a clone without tags: both see none (or only the
newest) of the release tags.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from steward.cli.main import main
from steward.errors import UsageError
from steward.release.changelog.file import update_changelog
from steward.release.changelog.splice import splice_checked
from tests.release.gitrepo import Repo, run

URL = "https://github.com/octo/app"


def render(repo: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    with pytest.raises(SystemExit) as exc:
        main(["changelog", "--path", str(repo), *extra])
    out = capsys.readouterr()
    assert exc.value.code in (0, None), out.err
    return out.out


def names(repo: Path) -> dict[str, str]:
    """What the CLI passes: each tag and its version string -> the tag."""
    tags = subprocess.run(
        ["git", "-C", str(repo), "tag", "--list"], capture_output=True, text=True, check=True
    ).stdout.split()
    out = {t: t for t in tags}
    for t in tags:
        out.setdefault(t.removeprefix("v"), t)
    return out


def four_releases(path: Path, *, unreleased: bool) -> Repo:
    r = Repo(path)
    (r.path / ".github").mkdir()
    (r.path / ".github" / "steward.yml").write_text(f"changelog:\n  repository_url: {URL}\n")
    r.commit("feat: first (#1)")
    r.tag("v1.0.0")
    for n in range(1, 4):
        r.commit(f"fix: bug {n} (#{n + 1})")
        r.tag(f"v1.0.{n}")
    if unreleased:
        r.commit("feat: next thing (#9)")
    return r


def clone(src: Path, dest: Path, *options: str) -> Path:
    subprocess.run(
        ["git", "clone", "-q", *options, f"file://{src}", str(dest)],
        check=True,
        capture_output=True,
    )
    return dest


def one_line(exc: pytest.ExceptionInfo[UsageError]) -> str:
    assert "\n" not in str(exc.value)
    return str(exc.value)


@pytest.mark.parametrize("unreleased", [True, False], ids=["commits-after-tag", "head-tagged"])
def test_shallow_clone_render_cannot_erase_history(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    unreleased: bool,
) -> None:
    full = four_releases(tmp_path / "full", unreleased=unreleased)
    path = full.path / "CHANGELOG.md"
    got = update_changelog(
        path,
        render(full.path, capsys),
        names(full.path),
        root=full.path,
        force=False,
        dry_run=False,
    )
    assert got == "created"
    before = path.read_bytes()
    for tag in ("v1.0.0", "v1.0.1", "v1.0.2", "v1.0.3"):
        assert f'<a name="{tag}"></a>' in before.decode()

    shallow_clone = clone(full.path, tmp_path / "clone", "--depth", "1")
    # The CLI refuses a shallow clone first; this layer must hold on its own all the same.
    monkeypatch.setattr("steward.release.repository.require_complete", lambda *a, **k: None)
    shallow = render(shallow_clone, capsys)
    lacking = "v1.0.2, v1.0.1, v1.0.0" if not unreleased else "v1.0.3, v1.0.2, v1.0.1, v1.0.0"
    assert ('<a name="v1.0.3">' in shallow) is not unreleased  # the clone sees at most HEAD's tag

    with pytest.raises(UsageError) as exc:
        update_changelog(
            path, shallow, names(shallow_clone), root=full.path, force=False, dry_run=False
        )
    assert exc.value.exit_code == 2
    message = one_line(exc)
    assert f"lacks released sections {lacking} " in message
    assert "--force" in message
    assert path.read_bytes() == before

    with pytest.raises(UsageError):  # a dry run says so too
        update_changelog(
            path, shallow, names(shallow_clone), root=full.path, force=False, dry_run=True
        )

    # The merge itself keeps every released block (before the fix, it let the shallow
    # render's head swallow them: the file came out with no release at all).
    merged = splice_checked(before.decode(), shallow, names(shallow_clone)).text
    old_blocks = before.decode()[before.decode().index('<a name="v1.0.3">') :]
    old_blocks = old_blocks[: old_blocks.index("[Unreleased]:")]
    assert old_blocks in merged

    got = update_changelog(
        path, shallow, names(shallow_clone), root=full.path, force=True, dry_run=False
    )
    # head-tagged: the clone's render adds nothing the file lacks, so nothing changes
    assert got == ("updated" if unreleased else "up to date")
    assert old_blocks in path.read_text()


def test_cli_output_with_a_tagless_clone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`git clone --no-tags` is complete history without tags: every change looks unreleased.
    The CLI refuses such a clone first; the file layer must hold on its own all the same."""
    full = four_releases(tmp_path / "full", unreleased=True)
    code, _, err = run(["changelog", "--path", str(full.path), "--output", "CHANGELOG.md"], capsys)
    assert (code, err.strip().splitlines()[-1]) == (0, f"{full.path / 'CHANGELOG.md'}: created")
    written = (full.path / "CHANGELOG.md").read_bytes()

    tagless = clone(full.path, tmp_path / "tagless", "--no-tags")
    (tagless / "CHANGELOG.md").write_bytes(written)
    argv = ["changelog", "--path", str(tagless), "--output", "CHANGELOG.md"]
    code, out, err = run(argv, capsys)
    assert (code, out) == (2, "")
    assert "cloned without tags" in err
    assert (tagless / "CHANGELOG.md").read_bytes() == written
    monkeypatch.setattr("steward.release.repository.require_complete", lambda *a, **k: None)
    code, out, err = run(argv, capsys)
    assert code == 2
    assert out == ""
    assert "lacks released sections v1.0.3, v1.0.2, v1.0.1, v1.0.0 " in err
    assert (tagless / "CHANGELOG.md").read_bytes() == written
    code, _, err = run([*argv, "--force"], capsys)
    assert code == 0
    assert "updated" in err
    text = (tagless / "CHANGELOG.md").read_text()
    for tag in ("v1.0.0", "v1.0.1", "v1.0.2", "v1.0.3"):
        assert f'<a name="{tag}"></a>' in text


def test_full_history_render_needs_no_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = four_releases(tmp_path / "r", unreleased=True)
    path = r.path / "CHANGELOG.md"
    update_changelog(
        path, render(r.path, capsys), names(r.path), root=r.path, force=False, dry_run=False
    )
    r.tag("v1.1.0")
    got = update_changelog(
        path, render(r.path, capsys), names(r.path), root=r.path, force=False, dry_run=False
    )
    assert got == "updated"
    assert '<a name="v1.1.0"></a>' in path.read_text()
    again = update_changelog(
        path, render(r.path, capsys), names(r.path), root=r.path, force=False, dry_run=False
    )
    assert again == "up to date"


def test_hand_written_intro_is_kept(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r = four_releases(tmp_path / "r", unreleased=True)
    path = r.path / "CHANGELOG.md"
    first = render(r.path, capsys)
    intro = "# ACME app\n\nWe release every Tuesday; see RELEASING.md.\n\n"
    path.write_text(intro + first)
    r.commit("fix: later (#10)")
    r.tag("v1.1.0")
    fresh = render(r.path, capsys)
    got = update_changelog(path, fresh, names(r.path), root=r.path, force=False, dry_run=False)
    assert got == "updated"
    text = path.read_text()
    assert text.startswith(intro + "<!-- changelog is partially generated")
    assert text.count("<!-- markdownlint-disable -->") == 1
    assert '<a name="v1.1.0"></a>' in text
    assert "* later" in text
    assert text == intro + fresh  # the rest is exactly the render
    assert (
        update_changelog(path, fresh, names(r.path), root=r.path, force=False, dry_run=False)
        == "up to date"
    )


def test_keepachangelog_intro_under_the_title_is_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = four_releases(tmp_path / "r", unreleased=False)
    path = r.path / "CHANGELOG.md"
    first = render(r.path, capsys, "--template", "keepachangelog")
    edited = first.replace(
        "All notable changes to this project will be documented in this file.",
        "All notable changes to ACME are documented here; security fixes also go to SECURITY.md.",
    )
    assert edited != first
    path.write_text(edited)
    r.commit("feat: shiny (#11)")
    fresh = render(r.path, capsys, "--template", "keepachangelog")
    assert "shiny" in fresh
    update_changelog(path, fresh, names(r.path), root=r.path, force=False, dry_run=False)
    text = path.read_text()
    assert "security fixes also go to SECURITY.md" in text
    assert "All notable changes to this project" not in text
    assert "shiny" in text.split("## [1.0.3]")[0]  # in the regenerated Unreleased part


def test_same_template_head_is_the_renders() -> None:
    old = "# Changelog\n\nintro\n\n## [Unreleased]\n\n- old\n\n## [1.0.0] - 2024-01-01\n\n- a\n"
    new = "# Changelog\n\nintro\n\n## [Unreleased]\n\n- new\n\n## [1.0.0] - 2024-01-01\n\n- a\n"
    assert splice_checked(old, new, {"v1.0.0": "v1.0.0", "1.0.0": "v1.0.0"}).text == new


def test_hand_written_prehistory_needs_force_and_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "CHANGELOG.md"
    path.write_text(
        "# Changelog\n\n## [Unreleased]\n\n## [1.0.0] - 2024-02-01\n\n- tagged\n\n"
        "## 0.9.0 (2023-05-01)\n\nWritten by hand before the project had tags.\n"
    )
    before = path.read_bytes()
    fresh = "# Changelog\n\n## [Unreleased]\n\n- new\n\n## [1.0.0] - 2024-02-01\n\n- tagged\n"
    tags = {"v1.0.0": "v1.0.0", "1.0.0": "v1.0.0"}
    with pytest.raises(UsageError, match=r"lacks released sections 0\.9\.0 "):
        update_changelog(path, fresh, tags, root=tmp_path, force=False, dry_run=False)
    assert path.read_bytes() == before
    assert update_changelog(path, fresh, tags, root=tmp_path, force=True, dry_run=False) == (
        "updated"
    )
    assert path.read_text().endswith(
        "- new\n\n## [1.0.0] - 2024-02-01\n\n- tagged\n\n"
        "## 0.9.0 (2023-05-01)\n\nWritten by hand before the project had tags.\n"
    )


def test_release_known_but_not_printed_is_not_lacking() -> None:
    """A template may print only recent releases: the history still has the others."""
    old = "# Log\n\n## v2.0.0\n\n- b\n\n## v1.0.0\n\n- a\n"
    new = "# Log\n\n## v2.0.0\n\n- b\n"
    result = splice_checked(old, new, {"v2.0.0": "v2.0.0", "v1.0.0": "v1.0.0"})
    assert result.lacking == []
    assert result.text == old


def test_version_spellings_are_one_release() -> None:
    """The old file says `1.2.0`, the render's tag is `v1.2.0`: the same release."""
    old = "# Log\n\n## [Unreleased]\n\n## [1.2.0] - 2024-01-01\n\n- hand edit\n"
    new = "# Log\n\n## [Unreleased]\n\n## [v1.2.0] - 2024-01-01\n\n- generated\n"
    result = splice_checked(old, new, {"v1.2.0": "v1.2.0"})
    assert result.lacking == []
    assert result.text == old


def test_non_utf8_file_is_untouched(tmp_path: Path) -> None:
    path = tmp_path / "CHANGELOG.md"
    path.write_bytes("# Änderungen\n\n## 1.0.0\n".encode("latin-1"))
    before = path.read_bytes()
    with pytest.raises(UsageError) as exc:
        update_changelog(path, "# Log\n", {}, root=tmp_path, force=True, dry_run=False)
    assert "not UTF-8 text" in one_line(exc)
    assert path.read_bytes() == before


@pytest.mark.parametrize("dry_run", [False, True])
def test_missing_directory_is_one_line(tmp_path: Path, dry_run: bool) -> None:
    with pytest.raises(UsageError) as exc:
        update_changelog(
            Path("docs/CHANGELOG.md"), "# Log\n", {}, root=tmp_path, force=False, dry_run=dry_run
        )
    assert one_line(exc) == f"directory {tmp_path / 'docs'} does not exist"
    assert list(tmp_path.iterdir()) == []


def test_symlink_out_of_the_repository_is_refused(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    (repo / "CHANGELOG.md").symlink_to(victim)
    with pytest.raises(UsageError) as exc:
        update_changelog(Path("CHANGELOG.md"), "# Log\n", {}, root=repo, force=True, dry_run=False)
    assert "outside" in one_line(exc)
    assert victim.read_text() == "keep me\n"


def test_crlf_and_bom_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "CHANGELOG.md"
    old = "\ufeff# Log\r\n\r\n## [Unreleased]\r\n\r\n## [1.0.0] - 2024-01-01\r\n\r\n- a\r\n"
    path.write_bytes(old.encode())
    path.chmod(0o664)
    fresh = "# Log\n\n## [Unreleased]\n\n- b\n\n## [1.0.0] - 2024-01-01\n\n- a\n"
    tags = {"v1.0.0": "v1.0.0", "1.0.0": "v1.0.0"}
    assert update_changelog(path, fresh, tags, root=tmp_path, force=False, dry_run=False) == (
        "updated"
    )
    data = path.read_bytes()
    assert data == (
        b"\xef\xbb\xbf# Log\r\n\r\n## [Unreleased]\r\n\r\n- b\r\n\r\n"
        b"## [1.0.0] - 2024-01-01\r\n\r\n- a\r\n"
    )
    assert path.stat().st_mode & 0o777 == 0o664
    assert update_changelog(path, fresh, tags, root=tmp_path, force=False, dry_run=False) == (
        "up to date"
    )


def test_outcomes_and_dry_run(tmp_path: Path) -> None:
    path = tmp_path / "CHANGELOG.md"
    args = {"root": tmp_path, "force": False}
    assert update_changelog(path, "# Log\n", {}, dry_run=True, **args) == "would be created"
    assert not path.exists()
    assert update_changelog(path, "# Log\n", {}, dry_run=False, **args) == "created"
    assert update_changelog(path, "# Log\n", {}, dry_run=False, **args) == "up to date"
    assert update_changelog(path, "# Log\n\n- x\n", {}, dry_run=True, **args) == (
        "would be updated"
    )
    assert path.read_text() == "# Log\n"
    assert update_changelog(path, "# Log\n\n- x\n", {}, dry_run=False, **args) == "updated"
    assert path.read_text() == "# Log\n\n- x\n"
