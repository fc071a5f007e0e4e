"""Run a release: stage by stage, recording state, resuming where a previous run stopped.

Without --resume a new release starts, or a finished one is only re-verified (a rerun
changes nothing); an unfinished one must be resumed explicitly. With --resume every completed
stage's outputs are verified before the first incomplete stage runs.
"""

from __future__ import annotations

import os
import shlex
import shutil
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from steward.config.pipeline import STAGES
from steward.errors import GitError, ReleaseError, StewardError, UsageError
from steward.history.git import commit_timestamp, head_commit
from steward.pipeline import state as st
from steward.pipeline import trusted_publishing
from steward.pipeline.context import Context
from steward.pipeline.report import gantt, timings_table
from steward.pipeline.stages import Stage, all_stages, skip_reason, stage_preflight
from steward.pipeline.versioning import normalize
from steward.workspace import Workspace

if TYPE_CHECKING:
    from steward.config.model import StewardConfig
    from steward.github.client import GitHubClient
    from steward.pipeline.aws import ClientFactory


@dataclass(slots=True)
class RunOptions:
    version: str
    prerelease: bool = False
    skip: tuple[str, ...] = ()
    resume: bool = False
    dry_run: bool = False
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    echo: Callable[[str], None] | None = None
    github: Callable[[], GitHubClient] | None = None
    clock: Callable[[], float] = time.time
    aws: ClientFactory | None = None  # boto3 clients per account/region (default: sessions)
    # stop before this stage: a gated job (a GitHub environment's approval) resumes from it
    stop_before: str | None = None


def resume_hint(version: str, root: Path) -> str:
    where = shlex.quote(str(root))
    return f"resume with: cd {where} && steward release run --version {version} --resume"


def _inputs(
    root: Path, version: str, prerelease: bool, env: Mapping[str, str]
) -> dict[str, object]:
    try:
        commit = head_commit(root)
    except GitError as exc:
        raise UsageError(f"{root} is not a git repository with a commit: {exc}") from None
    raw = env.get("SOURCE_DATE_EPOCH") or commit_timestamp(root, commit)
    try:
        epoch = int(raw)
    except ValueError:
        raise UsageError(f"SOURCE_DATE_EPOCH must be an integer, got {raw!r}") from None
    return {"version": version, "commit": commit, "epoch": epoch, "prerelease": prerelease}


def _check_version(text: str, prerelease: bool) -> tuple[str, bool]:
    v = normalize(text)
    if prerelease and not v.is_prerelease:
        raise UsageError(f"--prerelease needs a pre-release version (e.g. {v}a1), got {v}")
    return str(v), prerelease or v.is_prerelease


def run_release(root: Path, config: StewardConfig, opts: RunOptions) -> st.ReleaseState:
    """Run (or resume, or dry-run) the release ``opts.version`` of the repository at ``root``."""
    cfg = config.release
    version, prerelease = _check_version(opts.version, opts.prerelease)
    unknown = sorted(set(opts.skip) - set(STAGES))
    if unknown:
        raise UsageError(f"unknown stage(s) {', '.join(unknown)}; stages: {', '.join(STAGES)}")
    if opts.stop_before is not None and opts.stop_before not in cfg.stages:
        raise UsageError(
            f"--stop-before {opts.stop_before}: not one of this release's stages "
            f"({', '.join(cfg.stages)})"
        )
    stages = all_stages()
    rdir = release_dir(root, config, version)
    state_file = rdir / "state.json"
    existing = st.load(state_file)
    echo = opts.echo or _default_echo
    if opts.dry_run:
        state = existing or st.ReleaseState(version, _inputs(root, version, prerelease, opts.env))
        ctx = Context(
            root, version, prerelease, config, state, rdir, opts.env, echo, opts.github, opts.aws
        )
        _print_plan(ctx, [stages[n] for n in cfg.stages], opts.skip, existing is not None)
        for problem in preflight(ctx, list(cfg.stages), opts):
            echo(f"warning: {problem}")
        return state
    if existing is None:
        if opts.resume:
            raise UsageError(f"no release {version} to resume in {rdir}; run without --resume")
        state = st.ReleaseState(version, _inputs(root, version, prerelease, opts.env))
        for name in cfg.stages:
            state.stage(name)
    else:
        state = existing
        if not state.finished and not opts.resume:
            failed = [s.name for s in state.stages.values() if s.status == "failed"]
            where = f" (stage {failed[0]} failed)" if failed else ""
            raise UsageError(
                f"release {version} was started before{where}; {resume_hint(version, root)}"
            )
        prerelease = bool(state.inputs.get("prerelease", prerelease))
    ctx = Context(
        root, version, prerelease, config, state, rdir, opts.env, echo, opts.github, opts.aws
    )
    _skip_unconfigured(ctx, stages)
    # stages from --stop-before on are checked by the job that runs them
    before = list(state.stages)[: _position(state, opts)]
    now = [n for n in before if state.stages[n].status == "pending"]
    problems = preflight(ctx, now, opts)
    if problems:
        raise UsageError("cannot start the release: " + "; ".join(problems))
    _run_stages(ctx, stages, state_file, opts)
    if state.finished:  # restored trees are scratch; the sealed files and state stay
        shutil.rmtree(rdir / "work", ignore_errors=True)
    echo(timings_table(state))
    echo(gantt(state, {n: s.title for n, s in stages.items()}))
    return state


