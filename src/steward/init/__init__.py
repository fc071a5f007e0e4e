"""`steward init`: turn a repository into a steward-run one (config, workflows, templates)."""

from steward.init.writer import (
    ACTIONS,
    ENVIRONMENTS,
    LAYOUT,
    ZIZMOR_IGNORES,
    File,
    InitOptions,
    Written,
    aws_region,
    detect_branch,
    plan_files,
    write_files,
)

__all__ = [
    "ACTIONS",
    "ENVIRONMENTS",
    "LAYOUT",
    "ZIZMOR_IGNORES",
    "File",
    "InitOptions",
    "Written",
    "aws_region",
    "detect_branch",
    "plan_files",
    "write_files",
]
