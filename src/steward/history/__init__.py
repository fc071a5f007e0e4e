"""Git history: the only package that runs git (`git.py`), the records it reads
(`records.py`: `Commit`, `Tag`), which release each commit is in (`releases.py`), which tagged
commits are release bumps (`bumps.py`) and HEAD's line of releases (`lines.py`).

Nothing is imported here, so pure code can import `steward.history.records` without
starting the git I/O module."""
