"""The service's settings (`config.yml`), loaded once at start-up and passed in.

Configuration is data; secrets come from the environment, never from this file.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import yaml

REQUIRED_KEYS = ("localities", "response_targets", "ucr_hours", "service_directory", "advice", "timezone")


class ConfigError(ValueError):
    """config.yml is missing something the service needs."""


@dataclass(frozen=True)
class Config:
    data: Mapping[str, Any]
    path: Path | None = None
    # The gazetteer named by `gazetteer:` (spoa/gazetteer.py), loaded with the config.
    gazetteer: Any = None

    @property
    def localities(self) -> dict[str, dict]:
        return dict(self.data["localities"])

    @property
    def timezone(self) -> str:
        return self.data["timezone"]

    def locality_name(self, locality_id: str | None) -> str | None:
        entry = self.data["localities"].get(locality_id) if locality_id else None
        return entry["name"] if entry else locality_id

    def resolve_place(self, text: str | None):
        """What a place answer means (a spoa.gazetteer.Resolution): inside a locality, outside
        the area, ambiguous or unresolved. A configured locality id stands for itself."""
        from spoa.gazetteer import INSIDE, UNKNOWN, Resolution
        if isinstance(text, str) and text.strip() in self.data["localities"]:
            return Resolution(INSIDE, locality=text.strip(), place=self.locality_name(text.strip()), how="id")
        if self.gazetteer is None:
            locality = self.locality_for_place(text)
            return Resolution(INSIDE, locality=locality, place=text, how="config") if locality else UNKNOWN
        return self.gazetteer.resolve(text)

    def locality_for_place(self, text: str | None) -> str | None:
        """The configured locality id a place name or locality id refers to, or None, by
        config.yml's own place names only (the service directory's areas). A person's answer
        goes through `resolve_place` (the gazetteer) instead.

        Whole-word, case-insensitive; the longest place name wins, so "Minster-on-Sea"
        is not read as some other "Minster".
        """
        if not text:
            return None
        lowered = text.strip().lower()
        if lowered.replace(" ", "_") in self.data["localities"]:
            return lowered.replace(" ", "_")
        best: tuple[int, str] | None = None
        for locality_id, entry in self.data["localities"].items():
            for place in [entry["name"], *entry.get("places", [])]:
                if re.search(r"(?<![\w-])" + re.escape(place.lower()) + r"(?![\w-])", lowered):
                    if best is None or len(place) > best[0]:
                        best = (len(place), locality_id)
        return best[1] if best else None

    def response_target(self, key: str) -> str | None:
        return self.data["response_targets"][key]

    def advice(self, key: str) -> str:
        return " ".join(str(self.data["advice"][key]).split())

    def resolve(self, relative: str | Path) -> Path:
        """A path named in the config, relative to the config file's folder."""
        base = self.path.parent if self.path else Path.cwd()
        return (base / relative).resolve()


def load_config(path: str | Path = "config.yml") -> Config:
    path = Path(path)
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    return config_from_mapping(data, path)


def config_from_mapping(data: Mapping[str, Any], path: Path | None = None) -> Config:
    if not isinstance(data, Mapping):
        raise ConfigError(f"{path or 'config'}: expected a mapping at the top level")
    missing = [key for key in REQUIRED_KEYS if key not in data]
    if missing:
        raise ConfigError(f"{path or 'config'}: missing {', '.join(missing)}")
    for locality_id, entry in data["localities"].items():
        if not re.fullmatch(r"[a-z][a-z0-9_]*", locality_id) or "name" not in entry:
            raise ConfigError(f"{path or 'config'}: locality {locality_id!r} needs a snake_case id and a name")
    gazetteer = None
    if data.get("gazetteer"):
        from spoa.gazetteer import load_gazetteer
        base = path.parent if path else Path.cwd()
        gazetteer = load_gazetteer((base / data["gazetteer"]).resolve(), data["localities"])
    return Config(data=data, path=path, gazetteer=gazetteer)
