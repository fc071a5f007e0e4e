"""`InfrastructureProvider`: the abstract interface Powertools' stacks implement."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any


class InfrastructureProvider(ABC):
    """Kept so `isinstance(stack, InfrastructureProvider)` holds, as it does in Powertools."""

    @abstractmethod
    def create_lambda_functions(self, function_props: dict[str, Any] | None = None) -> Any: ...

    @abstractmethod
    def deploy(self) -> dict[str, str]: ...

    @abstractmethod
    def delete(self) -> None: ...

    @abstractmethod
    def create_resources(self) -> None: ...
