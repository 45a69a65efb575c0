"""Demo children: forty fictional children across the three demo local authorities, on the
rolls of the demo schools, with status flags, passports for fifteen of them, and health and
social care involvements.

Every name is invented. Identifiers are valid by their check characters and belong to
nobody: UPNs are built from the demo schools' LAESTABs, NHS numbers come from the 999
range NHS England keeps for testing, phone numbers from Ofcom's range for drama.
Dates are relative to today, so the children keep their year groups whenever the demo is
loaded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from aphub.children.involvements import grantable_categories
from aphub.children.passport_schemas import SECTION_MODELS
from aphub.children.passports import section_subject_id
from aphub.db import WriteUnit
from aphub.demo.census import census_details
from aphub.events.log import Actor, record
from aphub.identifiers import IdentifierError, validate_nhs_number, validate_uln, validate_upn
from aphub.models import Child, Enrolment, Involvement, PassportSection, PassportSectionVersion

if TYPE_CHECKING:
    from aphub.demo import DemoArea

DEMO = Actor.system("demo")

# Enrolments: `school[/status][@started N days ago][-left N days ago]`, comma-separated;
# status C (single) unless M/S (dual). SEN: N none, K SEN support, E EHC plan (census codes).
# Flags: F free school meals, M medical needs, C child in need, P protection plan,
# Y young carer, J youth justice. Looked after by: the responsible LA, if looked after.
CHILDREN = """
#first    last      known  year born  sex home    enrolments              sen need flags cared_by
Amara     Okafor    -      9    03-14 F   city    aldgate                 K   SEMH F     -
Callum    Reid      Cal    10   11-02 M   city    aldgate-150             K   SEMH FJ    -
Leila     Haddad    -      8    06-21 F   city    barbican                N   -    M     -
Jayden    Clarke    Jay    11   01-30 M   city    barbican/M,aldgate/S@60 K   SEMH FC    -
Sophie    Turner    -      7    09-12 F   city    barbican                E   ASD  -     -
Mohammed  Rahman    Mo     10   04-05 M   city    aldgate                 K   SLCN FY    -
Ellie-May Brooks    Ellie  9    12-19 F   city    aldgate                 N   -    CP    -
Tyler     Watson    -      11   07-08 M   city    barbican-90,kentish@89  K   SEMH FJ    -
Grace     Adeyemi   -      6    02-27 F   city    primrose                E   SLCN -     -
Noah      Whitfield -      8    10-03 M   city    aldgate                 E   SEMH F     camden
Isla      Campbell  -      10   05-16 F   city    barbican                N   -    M     -
Kai       Thompson  -      9    08-09 M   camden  kentish                 E   SEMH F     camden
Zara      Ahmed     -      10   01-11 F   camden  kentish                 K   SEMH M     -
Ruby      O'Connor  -      8    03-03 F   camden  kentish                 N   -    F     -
Ethan     Price     -      11   10-28 M   camden  kentish-200             K   SEMH FJ    -
Freya     Lindqvist -      5    06-06 F   camden  primrose                K   SPLD -     -
Daniel    Mensah    Danny  7    12-01 M   camden  kentish                 E   ASD  M     -
Hana      Sato      -      9    04-24 F   camden  kentish/M,barbican/S@45 K   SEMH -     -
Oscar     Bennett   -      4    09-30 M   camden  primrose                E   SEMH FC    -
Maya      Patel     -      10   02-14 F   camden  kentish                 N   -    M     -
Reggie    Hughes    -      11   08-17 M   camden  kentish                 K   MLD  FY    -
Aaliyah   Francis   -      8    11-11 F   camden  kentish                 K   SEMH FC    -
Finn      Gallagher -      6    07-22 M   camden  primrose                K   SLCN F     -
Poppy     Marsh     -      10   05-05 F   camden  kentish-60,aldgate@59   N   -    F     -
Yusuf     Ali       -      9    01-19 M   camden  kentish                 E   SEMH F     city
Chloe     Evans     -      3    03-29 F   camden  primrose                N   -    M     -
Theo      Nowak     -      11   06-13 M   camden  kentish                 K   SEMH J     -
Jack      Pearce    -      10   09-09 M   bristol redland                 K   SEMH FJ    -
Amelia    Hart      Millie 9    12-12 F   bristol redland                 E   ASD  M     -
Riley     Dawson    -      11   04-01 M   bristol redland-120             K   SEMH F     -
Niamh     Kelly     -      8    02-02 F   bristol redland                 N   -    FY    -
Oliver    Grant     Olly   7    10-10 M   bristol redland                 E   SLCN -     -
Skye      Morgan    -      10   07-04 F   bristol redland                 K   SEMH FCP   -
Harvey    Cole      -      9    05-25 M   bristol redland                 N   -    M     -
Lily      Fisher    -      11   08-28 F   bristol redland                 E   SEMH F     bristol
Ben       Osei      -      8    11-20 M   bristol redland                 K   MLD  F     -
Evie      Walsh     -      10   01-07 F   bristol redland                 N   -    M     -
Samuel    Ward      Sam    9    06-30 M   bristol redland                 K   SEMH FJ    -
Ava       Robinson  -      7    04-15 F   bristol redland                 E   PD   M     -
Logan     Fry       -      11   03-09 M   bristol redland                 K   SEMH F     -
"""

# first name, organisation, basis, started N days ago, categories (None: all it may have)
INVOLVEMENTS: list[tuple[str, str, str, int, list[str] | None]] = [
    ("Zara", "health_camhs", "consent", 240, None),
    ("Daniel", "health_camhs", "consent", 400, ["identity", "needs", "health"]),
    ("Kai", "health_camhs", "consent", 120, None),
    ("Maya", "health_icb", "consent", 300, ["identity", "health", "needs"]),
    ("Kai", "social_vsh", "looked_after", 700, None),
    ("Noah", "social_vsh", "looked_after", 500, None),
    ("Ellie-May", "social_city", "child_protection", 90, None),
    ("Yusuf", "social_city", "looked_after", 620, None),
]


# Passports: `First section.field: text`, continued on indented lines; a field holding a
# list gives one `- item` line each. Structured fields (dates, codes) are in `records`.
PASSPORT_TEXT = """
Amara about_me.summary: Amara is creative and loyal to her friends. She loves drawing.
Amara about_me.what_works_for_me: A calm hello at the door and knowing the plan for the day.
Amara about_me.what_does_not_work: Being told off in front of the class.
Amara about_me.interests: Drawing manga, netball, looking after her little brother.
Amara child_voice.views: I want teachers to give me a minute before I answer.
Amara child_voice.aspirations: I want to be an illustrator.
Callum about_me.summary: Cal is funny and practical; he does his best work with his hands.
Callum about_me.what_works_for_me: Short tasks, movement breaks, one trusted adult.
Callum about_me.what_does_not_work: Long periods of writing; raised voices.
Callum about_me.interests: Fixing bikes, boxing, grime music.
Callum needs_and_strategies.summary_of_needs: SEMH needs; he struggles to regulate when he
    feels judged, and settles quickly with an adult he trusts.
