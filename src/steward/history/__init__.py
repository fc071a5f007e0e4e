"""Git history: the only package that runs git. `git.py` starts every git process and holds
the reads; `plumbing.py` the writes a release makes (a commit of one file through a temporary
index, a tag object, refs, fetch, push with lease). Also the records git is read into
(`records.py`: `Commit`, `Tag`), which release each commit is in (`releases.py`), which
tagged commits are release bumps (`bumps.py`) and HEAD's line of releases (`lines.py`).

Nothing is imported here, so pure code can import `steward.history.records` without
starting the git I/O module."""