def _skip_unconfigured(ctx: Context, stages: dict[str, Stage]) -> None:
    """Pending stages whose config section is unset are skipped, saying why."""
    for name, rec in ctx.state.stages.items():
        if rec.status == "pending" and name in stages:
            reason = skip_reason(stages[name], ctx)
            if reason is not None:
                rec.status = "skipped"
                rec.details["reason"] = reason


def preflight(ctx: Context, pending: list[str], opts: RunOptions) -> list[str]:
    """What the stages still to run will need but cannot have: found before anything runs,
    not after the artifacts were published."""
    cfg, env = ctx.cfg, opts.env
    todo = set(pending) - set(opts.skip)
    problems = []
    stages = all_stages()
    for name in pending:
        if name in todo and name in stages and skip_reason(stages[name], ctx) is None:
            problems.extend(stage_preflight(stages[name], ctx))
    if "provenance" in todo:
        if cfg.signing_key_file:
            try:
                ctx.workspace().config_path(cfg.signing_key_file, "release.signing_key_file")
            except StewardError as exc:
                problems.append(str(exc))
        elif not env.get(cfg.signing_key_env):
            problems.append(f"provenance needs a signing key: set {cfg.signing_key_env}")
    if (
        "publish" in todo
        and not env.get(cfg.index_password_env)
        and not trusted_publishing.available(env)
    ):
        problems.append(
            f"publish needs index credentials: set {cfg.index_password_env}, or run in GitHub "
            "Actions with `permissions: id-token: write` (trusted publishing)"
        )
    if "post-release" in todo or ("tag" in todo and cfg.bump_pr):
        if opts.github is None:
            problems.append("post-release and the bump PR need GITHUB_TOKEN (or --skip them)")
        elif not (cfg.repository or env.get("GITHUB_REPOSITORY")):
            problems.append("set release.repository or GITHUB_REPOSITORY (OWNER/NAME)")
    return problems


def _default_echo(msg: str) -> None:
    import click

    click.echo(msg, err=True)


def _position(state: st.ReleaseState, opts: RunOptions) -> int:
    """Where the run stops: --stop-before's stage, else past the last one."""
    names = list(state.stages)
    return names.index(opts.stop_before) if opts.stop_before in names else len(names)


def _run_stages(ctx: Context, stages: dict[str, Stage], state_file: Path, opts: RunOptions) -> None:
    state = ctx.state
    names = list(state.stages)
    changed = False
    for i, name in enumerate(names, 1):
        rec = state.stages[name]
        if name == opts.stop_before and rec.status == "pending":
            ctx.echo(
                f"stopped before {name} (--stop-before); continue with: steward release run "
                f"--version {ctx.version} --resume"
            )
            return
        stage = stages.get(name)
        if stage is None:
            raise ReleaseError(
                f"{state_file}: names a stage steward does not have ({name!r}): damaged state"
            )
        prefix = f"[{i}/{len(names)}] {name}"
        if rec.status == "completed":
            try:
                stage.verify(ctx, rec)
            except (KeyError, TypeError, ValueError) as exc:
                raise ReleaseError(
                    f"{state_file}: the recorded outputs of stage {name} are damaged ({exc!r}); "
                    "move the state aside to start the release over"
                ) from None
            ctx.echo(f"{prefix}: done before, outputs verified")
            continue
        if rec.status == "skipped":
            reason = rec.details.get("reason")
            ctx.echo(f"{prefix}: skipped" + (f" ({reason})" if reason else ""))
            continue
        if name in opts.skip:
            rec.status = "skipped"
            st.save(state, state_file)
            ctx.echo(f"{prefix}: skipped")
            continue
        ctx.echo(f"{prefix}: {stage.title} ...")
        rec.status, rec.error, rec.outputs, rec.details = "running", None, {}, {}
        rec.started, rec.finished = opts.clock(), None
        st.save(state, state_file)
        changed = True
        try:
            stage.run(ctx, rec)
        except (StewardError, OSError) as exc:
            rec.status, rec.error, rec.finished = "failed", str(exc), opts.clock()
            st.save(state, state_file)
            ctx.echo(f"{prefix}: FAILED")
            raise _failure(exc, name, ctx) from None
        rec.status, rec.finished = "completed", opts.clock()
        st.save(state, state_file)
        ctx.echo(f"{prefix}: done in {rec.seconds or 0:.2f}s")
    if not changed:
        ctx.echo(f"release {ctx.version} is complete; nothing changed")


