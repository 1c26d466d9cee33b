"""A ruleset: the rulebook compiled for the engine, with the configuration and directory it reads.

Built once at start-up (spoa/bootstrap.py) and passed to `decide`; immutable afterwards, so
one ruleset serves every thread.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from spoa.config import Config
from spoa.durable_adapter import EngineRuleset, compile_rulebook
from spoa.rulebook import Rulebook, load_rulebook


class ServiceDirectory(Protocol):
    def match(self, locality: str, needs: list[str], limit: int = 5) -> list[dict]: ...


@dataclass(frozen=True)
class Ruleset:
    rulebook: Rulebook
    engine: EngineRuleset
    config: Config
    directory: Any = None  # a ServiceDirectory, or None for no service matching

    @property
    def version(self) -> str:
        return self.rulebook.version


def load_ruleset(rules_dir: str | Path, config: Config, directory: ServiceDirectory | None = None,
                 directory_fingerprint: bytes = b"") -> Ruleset:
    """Load, check and compile the rule files. The version covers the directory too, so a
    replayed decision lists the same services."""
    rulebook = load_rulebook(rules_dir, config, extra_fingerprint=directory_fingerprint)
    return Ruleset(rulebook=rulebook, engine=compile_rulebook(rulebook), config=config, directory=directory)
