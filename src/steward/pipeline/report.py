"""What a run looked like: a table of stage timings and a Mermaid Gantt of the real run,
drawn like the playbook's "Release process visualized" (one section per stage).
"""

from __future__ import annotations

from steward.pipeline.state import ReleaseState

_MERMAID_STATUS = {"completed": "done", "failed": "crit", "running": "active"}


def timings_table(state: ReleaseState) -> str:
    rows = [("stage", "status", "seconds")]
    total = 0.0
    for rec in state.stages.values():
        secs = rec.seconds
        total += secs or 0.0
        rows.append((rec.name, rec.status, f"{secs:.2f}" if secs is not None else "-"))
    rows.append(("total", "", f"{total:.2f}"))
    width = [max(len(r[i]) for r in rows) for i in range(3)]
    return "\n".join(
        f"{r[0]:<{width[0]}}  {r[1]:<{width[1]}}  {r[2]:>{width[2]}}".rstrip() for r in rows
    )


def _subtasks(tasks: object, status: str, ident: str) -> list[str]:
    """Bars inside a stage's section for its parts (a region, an architecture), from the
    ``tasks`` list a stage records: ``{"title", "started", "finished"}`` in epoch seconds."""
    if not isinstance(tasks, list):
        return []
    out = []
    for k, task in enumerate(tasks, 1):
        try:
            start = int(float(task["started"]) * 1000)
            end = max(int(float(task["finished"]) * 1000), start + 1)
        except (KeyError, TypeError, ValueError):
            continue
        title = str(task.get("title", k)).replace(":", " ").replace("#", " ").strip()
        out.append(f"{title} ({(end - start) / 1000:.2f}s) : {status}, {ident}_{k}, {start}, {end}")
    return out


def gantt(state: ReleaseState, titles: dict[str, str] | None = None) -> str:
    """Mermaid source; times are epoch milliseconds (`dateFormat x`), one task per stage and
    one per part a stage timed (regions, architectures)."""
    lines = [
        "```mermaid",
        "gantt",
        f"title Release {state.version}",
        "dateFormat x",
        "axisFormat %H:%M:%S",
    ]
    for rec in state.stages.values():
        if rec.started is None or rec.finished is None:
            continue
        start = int(rec.started * 1000)
        end = max(int(rec.finished * 1000), start + 1)
        status = _MERMAID_STATUS.get(rec.status, "active")
        title = (titles or {}).get(rec.name, rec.name)
        ident = rec.name.replace("-", "_")
        lines.append(f"section {rec.name}")
        lines.append(f"{title} ({(end - start) / 1000:.2f}s) : {status}, {ident}, {start}, {end}")
        lines.extend(_subtasks(rec.details.get("tasks"), status, ident))
    lines.append("```")
    return "\n".join(lines)
