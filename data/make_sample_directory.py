"""Write data/service_directory.sample.json: a SAMPLE directory of fictional services.

Every organisation and service here is invented ("(sample)" is in every name, and addresses
use example.org). It exists so the voluntary-sector route can be shown and tested in every
configured locality: each locality gets befriending, prevention and every kind of practical
help. A real deployment loads its council's Open Referral UK directory instead.

Run: .venv/bin/python data/make_sample_directory.py   (reads config.yml for the localities)
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
VOCABULARY = "spoa-needs"
TERM_NAMES = {
    "befriending": "Befriending and social contact",
    "prevention": "Staying well and independent (prevention)",
    "carer_support": "Support for unpaid carers",
    "shopping": "Shopping help",
    "cleaning": "Cleaning and housework",
    "gardening": "Gardening",
    "home_repairs": "Home repairs and handyperson",
    "transport": "Community transport",
    "meals": "Meals and lunch clubs",
    "benefits_advice": "Benefits and money advice",
    "digital_help": "Digital help",
    "home_from_hospital": "Home from hospital",
    "bereavement_support": "Bereavement support",
}

# (service name pattern, organisation pattern, needs, what it does). {area} is the locality's name.
PER_LOCALITY = [
    ("{area} Befriending Circle (sample)", "{area} Community Network (sample)", ["befriending"],
     "Weekly visits or phone calls from a volunteer, and a friendly group to join."),
    ("{area} Staying Well Programme (sample)", "{area} Community Network (sample)", ["prevention"],
     "Strength and balance classes, falls prevention and help to stay independent at home."),
    ("{area} Good Neighbours (sample)", "{area} Good Neighbours Trust (sample)",
     ["shopping", "gardening", "transport"],
     "Volunteers who help with shopping, a bit of gardening and lifts to appointments."),
    ("{area} Handyperson and Home Help (sample)", "{area} Home Support Co-operative (sample)",
     ["home_repairs", "cleaning"], "Small repairs, grab rails, and help with cleaning and housework."),
    ("{area} Lunch Club and Meals (sample)", "{area} Community Kitchen (sample)", ["meals", "befriending"],
     "Hot meals delivered at home and a weekly lunch club."),
    ("{area} Money and Benefits Advice (sample)", "{area} Advice Partnership (sample)", ["benefits_advice"],
     "Free help to check and claim benefits, and with bills and debt."),
    ("{area} Home from Hospital (sample)", "{area} Community Network (sample)",
     ["home_from_hospital", "shopping"], "Help to settle back home in the first weeks after a hospital stay."),
    ("{area} Bereavement Friends (sample)", "{area} Bereavement Friends (sample)",
     ["bereavement_support", "befriending"], "Listening support and groups for people who have lost someone."),
    ("{area} Carers' Hub (sample)", "{area} Carers' Hub (sample)", ["carer_support"],
     "Information, breaks and support for unpaid carers."),
]

# Services that cover several localities.
MULTI_LOCALITY = [
    ("Kent Digital Buddies (sample)", "Kent Digital Buddies (sample)", ["digital_help"],
     "Volunteers who help with phones, tablets, video calls and getting online.", None),
    ("East Kent Community Transport (sample)", "East Kent Community Transport (sample)", ["transport"],
     "Door-to-door minibus and volunteer-car trips to appointments and shops.",
     ["ashford", "canterbury_coastal", "thanet", "south_kent_coast"]),
    ("West Kent Garden Volunteers (sample)", "West Kent Garden Volunteers (sample)", ["gardening"],
     "Volunteers who keep gardens safe and tidy for older and disabled people.",
     ["west_kent", "dartford_gravesham_swanley"]),
]


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower().replace("(sample)", "")).strip("-")


def service(name: str, organization: str, needs: list[str], description: str, areas: list[str]) -> dict:
    service_id = slug(name)
    return {
        "id": service_id,
        "name": name,
        "description": description,
        "status": "active",
        "url": f"https://example.org/sample/{service_id}",
        "email": f"{service_id}@example.org",
        "organization": {"id": slug(organization), "name": organization,
                         "description": "A fictional organisation in the sample directory.",
                         "url": f"https://example.org/sample/org/{slug(organization)}"},
        "service_taxonomys": [{"id": f"{service_id}--{need}",
                               "taxonomy": {"id": need, "name": TERM_NAMES[need], "vocabulary": VOCABULARY}}
                              for need in needs],
        "service_areas": [{"id": f"{service_id}--{slug(area)}", "service_area": area} for area in areas],
    }


def build(config: dict) -> dict:
    localities = config["localities"]
    services = []
    for entry in localities.values():
        area = entry["name"]
        for name, organization, needs, description in PER_LOCALITY:
            services.append(service(name.format(area=area), organization.format(area=area), needs,
                                    description, [area]))
    for name, organization, needs, description, ids in MULTI_LOCALITY:
        ids = ids or list(localities)
        services.append(service(name, organization, needs, description, [localities[i]["name"] for i in ids]))
    services.sort(key=lambda s: s["id"])
    return {
        "note": ("SAMPLE DATA. Every organisation and service in this file is fictional, made up to "
                 "demonstrate and test the voluntary-sector route; none of them exists. Replace this file "
                 "with your council's Open Referral UK directory (see spoa.directory.import_oruk)."),
        "sample": True,
        "format": "Open Referral UK / HSDS services with nested organization, service_taxonomys and service_areas",
        "generated_by": "data/make_sample_directory.py",
        "services": services,
    }


def main(argv: list[str]) -> int:
    config_path = Path(argv[1]) if len(argv) > 1 else HERE.parent / "config.yml"
    out = Path(argv[2]) if len(argv) > 2 else HERE / "service_directory.sample.json"
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    out.write_text(json.dumps(build(config), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