Callum needs_and_strategies.strategies:
  - Offer a choice of two tasks
  - Agree a time-out card he can use without having to explain
  - Praise privately, not in front of the group
Callum needs_and_strategies.triggers:
  - Being singled out
  - Unplanned changes of staff
Callum risks_and_safeguarding.risk_summary: Known to the youth justice service; his referral
    order ends this term.
Callum risks_and_safeguarding.safety_plan: A key adult checks in at the start of each session;
    the designated safeguarding lead holds the plan.
Leila health.health_summary: Well controlled asthma; otherwise healthy.
Leila health.medical_needs: Blue reliever inhaler in her bag and a spare at reception. Give two
    puffs if wheezy; call 999 if no better after 10 puffs.
Noah about_me.summary: Noah is thoughtful, kind to younger children and loves animals.
Noah about_me.what_works_for_me: A warning before changes; a quiet place to work.
Noah about_me.communication: Needs time to process; check his understanding gently.
Noah family_voice.views: His foster carers say he is settled and proud of his reading.
Noah family_voice.concerns: Contact weekends can unsettle him for a day or two.
Isla health.health_summary: Type 1 diabetes, managed with an insulin pump.
Isla health.medical_needs: Checks her blood glucose before lunch and PE. Hypo kit in her bag:
    give fast-acting sugar if below 4, then a snack.