def _failure(exc: BaseException, stage: str, ctx: Context) -> StewardError:
    hint = (
        f"earlier stages' outputs are kept in {ctx.dir}; fix the cause, then "
        f"{resume_hint(ctx.version, ctx.root)}"
    )
    message = f"{exc}\n{hint}" if f"stage {stage}" in str(exc) else f"stage {stage}: {exc}\n{hint}"
    if isinstance(exc, ReleaseError):
        return type(exc)(message)
    return ReleaseError(message)


def _print_plan(
    ctx: Context, stages: Iterable[Stage], skip: tuple[str, ...], started: bool
) -> None:
    cfg = ctx.cfg
    ctx.echo(
        f"release {ctx.version} ({'pre-release' if ctx.prerelease else 'final'}), "
        f"tag {ctx.tag}, commit {ctx.commit[:12]}, SOURCE_DATE_EPOCH {ctx.epoch}"
    )
    ctx.echo(f"state and sealed files: {ctx.dir}{' (exists: use --resume)' if started else ''}")
    ctx.echo(f"target index: {cfg.index_url}; git remote: {cfg.remote}")
    for i, stage in enumerate(stages, 1):
        reason = skip_reason(stage, ctx)
        if reason is not None and stage.name not in skip:
            ctx.echo(f"[{i}] {stage.name} (skipped: {reason}): {stage.title}")
            continue
        mark = " (skipped)" if stage.name in skip else ""
        ctx.echo(f"[{i}] {stage.name}{mark}: {stage.title}")
        for line in stage.plan(ctx):
            ctx.echo(f"      {line}")
    ctx.echo("dry run: nothing was changed")


def release_dir(root: Path, config: StewardConfig, version: str | None = None) -> Path:
    """``release.state_dir`` (with ``version``: its ``releases/VERSION``), checked as a
    config path (`steward.workspace`): inside the checkout after symlinks, a directory
    where it exists. State is written there: a symlink in the checkout must not send it
    elsewhere."""
    state_dir = config.release.state_dir
    ws = Workspace(root, config.origin)
    ws.config_path(state_dir, "release.state_dir", kind="dir", must_exist=False)
    ws.config_path(f"{state_dir}/releases", "release.state_dir", kind="dir", must_exist=False)
    if version is None:
        return root / state_dir
    path = st.release_dir(root, state_dir, version)
    ws.config_path(str(path.relative_to(root)), "release.state_dir", kind="dir", must_exist=False)
    return path


def status_report(root: Path, config: StewardConfig, version: str | None) -> str:
    cfg = config.release
    if version is None:
        release_dir(root, config)
        versions = st.list_releases(root, cfg.state_dir)
        if not versions:
            return f"no releases recorded in {root / cfg.state_dir}"
        lines = []
        for v in versions:
            s = st.load(release_dir(root, config, v) / "state.json")
            assert s is not None
            lines.append(f"{v}: {'finished' if s.finished else _progress(s)}")
        return "\n".join(lines)
    v = str(normalize(version))
    s = st.load(release_dir(root, config, v) / "state.json")
    if s is None:
        raise UsageError(f"no release {v} recorded in {root / cfg.state_dir}")
    titles = {n: stage.title for n, stage in all_stages().items()}
    head = f"release {v}: {'finished' if s.finished else _progress(s)}"
    return "\n".join([head, timings_table(s), gantt(s, titles)])


def status_json(root: Path, config: StewardConfig, version: str | None) -> Any:
    """The recorded state of one release, or of every recorded release."""
    cfg = config.release
    release_dir(root, config)
    versions = [str(normalize(version))] if version else st.list_releases(root, cfg.state_dir)
    out = []
    for v in versions:
        s = st.load(release_dir(root, config, v) / "state.json")
        if s is None:
            raise UsageError(f"no release {v} recorded in {root / cfg.state_dir}")
        out.append({**s.to_json(), "finished": s.finished})
    return out[0] if version else out


def _progress(s: st.ReleaseState) -> str:
    for rec in s.stages.values():
        if rec.status == "failed":
            return f"stage {rec.name} failed: {(rec.error or '').splitlines()[0]}"
        if rec.status in {"pending", "running"}:
            return f"next stage {rec.name}"
    return "in progress"
