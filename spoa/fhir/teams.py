"""Which team receives an accepted referral (pure): config.yml `referrals.teams`, by route,
pathway and locality, and voluntary-sector organisations from the service directory.

A team entry may name a `route`, a `pathway` and `localities`; each one it names must match.
The most specific match wins (pathway, then locality, then route), then the first listed.
A voluntary-sector referral goes to the first service the decision matched in the directory;
such an organisation has an endpoint only if `referrals.directory_endpoints` gives one, else
the duty worker sends the email-ready summary (spoa.fhir.summary).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from .referral import Organisation


class NoTeam(LookupError):
    """No configured team takes this referral (the config needs a catch-all entry)."""


@dataclass(frozen=True)
class Team:
    """A receiving team as configured; `auth_env` names the environment variable holding the
    Authorization header's value (the secret never sits in config.yml or the database)."""
    organisation: Organisation
    route: str | None = None
    pathway: str | None = None
    localities: tuple[str, ...] | None = None
    auth_env: str | None = None

    def matches(self, route: str | None, pathway: str | None, locality: str | None) -> bool:
        return ((self.route is None or self.route == route) and (self.pathway is None or self.pathway == pathway)
                and (self.localities is None or locality in self.localities))

    @property
    def specificity(self) -> int:
        return 4 * (self.pathway is not None) + 2 * (self.localities is not None) + (self.route is not None)


@dataclass(frozen=True)
class Teams:
    sender: Organisation
    teams: tuple[Team, ...]
    directory_endpoints: Mapping[str, Mapping[str, str]]
    system_base: str

    def for_referral(self, route: str | None, pathway: str | None, locality: str | None,
                     services: Iterable[Mapping[str, Any]] = (), directory: Any = None) -> Team:
        """The team for this referral; NoTeam if none is configured."""
        if route == "voluntary_sector":
            for matched in services:
                team = self._directory_team(matched, directory)
                if team is not None:
                    return team
        candidates = [team for team in self.teams if team.matches(route, pathway, locality)]
        if not candidates:
            raise NoTeam(f"no receiving team for route {route!r}, pathway {pathway!r}, locality {locality!r}")
        return max(candidates, key=lambda team: team.specificity)  # max keeps the first of equals

    def _directory_team(self, matched: Mapping[str, Any], directory: Any) -> Team | None:
        service = next((s for s in getattr(directory, "services", ()) if s.id == matched.get("id")), None)
        if service is None:
            return None
        delivery = self.directory_endpoints.get(service.id) or {}
        return Team(Organisation(id=f"directory:{service.id}", name=service.organization or service.name,
                                 endpoint=delivery.get("endpoint"), email=service.email or None,
                                 service_name=service.name),
                    route="voluntary_sector", auth_env=delivery.get("auth_env"))


def _organisation(raw: Mapping[str, Any], where: str) -> Organisation:
    if not raw.get("id") or not raw.get("name"):
        raise ValueError(f"{where}: needs an id and a name")
    return Organisation(id=str(raw["id"]), name=str(raw["name"]), ods=raw.get("ods"), endpoint=raw.get("endpoint"),
                        email=raw.get("email"), service_name=raw.get("service"))


def load_teams(data: Mapping[str, Any]) -> Teams:
    """The `referrals` part of config.yml; ValueError naming the entry if one is unusable."""
    referrals = data.get("referrals") or {}
    sender = _organisation({"id": "sender", **(referrals.get("sender") or {})}, "referrals.sender")
    teams = []
    for index, raw in enumerate(referrals.get("teams") or []):
        where = f"referrals.teams[{index}]"
        localities = raw.get("localities")
        teams.append(Team(_organisation(raw, where), route=raw.get("route"), pathway=raw.get("pathway"),
                          localities=tuple(localities) if localities is not None else None,
                          auth_env=raw.get("auth_env")))
    return Teams(sender=sender, teams=tuple(teams), directory_endpoints=dict(referrals.get("directory_endpoints") or {}),
                 system_base=str(referrals.get("system_base") or "https://spoa.example.nhs.uk"))
