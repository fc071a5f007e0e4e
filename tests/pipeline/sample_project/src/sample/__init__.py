"""Sample package released by the pipeline tests."""

from importlib.metadata import version

__version__ = version("sample")


def greet(name: str) -> str:
    return f"hello, {name}"
