"""The people registry: spellings across scripts resolve to one person, others to nobody."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.model import Speaker
from services.people import all_people, find_mentions, get_person, resolve_speaker

TSIKHANOUSKAYA = "sviatlana-tsikhanouskaya"
LATUSHKA = "pavel-latushka"
KAVALEUSKI = "valery-kavaleuski"
AZARAU = "aliaksandr-azarau"
SAKHASHCHYK = "valery-sakhashchyk"
HARBUNOVA = "volha-harbunova"
KOUSHYK = "alina-koushyk"

EXPECTED = Path(__file__).parents[1] / "data" / "site" / "expected"

RESOLVES = [
    # as written on the mirror pages
    ("S. Tsikhanouskaya", TSIKHANOUSKAYA),
    ("С. Тихановская", TSIKHANOUSKAYA),
    ("V. Kavaleuski", KAVALEUSKI),
    ("V. Kovalevsky", KAVALEUSKI),
    ("В. Ковалевский", KAVALEUSKI),
    ("V. Garbunova", HARBUNOVA),
    ("V.Garbunova", HARBUNOVA),
    ("В. Горбунова", HARBUNOVA),
    ("P. Latushko", LATUSHKA),
    ("Pavel Latushka", LATUSHKA),
    ("A. Azarov", AZARAU),
    ("А. Азаров", AZARAU),
    ("V. Sakhashchyk", SAKHASHCHYK),
    ("A. Koushyk", KOUSHYK),
    # full names, Russian-based English and Polish/German/Czech press spellings
    ("Svetlana Tikhanovskaya", TSIKHANOUSKAYA),
    ("Sviatlana Tsikhanouskaia", TSIKHANOUSKAYA),
    ("Tikhonovska", TSIKHANOUSKAYA),
    ("Tichanowska", TSIKHANOUSKAYA),
    ("Svitlana Tikhanovskaïa", TSIKHANOUSKAYA),
    ("Ольга Горбунова", HARBUNOVA),
    ("Olga Gorbunova", HARBUNOVA),
    ("O. Gorbunova", HARBUNOVA),
    ("Alexander Azarov", AZARAU),
    ("Aleksandr Azarow", AZARAU),
    ("Valeriy Kovalevskiy", KAVALEUSKI),
    ("Valerii Kovalevskii", KAVALEUSKI),
    ("Kowalewski", KAVALEUSKI),
    ("Valery Sakhashchik", SAKHASHCHYK),
    ("Sakhaschik", SAKHASHCHYK),
    ("Alina Kovshik", KOUSHYK),
    ("Latuschko", LATUSHKA),
    # surname only, surname first, patronymics, titles, roles
    ("Latushka", LATUSHKA),
    ("Latushka Pavel", LATUSHKA),
    ("Latushka P.", LATUSHKA),
    ("Тихановская Светлана Георгиевна", TSIKHANOUSKAYA),
    ("Ковалевский В.В.", KAVALEUSKI),
    ("ВАЛЕРИЙ КОВАЛЕВСКИЙ", KAVALEUSKI),
    ("Mr Latushka", LATUSHKA),
    ("г-жа Тихановская", TSIKHANOUSKAYA),
    ("Pavel Latushka, Deputy Head of the United Transitional Cabinet", LATUSHKA),
    ("Sviatlana Tsikhanouskaya's", TSIKHANOUSKAYA),
    ("Tsikhanoskaya", TSIKHANOUSKAYA),  # one letter missing from a long name
    # official Belarusian romanisation and Łacinka
    ("Sviatlana Tsikhanouskaya", TSIKHANOUSKAYA),
    ("Śviatłana Cichanoŭskaja", TSIKHANOUSKAYA),
    ("Paval Łatuška", LATUSHKA),
    ("Valieryj Kavalieŭski", KAVALEUSKI),
    ("Aliaksandr Azarau", AZARAU),
    ("Alaksandr Azaraŭ", AZARAU),
    ("Valery Sachaščyk", SAKHASHCHYK),
    ("Volha Harbunova", HARBUNOVA),
    ("Alina Koŭšyk", KOUSHYK),
    # Belarusian Cyrillic, with and without stress marks
    ("Святлана Ціханоўская", TSIKHANOUSKAYA),
    ("Святла́на Ціхано́ўская", TSIKHANOUSKAYA),
    ("Павел Латушка", LATUSHKA),
    ("Па́вел Лату́шка", LATUSHKA),
    ("Валерый Кавалеўскі", KAVALEUSKI),
    ("Вале́рый Кавале́ўскі", KAVALEUSKI),
    ("Аляксандр Азараў", AZARAU),
    ("Валерый Сахашчык", SAKHASHCHYK),
    ("Вольга Гарбунова", HARBUNOVA),
    ("Во́льга Гарбуно́ва", HARBUNOVA),
    ("Аліна Коўшык", KOUSHYK),
    ("Алі́на Ко́ўшык", KOUSHYK),
    # Russian Cyrillic, ё/е, decomposed letters
    ("Светлана Тихановская", TSIKHANOUSKAYA),
    ("Павел Латушко", LATUSHKA),
    (unicodedata.normalize("NFD", "Валерий Ковалевский"), KAVALEUSKI),
    ("Александр Азаров", AZARAU),
    ("Валерий Сахащик", SAKHASHCHYK),
    ("Алина Ковшик", KOUSHYK),
    ("Св. Тихановская", TSIKHANOUSKAYA),
    # case forms
    ("Павла Латушко", LATUSHKA),
    ("Паўла Латушкі", LATUSHKA),
    ("Паўлам Латушкам", LATUSHKA),
    ("Святланы Ціханоўскай", TSIKHANOUSKAYA),
    ("Светланой Тихановской", TSIKHANOUSKAYA),
    ("Тихановскую", TSIKHANOUSKAYA),
    ("Валерия Ковалевского", KAVALEUSKI),
    ("Кавалеўскаму", KAVALEUSKI),
    ("Аляксандра Азарава", AZARAU),
    ("Александру Азарову", AZARAU),
    ("Валерыя Сахашчыка", SAKHASHCHYK),
    ("Валерием Сахащиком", SAKHASHCHYK),
    ("Вольгі Гарбуновай", HARBUNOVA),
    ("Ольгой Горбуновой", HARBUNOVA),
    ("Аліны Коўшык", KOUSHYK),
    # honorifics and German/Lithuanian press forms
    ("спадарыні Ціханоўскай", TSIKHANOUSKAYA),
    ("спадару Латушку", LATUSHKA),
    ("Herr Latuschko", LATUSHKA),
    ("Mme Tikhanovskaïa", TSIKHANOUSKAYA),
    ("Madame Tikhanovskaïa", TSIKHANOUSKAYA),
    ("Alexander Asarow", AZARAU),
    ("Pavelas Latuška", LATUSHKA),
]

NOBODY = [
    "Alexander Lukashenko",
    "Лукашенко",
    "M. Podolyak",
    "Volodymyr Zelensky",
    "Franak Viačorka",
    "Tatsiana Khomich",
    "Maria Kalesnikava",
    "Siarhei Tsikhanouski",  # her husband
    "Сергей Тихановский",
    "Сяргея Ціханоўскага",
    "Viktar Babaryka",
    "Pavel Sevyarynets",
    "Valery Tsepkalo",
    "Andrei Sannikov",
    "A reader",
    "NAU",
    "NAM-media",
    "A. Latushka",  # the initial contradicts
    "Olga Kavaleuski",
    "Alexandra Azarova",  # a woman, not a genitive, in Latin script
    "Азарова",  # genitive or a woman: undecidable without a given name
    "Олега Горбунова",  # Oleg, not Olga
    "Kovalevskaya",
    "Garbuzova",
    "Nazarov",
    "Latushenko",
    "Sviatlana",
    "Latushka and Tsikhanouskaya",
    "",
]


@pytest.mark.parametrize(("as_written", "person_id"), RESOLVES)
def test_spelling_resolves_to_person(as_written: str, person_id: str) -> None:
    speaker = resolve_speaker(as_written)
    person = get_person(person_id)
    assert person is not None
    assert speaker == Speaker(as_written=as_written.strip(), id=person_id, name=person.name)


@pytest.mark.parametrize("as_written", NOBODY)
def test_other_names_resolve_to_nobody(as_written: str) -> None:
    assert resolve_speaker(as_written) == Speaker(as_written=as_written)


@pytest.mark.parametrize(
    ("as_written", "cleaned"),
    [
        ("(V. Kavaleuski)", "V. Kavaleuski"),
        ("  (V. Kavaleuski).  ", "V. Kavaleuski"),
        ("— P. Latushko:", "P. Latushko"),
        ("Latushka P.", "Latushka P."),
        ("(Лукашенко)", "Лукашенко"),
    ],
)
def test_as_written_loses_only_its_wrapping(as_written: str, cleaned: str) -> None:
    assert resolve_speaker(as_written).as_written == cleaned


def test_every_registered_spelling_resolves_to_its_person() -> None:
    for person in all_people():
        for spelling in (*person.spellings, person.name, person.name_ru, person.name_be):
            assert resolve_speaker(spelling).id == person.id, spelling


def test_registry_holds_the_seven_people() -> None:
    ids = {TSIKHANOUSKAYA, LATUSHKA, KAVALEUSKI, AZARAU, SAKHASHCHYK, HARBUNOVA, KOUSHYK}
    assert {p.id for p in all_people()} == ids
    person = get_person(KAVALEUSKI)
    assert person is not None
    assert (person.name, person.name_ru, person.name_be) == (
        "Valery Kavaleuski",
        "Валерий Ковалевский",
        "Валерый Кавалеўскі",
    )
    assert get_person("alexander-lukashenko") is None


def test_mirror_attributions_resolve_as_expected() -> None:
    checked = 0
    for path in sorted(EXPECTED.glob("*.json")):
        for section in json.loads(path.read_text("utf-8"))["sections"]:
            for answer in section["answers"]:
                speaker = answer["speaker"]
                if speaker:
                    assert resolve_speaker(speaker["as_written"]).id == speaker["id"], path.name
                    checked += 1
    assert checked > 0


@pytest.mark.parametrize(
    ("text", "mentions"),
    [
        ("Pavel Latushka on sanctions and the border crossings", [("Pavel Latushka", LATUSHKA)]),
        (
            "NAM-media interviews Pavel Latushka, Deputy Head of the Cabinet",
            [("Pavel Latushka", LATUSHKA)],
        ),
        ("Интервью Павла Латушко", [("Павла Латушко", LATUSHKA)]),
        ("Святлана Ціханоўская пра санкцыі", [("Святлана Ціханоўская", TSIKHANOUSKAYA)]),
        (
            "S. Tsikhanouskaya and V.Kovalevsky met Latushka; Tsikhanouskaya's speech",
            [
                ("S. Tsikhanouskaya", TSIKHANOUSKAYA),
                ("V.Kovalevsky", KAVALEUSKI),
                ("Latushka", LATUSHKA),
            ],
        ),
        ("Латушко Павел: интервью", [("Латушко Павел", LATUSHKA)]),
        (
            "The Latushka-Tsikhanouskaya meeting",
            [("Latushka", LATUSHKA), ("Tsikhanouskaya", TSIKHANOUSKAYA)],
        ),
        ("LATUSHKA: NEW SANCTIONS", [("LATUSHKA", LATUSHKA)]),
        (
            "Встреча с Латушко и В. Ковалевским",
            [("Латушко", LATUSHKA), ("В. Ковалевским", KAVALEUSKI)],
        ),
        ("A Latushka interview", [("Latushka", LATUSHKA)]),
        ("Интервью Александра Азарова", [("Александра Азарова", AZARAU)]),
        ("Сяргей Ціханоўскі і Святлана Ціханоўская", [("Святлана Ціханоўская", TSIKHANOUSKAYA)]),
        ("A. Latushka and Alina Latushka are not him", []),
        # a namesake: a common given name that is not this person's
        ("Mykola Azarov, Yanukovych's former prime minister", []),
        ("Адвокат Андрей Ковалевский и Николая Азарова", []),
        ("Pavelas Latuška ir Andrius Latuška", [("Pavelas Latuška", LATUSHKA)]),
        ("Herr Latuschko sagte", [("Latuschko", LATUSHKA)]),
        ("Alexander Lukashenko and Azarova", []),
        ("Sanctions and the border crossings", []),
    ],
)
def test_find_mentions(text: str, mentions: list[tuple[str, str]]) -> None:
    found = find_mentions(text)
    assert [(s.as_written, s.id) for s in found] == mentions
    names = {person.id: person.name for person in all_people()}
    assert all(s.id and s.name == names[s.id] for s in found)


def test_resolving_is_cached() -> None:
    assert resolve_speaker("V. Kovalevsky") is resolve_speaker("V. Kovalevsky")


@given(st.text())
def test_resolve_speaker_never_raises(text: str) -> None:
    speaker = resolve_speaker(text)
    assert isinstance(speaker, Speaker)
    assert (speaker.id is None) == (speaker.name is None)
    assert speaker.id is None or get_person(speaker.id) is not None


@given(st.text())
def test_find_mentions_never_raises(text: str) -> None:
    found = find_mentions(text)
    assert all(s.as_written in text and s.id for s in found)
    assert len({s.id for s in found}) == len(found)
