"""repo-steward: a maintainers' playbook as software."""

# Kept equal to pyproject's [project].version by a test; a constant, because reading the
# installed metadata costs every command (the warm changelog path included) 25 ms.
__version__ = "0.1.0"

__all__ = ["__version__"]
