"""The library under test, shipped to the functions as a Lambda layer."""


def greet(name: str) -> str:
    return f"hello, {name}"
