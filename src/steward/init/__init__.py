"""`steward init`: turn a repository into a steward-run one (config, workflows, templates)."""

from steward.init.writer import (
    LAYOUT,
    File,
    InitOptions,
    Written,
    detect_branch,
    plan_files,
    write_files,
)

__all__ = ["LAYOUT", "File", "InitOptions", "Written", "detect_branch", "plan_files", "write_files"]
