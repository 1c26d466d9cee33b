"""The `spoa` command: triage contacts, inspect the rules and the questions.

The web app's commands (users, audit, replay, demo, serve, db) are mounted from web/cli.py
when the web package is installed.
"""
from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path

import click

from spoa.bootstrap import ROOT, build_triage
from spoa.contact import ContactError
from spoa.rulebook import RulebookError, load_rulebook
from spoa.config import load_config


def _read_contacts(text: str) -> list:
    """One contact, a JSON array of contacts, or JSON lines (one contact per line)."""
    stripped = text.strip()
    if not stripped:
        raise ContactError([{"field": None, "message": "no input: expected a contact as JSON"}])
    try:
        data = json.loads(stripped)
        return data if isinstance(data, list) else [data]
    except json.JSONDecodeError as whole_error:
        lines = [line for line in stripped.splitlines() if line.strip()]
        if len(lines) < 2:
            raise ContactError([{"field": None, "message": f"malformed JSON: {whole_error.msg} at line {whole_error.lineno} column {whole_error.colno}"}]) from None
        contacts = []
        for number, line in enumerate(lines, 1):
            try:
                contacts.append(json.loads(line))
            except json.JSONDecodeError as error:
                raise ContactError([{"field": None, "message": f"malformed JSON on line {number}: {error.msg} at column {error.colno}"}]) from None
        return contacts


def _decision_time(text: str | None) -> datetime:
    if not text:
        return datetime.now(timezone.utc)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"--now must be an ISO 8601 date-time with a time zone, e.g. 2026-11-26T21:00:00Z; got {text!r}") from None
    if moment.tzinfo is None:
        raise ValueError(f"--now needs a time zone (e.g. 'Z' or '+00:00'): {text!r}")
    return moment


@click.group()
@click.option("--config", "config_path", default=str(ROOT / "config.yml"), show_default=True, help="The service's config.yml.")
@click.option("--rules", "rules_dir", default=str(ROOT / "rules"), show_default=True, help="The rule files' folder.")
@click.pass_context
def main(ctx: click.Context, config_path: str, rules_dir: str) -> None:
    """Single point of access triage assistant."""
    ctx.obj = {"config_path": config_path, "rules_dir": rules_dir}


@main.command()
@click.argument("source", default="-")
@click.option("--now", help="The decision time (ISO 8601) for contacts without received_at; default: the clock.")
@click.pass_context
def triage(ctx: click.Context, source: str, now: str | None) -> None:
    """Decide contacts from FILE (or - for standard input) and print the decisions as JSON.

    Exit status 2 with the validation message when the input is not a valid contact.
    """
    triage_service = build_triage(ctx.obj["config_path"], ctx.obj["rules_dir"], flows_dir=None)
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        click.echo(json.dumps({"error": "unreadable_input", "message": f"can't read {source}: {error}"}), err=True)
        sys.exit(2)
    try:
        moment = _decision_time(now)
    except ValueError as error:
        click.echo(json.dumps({"error": "invalid_option", "field": "--now", "message": str(error)}), err=True)
        sys.exit(2)
    try:
        raw = _read_contacts(text)
        contacts = []
        for index, item in enumerate(raw):
            try:
                contacts.append(triage_service.parse_contact(item))
            except ContactError as error:
                prefix = f"contact {index + 1}: " if len(raw) > 1 else ""
                raise ContactError([{**e, "message": prefix + e["message"]} for e in error.errors]) from None
    except ContactError as error:
        click.echo(json.dumps({"error": "invalid_contact", "message": str(error), "errors": error.errors}), err=True)
        sys.exit(2)
    decisions = [triage_service.decide(contact, moment) for contact in contacts]
    if len(raw) == 1 and not text.strip().startswith("["):
        click.echo(json.dumps(decisions[0], indent=2))
    else:
        for decision in decisions:
            click.echo(json.dumps(decision))


@main.group(invoke_without_command=True)
@click.pass_context
def rules(ctx: click.Context) -> None:
    """List the rules: id, title and source."""
    if ctx.invoked_subcommand:
        return
    rulebook = load_rulebook(ctx.obj["rules_dir"], load_config(ctx.obj["config_path"]))
    for rule in rulebook.rules:
        click.echo(f"{rule.id:<12} v{rule.version}  {rule.title}\n{'':<14}{rule.source}")


@rules.command("check")
@click.pass_context
def rules_check(ctx: click.Context) -> None:
    """Validate the rule files; exit 1 with the problem if any."""
    try:
        rulebook = load_rulebook(ctx.obj["rules_dir"], load_config(ctx.obj["config_path"]))
    except RulebookError as error:
        click.echo(f"rules: {error}", err=True)
        sys.exit(1)
    click.echo(f"{len(rulebook.rules)} rules in {rulebook.strata} strata, ruleset {rulebook.version}: ok")


@main.command()
@click.option("--audience", type=click.Choice(["resident", "call_handler"]), default="call_handler", show_default=True)
@click.pass_context
def questions(ctx: click.Context, audience: str) -> None:
    """Print the questions in the order the engine asks for their facts."""
    from spoa.flows import load_flows
    from spoa.vocabulary import facts

    flows = load_flows(ROOT / "flows")
    printed = set()
    for fact_id in facts():
        spec = flows.by_fact[fact_id]
        if spec.id in printed:
            continue
        printed.add(spec.id)
        text = spec.call_handler if audience == "call_handler" else spec.resident
        options = ", ".join(option.label for option in spec.options)
        click.echo(f"[{spec.id}] ({spec.kind}: {', '.join(spec.facts)})\n    {' '.join(text.split())}"
                   + (f"\n    options: {options}" if options else ""))