Kai about_me.summary: Kai is energetic and generous, and a talented footballer.
Kai about_me.what_works_for_me: Clear routines; being given responsibility.
Kai about_me.what_does_not_work: Sitting still for long stretches.
Kai needs_and_strategies.summary_of_needs: SEMH needs linked to early experiences; EHC plan.
Kai needs_and_strategies.strategies:
  - Meet and greet by his key adult
  - Movement breaks every 20 minutes
Kai needs_and_strategies.support_in_place: Weekly session with the school counsellor.
Kai child_voice.what_i_want_adults_to_know: When I go quiet I need space, not questions.
Kai child_voice.aspirations: Play football for a club, or coach it.
Zara about_me.summary: Zara is bright and conscientious, and finds crowds hard.
Zara about_me.what_works_for_me: A phased timetable and a quiet room to start the day.
Zara health.health_summary: Anxiety; seen by CAMHS since last year.
Zara health.medical_needs: May have panic attacks: go with her to a quiet space and breathe
    with her; she will say when she is ready to go on.
Zara child_voice.views: I do want to learn. Big rooms make it hard to think.
Zara child_voice.aspirations: Study biology at sixth form.
Ethan post16_intentions.intentions: Level 2 electrical installation at college.
Ethan post16_intentions.careers_guidance: Careers interview done; college taster day booked.
Ethan post16_intentions.aspirations: Become an electrician like his uncle.
Daniel about_me.summary: Danny is honest and precise, and knows everything about trains.
Daniel about_me.communication: He understands literally: say exactly what you mean.
Daniel needs_and_strategies.summary_of_needs: Autism; sensitive to noise and bright light.
Daniel needs_and_strategies.strategies:
  - Visual timetable on his desk
  - Ear defenders available
  - Now and next cards
Daniel needs_and_strategies.triggers:
  - Unexpected loud noises
  - Changes without warning
Daniel health.health_summary: Autism diagnosis; no other health needs.
Oscar about_me.summary: Oscar is curious and affectionate, and loves Lego.
Oscar about_me.what_works_for_me: Small groups, lots of praise, a job to do.
Oscar family_voice.views: Mum wants Oscar back at Primrose Hill full time when he is ready.
Oscar family_voice.aspirations: That he enjoys school again.
Maya health.health_summary: Epilepsy, well controlled on medication.
Maya health.medical_needs: Seizure plan in the medical room. Time any seizure; call 999 if it
    lasts over 5 minutes. No swimming without 1:1 supervision.
Yusuf about_me.summary: Yusuf is polite, hard-working and a keen chess player.
Yusuf about_me.what_works_for_me: Knowing who will collect him, and when.
Yusuf risks_and_safeguarding.risk_summary: Looked after by the City; a stable placement with
    his aunt and uncle (kinship carers).
Yusuf risks_and_safeguarding.safety_plan: Only named carers may collect him; the list is at
    reception.
Jack needs_and_strategies.summary_of_needs: SEMH; low confidence in reading hides behind humour.
Jack needs_and_strategies.strategies:
  - Pre-teach key words
  - Reading aloud only by choice
Jack risks_and_safeguarding.risk_summary: Youth justice involvement; some concern about older
    peers outside school.
Jack risks_and_safeguarding.exploitation_concerns: Possible criminal exploitation; shared with
    the youth justice service.
Jack risks_and_safeguarding.safety_plan: Travel plan agreed; absence followed up the same morning.
Jack post16_intentions.intentions: Construction apprenticeship.
Riley child_voice.views: I know I messed up. I want to finish my GCSEs.
Riley child_voice.aspirations: Join the army.
Lily about_me.summary: Lily is a gifted singer, determined and kind.
Lily about_me.what_works_for_me: Being listened to; a plan she helped write.
Lily child_voice.what_i_want_adults_to_know: Please don't make me retell my story.
Lily child_voice.aspirations: Performing arts at college.
"""


def records(ago: Callable[[int], str]) -> dict[str, dict[str, Any]]:
    """Structured passport fields by first name; `ago(n)` is the ISO date n days ago."""

    def baselines(english: str, maths: str, days: int) -> dict[str, Any]:
        return {
            "english": {"level": english, "assessed_on": ago(days)},
            "maths": {"level": maths, "assessed_on": ago(days)},
        }

    def excluded(days: int) -> list[dict[str, Any]]:
        return [{"date": ago(days), "reason_code": "PD", "type": "permanent"}]

    def social_worker(name: str, organisation: str, phone: str) -> list[dict[str, Any]]:
        return [
            {"name": name, "role": "Social worker", "organisation": organisation, "phone": phone}
        ]

    return {
        "Callum": {
            "education_history.suspensions": [
                {"start_date": ago(400), "school_days": 3, "reason_code": "VA"},
                {"start_date": ago(260), "school_days": 5, "reason_code": "PD"},
            ],
            "education_history.exclusions": excluded(150),
            "education_history.attainment_baselines": baselines("Entry 3", "GCSE 2", 140),
        },
        "Leila": {"health.medication": [{"name": "Salbutamol inhaler", "schedule": "As needed"}]},
        "Noah": {
            "contacts.parents_carers": [
                {
                    "name": "Mr and Mrs Lowe",
                    "relationship": "foster carers",
                    "parental_responsibility": False,
                    "phone": "01632 960114",
                }
            ],
            "contacts.professionals": social_worker(
                "Priya Shah", "Camden Children's Services", "01632 960215"
            ),
        },
        "Isla": {"health.diagnoses": [{"name": "Type 1 diabetes", "diagnosed_on": ago(2400)}]},
        "Ethan": {
            "education_history.exclusions": excluded(200),
            "education_history.attainment_baselines": baselines("GCSE 3", "GCSE 3", 180),
        },
        "Daniel": {"health.diagnoses": [{"name": "Autism", "diagnosed_on": ago(1500)}]},
        "Oscar": {
            "contacts.parents_carers": [
                {
                    "name": "Laura Bennett",
                    "relationship": "mother",
                    "parental_responsibility": True,
                    "phone": "01632 960301",
                }
            ]
        },
        "Maya": {"health.medication": [{"name": "Lamotrigine", "schedule": "Morning and evening"}]},
        "Riley": {
            "education_history.exclusions": excluded(120),
            "education_history.attainment_baselines": baselines("GCSE 4", "GCSE 3", 100),
        },
        "Lily": {
            "contacts.professionals": social_worker(
                "Tom Ashby", "Bristol Children's Services", "01632 960512"
            )
        },
    }


def passports(ago: Callable[[int], str]) -> dict[str, dict[str, dict[str, Any]]]:
    """Passport sections by first name: PASSPORT_TEXT and the records, section by section."""
    fields: list[tuple[str, str, Any]] = []
    for line in PASSPORT_TEXT.strip().splitlines():
        if line.startswith("  - "):
            fields[-1][2].append(line[4:])
        elif line.startswith("    "):
            name, field_id, text = fields[-1]
            fields[-1] = (name, field_id, f"{text} {line.strip()}")
        else:
            name, _, rest = line.partition(" ")
            field_id, _, text = rest.partition(": ")
            fields.append((name, field_id.rstrip(":"), text or []))
    for name, structured in records(ago).items():
        fields += [(name, field_id, value) for field_id, value in structured.items()]
    by_child: dict[str, dict[str, dict[str, Any]]] = {}
    for name, field_id, value in fields:
        section, _, field_name = field_id.partition(".")
        by_child.setdefault(name, {}).setdefault(section, {})[field_name] = value
    return by_child


SCHOOL_LAESTAB = {
    "aldgate": "2014001",
    "barbican": "2014002",
    "kentish": "2024001",
    "primrose": "2022001",
    "redland": "8014001",
}
NEEDS_SEN = {"N": "none", "K": "sen_support", "E": "ehcp"}


def academic_year_start(today: date) -> int:
    return today.year if today.month >= 9 else today.year - 1


def birth_date(today: date, year_group: int, born: str) -> date:
    """A child of `year_group` this academic year (Reception is 0), born on `born` (MM-DD)."""
    month, day = (int(p) for p in born.split("-"))
    first_year = academic_year_start(today) - year_group - 5  # September to December births
    return date(first_year if month >= 9 else first_year + 1, month, day)


def first_valid(candidates: Iterable[str], validate: Callable[[str], str]) -> str | None:
    """The first candidate the hub's own identifier check accepts: the check character is
    found by trying each, so the demo cannot disagree with the validation it demonstrates."""
    for candidate in candidates:
        try:
            return validate(candidate)
        except IdentifierError:
            continue
    return None


def make_upn(laestab: str, entry_year: int, serial: int) -> str:
    """LA code and establishment, year of allocation, serial; the check letter first."""
    body = f"{laestab}{entry_year % 100:02d}{serial:03d}"
    upn = first_valid((letter + body for letter in "ABCDEFGHJKLMNPQRTUVWXYZ"), validate_upn)
    if upn is None:
        raise ValueError(f"no check letter for UPN {body}")
    return upn


def make_ten_digit(prefix: str, serial: int, validate: Callable[[str], str]) -> str:
    """A ULN or NHS number: some nine digits have no valid check digit, so take the next."""
    while True:
        first9 = f"{prefix}{serial:0{9 - len(prefix)}d}"
        number = first_valid((first9 + d for d in "0123456789"), validate)
        if number is not None:
            return number
        serial += 1


def enrolments_of(spec: str, today: date, year_group: int) -> list[dict[str, Any]]:
    """Roll entries from `school[/status][@start][-end]` tokens (days before today)."""
    entries = []
    for token in spec.split(","):
        rest, _, left = token.partition("-")
        rest, _, started = rest.partition("@")
        school, _, status = rest.partition("/")
        if started:
            start = today - timedelta(days=int(started))
        else:  # joined at the start of the phase: Reception, or Year 7 at secondary
            phase = 0 if school == "primrose" else 7
            start = date(academic_year_start(today) - (year_group - phase), 9, 1)
        end = today - timedelta(days=int(left)) if left else None
        entries.append(
            {
                "school": f"school_{school}",
                "laestab": SCHOOL_LAESTAB[school],
                "status": status or "C",
                "start_date": start,
                "end_date": end,
            }
        )
    return entries


def demo_children(today: date) -> list[dict[str, Any]]:
    """One dict per child row of CHILDREN, with its enrolments."""
    rows = []
    lines = [line for line in CHILDREN.strip().splitlines() if not line.startswith("#")]
    for serial, line in enumerate(lines, start=1):
        first, last, known, year, born, sex, home, spec, sen, need, flags, cared = line.split()
        year_group = int(year)
        enrolments = enrolments_of(spec, today, year_group)
        reception_year = academic_year_start(today) - year_group
        rows.append(
            {
                "legal_first_name": first,
                "legal_last_name": last,
                "preferred_name": None if known == "-" else known,
                "date_of_birth": birth_date(today, year_group, born),
                "sex": {"F": "female", "M": "male"}[sex],
                "year_group": str(year_group),
                "upn": make_upn(enrolments[0]["laestab"], reception_year, serial),
                # learners get a ULN at 14
                "uln": make_ten_digit("4", serial * 37, validate_uln) if year_group >= 10 else None,
                "nhs_number": make_ten_digit("999", serial * 101, validate_nhs_number),
                "home": f"la_{home}",
                "sen_provision": NEEDS_SEN[sen],
                "primary_need": None if need == "-" else need,
                "free_school_meals": "F" in flags,
                "has_medical_needs": "M" in flags,
                "child_in_need": "C" in flags,
                "child_protection_plan": "P" in flags,
                "young_carer": "Y" in flags,
                "youth_justice": "J" in flags,
                "cared_by": None if cared == "-" else f"la_{cared}",
                "enrolments": enrolments,
                **census_details(serial, home),
            }
        )
    return rows


async def load_children(uow: WriteUnit, area: DemoArea) -> None:
    """The demo children of `area` (a DemoArea with its organisations loaded)."""
    session = uow.session
    today = date.today()
    orgs = area.orgs
    children: dict[str, Child] = {}
    for row in demo_children(today):
        values = {k: v for k, v in row.items() if k not in ("home", "cared_by", "enrolments")}
        cared_by = row["cared_by"]
        child = Child(
            **values,
            home_la_id=orgs[row["home"]].id,
            looked_after=cared_by is not None,
            looked_after_la_id=orgs[cared_by].id if cared_by else None,
        )
        session.add(child)
        await session.flush()
        children[row["legal_first_name"]] = child
        for entry in row["enrolments"]:
            session.add(
                Enrolment(
                    child_id=child.id,
                    school_id=orgs[entry["school"]].id,
                    status=entry["status"],
                    start_date=entry["start_date"],
                    end_date=entry["end_date"],
                )
            )
        record(
            uow,
            type="child.created",
            subject_type="child",
            subject_id=child.id,
            subject_version=1,
            child_id=child.id,
            actor=DEMO,
            data={"home_la_id": str(child.home_la_id), "enrolments": len(row["enrolments"])},
        )

    def ago(days: int) -> str:
        return (today - timedelta(days=days)).isoformat()

    for name, sections in passports(ago).items():
        child = children[name]
        for section, raw in sections.items():
            # the demo is trusted, but its passports must still be ones the API would accept
            content = (
                SECTION_MODELS[section]
                .model_validate(raw)
                .model_dump(mode="json", exclude_none=True)
            )
            session.add(
                PassportSection(
                    child_id=child.id,
                    section=section,
                    version=1,
                    content=content,
                    updated_by_client=DEMO.client_id,
                )
            )
            session.add(
                PassportSectionVersion(
                    child_id=child.id,
                    section=section,
                    version=1,
                    content=content,
                    changed_fields=sorted(content),
                    changed_by_client=DEMO.client_id,
                )
            )
            record(
                uow,
                type="passport.section_updated",
                subject_type="passport_section",
                subject_id=section_subject_id(child.id, section),
                subject_version=1,
                child_id=child.id,
                actor=DEMO,
                data={"section": section, "version": 1, "fields": sorted(content)},
            )

    for name, org_key, basis, started, categories in INVOLVEMENTS:
        organisation = orgs[org_key]
        granted = sorted(categories or grantable_categories(organisation.type))
        involvement = Involvement(
            child_id=children[name].id,
            organisation_id=organisation.id,
            basis=basis,
            consent_reference=f"DEMO-{name.upper()}-{started}" if basis == "consent" else None,
            start_date=today - timedelta(days=started),
            categories=granted,
            version=1,
        )
        session.add(involvement)
        await session.flush()
        record(
            uow,
            type="involvement.recorded",
            subject_type="involvement",
            subject_id=involvement.id,
            subject_version=1,
            child_id=involvement.child_id,
            actor=DEMO,
            data={
                "organisation_id": str(organisation.id),
                "organisation_type": organisation.type,
                "basis": basis,
                "start_date": involvement.start_date.isoformat(),
                "end_date": None,
                "categories": granted,
            },
        )