@main.group()
def safety() -> None:
    """The clinical safety case (DCB0129): hazard log checks and the safety case report."""


HAZARD_LOG = ROOT / "docs" / "safety" / "hazards.yml"


@safety.command("check")
@click.option("--log", "log_path", default=str(HAZARD_LOG), show_default=True, type=click.Path(exists=True))
def safety_check(log_path: str) -> None:
    """Check the hazard log and its ties to the tests; exit 1 listing every gap."""
    from spoa.safety import coverage, hazard_log

    log = hazard_log.load(log_path)
    found = hazard_log.problems(log) + [str(gap) for gap in coverage.gaps(log, coverage.collect(ROOT / "tests", ROOT))]
    for problem in found:
        click.echo(problem)
    if found:
        sys.exit(1)
    click.echo(f"hazard log consistent: {len(log.hazards)} hazards, every closed hazard's controls verified by tests")


@safety.command("report")
@click.option("--log", "log_path", default=str(HAZARD_LOG), show_default=True, type=click.Path(exists=True))
@click.option("--junit", "junit_path", default=str(ROOT / "reports" / "junit.xml"), show_default=True,
              type=click.Path(exists=True), help="The JUnit XML of the test run (pytest --junitxml).")
@click.option("--out", "out_dir", default=str(ROOT / "reports" / "safety"), show_default=True,
              help="Folder for safety-case.md and safety-case.html.")
def safety_report(log_path: str, junit_path: str, out_dir: str) -> None:
    """Write the safety case report (Markdown and HTML) from the hazard log and a test run."""
    from spoa.safety import hazard_log, report

    log = hazard_log.load(log_path)
    results = report.read_junit(junit_path)
    markdown, html = report.render(log, results, junit=junit_path, made=datetime.now(timezone.utc))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "safety-case.md").write_text(markdown, encoding="utf-8")
    (out / "safety-case.html").write_text(html, encoding="utf-8")
    rows = report.summarise(log, results)
    failing = sum(1 for row in rows if row.failing)
    click.echo(f"wrote {out / 'safety-case.md'} and {out / 'safety-case.html'}: {len(rows)} hazards, "
               f"{failing} with tests not passing")


@main.group()
def gazetteer() -> None:
    """The gazetteer of the area (data/places/): resolve a place, import the ONS files."""


@gazetteer.command("resolve")
@click.argument("text")
@click.pass_context
def gazetteer_resolve(ctx: click.Context, text: str) -> None:
    """What the gazetteer makes of TEXT (a place, a postcode, an answer): JSON."""
    config = load_config(ctx.obj["config_path"])
    if config.gazetteer is None:
        raise click.ClickException("config.yml names no gazetteer")
    result = config.resolve_place(text)
    click.echo(json.dumps({"status": result.status, "locality": result.locality, "place": result.place,
                           "council": result.council, "fact_value": result.fact_value, "how": result.how,
                           "candidates": [{"place": c.name, "locality": c.locality, "council": c.council}
                                          for c in result.candidates]}, indent=2))


@gazetteer.command("import")
@click.option("--ipn", "ipn_path", type=click.Path(exists=True, dir_okay=False), required=True,
              help="The ONS Index of Place Names (CSV).")
@click.option("--onspd", "onspd_path", type=click.Path(exists=True, dir_okay=False), required=True,
              help="The ONS Postcode Directory (CSV; the whole file or the area's part).")
@click.option("--areas", "areas_path", type=click.Path(exists=True, dir_okay=False),
              default=str(ROOT / "data" / "places" / "kent_areas.yml"), show_default=True,
              help="Which districts make each locality, and which neighbours are outside.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True,
              help="Folder to write places.csv, postcode_districts.csv and gazetteer.yml to.")
def gazetteer_import(ipn_path: str, onspd_path: str, areas_path: str, out_dir: str) -> None:
    """Build a gazetteer from the ONS files (name it in config.yml's `gazetteer:`)."""
    import yaml

    from spoa import gazetteer_import as onsimport
    areas = onsimport.load_areas(areas_path)
    try:
        ipn = onsimport.read_csv(Path(ipn_path))
        places = onsimport.places_from_ipn(ipn, areas, ipn_path)
        areas = onsimport.with_parish_codes(ipn, areas, ipn_path)
        postcodes = onsimport.postcode_districts_from_onspd(onsimport.read_csv(Path(onspd_path)), areas, onspd_path)
    except onsimport.GazetteerImportError as error:
        raise click.ClickException(str(error)) from None
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    onsimport.write_csv(out / "places.csv", onsimport.PLACES_COLUMNS, places)
    onsimport.write_csv(out / "postcode_districts.csv", onsimport.POSTCODE_COLUMNS, postcodes)
    meta = yaml.safe_load(Path(areas_path).read_text(encoding="utf-8"))
    manifest = {"area_name": meta.get("area_name", "the area"), "area": meta.get("area", ""),
                "inside_council": areas.inside_council, "places": "places.csv",
                "postcode_districts": "postcode_districts.csv",
                "sources": [{"name": "ONS Index of Place Names in Great Britain", "file": Path(ipn_path).name,
                             "licence": "Open Government Licence v3.0"},
                            {"name": "ONS Postcode Directory", "file": Path(onspd_path).name,
                             "licence": "Open Government Licence v3.0"}]}
    (out / "gazetteer.yml").write_text(yaml.safe_dump(manifest, sort_keys=False), encoding="utf-8")
    click.echo(f"wrote {out}: {len(places)} places, {len({row['postcode'] for row in postcodes})} postcode "
               f"districts and sectors")


def _mount_web_commands() -> None:
    try:
        from web.cli import register
    except ImportError:
        return
    register(main)


_mount_web_commands()
