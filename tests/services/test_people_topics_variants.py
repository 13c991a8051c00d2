"""Unseen spellings of the seven people and realistic sections for topic tagging.

Names: how Belarusian, Russian, Ukrainian, English, Polish, Lithuanian and German media and
NAM's own translators actually write them (transliteration systems, Łacinka, initials with and
without spaces, patronymics, all caps, honorifics, case forms), and near misses that must not be
forced onto one of the seven: other Belarusian figures, namesakes with another given name,
other surnames a letter or two away. Spellings already in tests/services/test_people.py are not
repeated. Attributions are also checked through the parser, as the site's pages give them.

Topics: sections as NAM publishes them in en/ru/be; the heading's subject must come first and
no topic a careful editor would call absurd may be added.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from services.parsing import parse_post
from services.people import find_mentions, get_person, resolve_speaker
from services.topics import classify_section
from tests.pages import AZA, HAR, KAV, KOU, LAT, SAK, TSI
from tests.services.test_parsing_variants3 import WIX_EN, wh, wix, wp

# --- resolve_speaker: unseen spellings of the seven -----------------------------------------

RESOLVES = [
    # Tsikhanouskaya: English (Russian-based), Polish, Czech, German, French, Ukrainian forms
    ("Tsikhanovskaya", TSI),
    ("Tihanovskaya", TSI),
    ("Swiatłana Cichanouska", TSI),
    ("Sviatlana Cichanoŭskaja", TSI),
    ("Svjatlana Cichanouská", TSI),
    ("Swetlana Tichanowskaja", TSI),
    ("Svetlana Tikhanovskaïa", TSI),
    ("Swjatlana Zichanouskaja", TSI),  # German Wikipedia / Duden transliteration
    ("Frau Tichanowskaja", TSI),  # German press honorific
    ("Світлана Тихановська", TSI),  # Ukrainian Cyrillic
    # initials without spaces, surname first, patronymics, all caps, roles
    ("S.Tsikhanouskaya", TSI),
    ("Tsikhanouskaya S.", TSI),
    ("Тихановская С.Г.", TSI),
    ("С.Г. Тихановская", TSI),
    ("Ціханоўская С.", TSI),
    ("Светлана Георгиевна Тихановская", TSI),
    ("Святлана Георгіеўна Ціханоўская", TSI),
    ("SVIATLANA TSIKHANOUSKAYA", TSI),
    ("Tsikhanouskaya, Sviatlana", TSI),
    ("Sviatlana Tsikhanouskaya (Leader of Democratic Belarus)", TSI),
    # Belarusian keyboards: Latin i for і, у for ў; the standard Belarusian honorific
    ("Святлана Цiханоўская", TSI),
    ("Святлана Ціханоуская", TSI),
    ("спадарыня Ціханоўская", TSI),
    # Latushka
    ("Pawel Latuschko", LAT),
    ("Paweł Łatuszka", LAT),
    ("Paweł Łatuszko", LAT),  # Polish press, from the Russian form
    ("Pavelas Latuška", LAT),  # Lithuanian press (LRT, Delfi)
    ("Павло Латушко", LAT),  # Ukrainian
    ("LATUSHKA", LAT),
    ("Латушко П.П.", LAT),
    ("Латушко Павел Павлович", LAT),
    ("(Павел Латушко, глава НАУ)", LAT),
    ("Pavel Latushka – head of NAM", LAT),
    ("Павлом Латушко", LAT),
    # Kavaleuski
    ("Valeri Kovalevski", KAV),
    ("Valerij Kavalevskij", KAV),
    ("Walerij Kowalewskij", KAV),
    ("Valery Kavaleŭski", KAV),
    ("Valerii Kovalevskyi", KAV),
    ("KOVALEVSKY", KAV),
    ("В.Ковалевский", KAV),
    ("Ковалевский Валерий Валерьевич", KAV),
    ("Кавалеўскага", KAV),
    ("Валерію Кавалеўскаму", KAV),
    # Azarau
    ("Aleksandr Azarau", AZA),
    ("Alyaksandr Azarau", AZA),
    ("Aljaksandr Asarau", AZA),  # German transliteration of Аляксандр Азараў
    ("Alexander Asarow", AZA),  # German press form of Александр Азаров
    ("Азаров А.", AZA),
    ("Аляксандрам Азаравым", AZA),
    # Sakhashchyk
    ("Sachaszczyk", SAK),
    ("Valerij Sachaščyk", SAK),
    ("Walerij Sachaschtschyk", SAK),
    ("Сахащик В.", SAK),
    ("Сахашчыку", SAK),
    # Harbunova
    ("Wolha Harbunowa", HAR),
    ("Volha Harbunová", HAR),
    ("Olga Gorbunowa", HAR),
    ("Olha Horbunova", HAR),
    ("HARBUNOVA", HAR),
    ("Горбунова О.А.", HAR),
    ("Ольга Анатольевна Горбунова", HAR),
    ("Вольгу Гарбунову", HAR),
    # Koushyk
    ("Alina Kowschik", KOU),
    ("Alina Koušyk", KOU),
    ("Alina Kouszyk", KOU),
    ("Koushyk Alina", KOU),
    ("Ковшик А.", KOU),
    ("Алиной Ковшик", KOU),
    ("Аліна Коушык", KOU),
]


@pytest.mark.parametrize(("as_written", "person_id"), RESOLVES)
def test_unseen_spelling_resolves(as_written: str, person_id: str) -> None:
    assert resolve_speaker(as_written).id == person_id


# --- resolve_speaker: near misses -------------------------------------------------------------

NOBODY = [
    "Sergei Tikhanovsky",  # her husband, Russian-based English
    "Siarhiej Cichanoŭski",
    "Тихановскому",
    "Valery Tsapkala",
    "Аляксандр Лукашэнка",
    "Andrei Sannikau",
    "Павел Северинец",
    "Olga Karach",
    "Volha Kavalkova",
    "Alina Kushnir",
    "Victoria Azarenka",
    "Валерий Коваленко",
    "Павел Латушкин",
    "Mykola Azarov",  # Ukraine's former prime minister
    "Oleg Gorbunov",
    "Sergei Kovalevsky",
    "Irina Gorbunova",
    "Dmitry Sakhashchyk",
    "Svetlana Alexievich",
    "Alina Kovshova",
]


@pytest.mark.parametrize("as_written", NOBODY)
def test_near_miss_resolves_to_nobody(as_written: str) -> None:
    assert resolve_speaker(as_written).id is None


# --- find_mentions in running text ----------------------------------------------------------

MENTIONS = [
    ("по словам Валерия Ковалевского, санкции работают", [KAV]),
    ("паводле Паўла Латушкі, рэжым слабее", [LAT]),
    ("Meeting with Latushka's team in Vilnius", [LAT]),
    ("Rozmowa z Pawłem Łatuszką o sankcjach", [LAT]),
    ("Сергей Тихановский и Светлана Тихановская", [TSI]),
    ("Спадарыня Ціханоўская сустрэлася з прэзідэнтам Літвы", [TSI]),
    ("з Вольгай Гарбуновай і Алінай Коўшык", [HAR, KOU]),
    ("Latushka, Kavaleuski and Azarau met in Warsaw", [LAT, KAV, AZA]),
    ("Viktar Babaryka and Maria Kalesnikava remain in prison", []),
    ("Valery Tsapkala and Franak Viačorka commented", []),
    # a namesake with another given name is someone else, not the registered person
    ("Mykola Azarov, Yanukovych's former prime minister, fled to Russia", []),
    ("Бывший премьер Украины Николай Азаров бежал в Россию", []),
    ("Адвокат Андрей Ковалевский отказался комментировать", []),
    ("Анастасия Тихановская пошла в школу в Вильнюсе", []),
]


@pytest.mark.parametrize(("text", "ids"), MENTIONS)
def test_find_mentions_in_text(text: str, ids: list[str]) -> None:
    assert [s.id for s in find_mentions(text)] == ids


# --- attributions through the parser ----------------------------------------------------------

ATTRIBUTIONS = [
    ("&quot;Sanctions work and must be tightened.&quot; (Павел Латушко, глава НАУ)", LAT),
    ("«Санкции работают» (Тихановская С.Г.)", TSI),
    (
        "«Санкции работают», — подчеркнула лидер демократических сил Беларуси Светлана "
        "Тихановская.",
        TSI,
    ),
    ("&quot;Sanctions work.&quot; (Wolha Harbunowa, Cabinet representative)", HAR),
    # a contradicting initial or given name names someone else: no id, as for resolve_speaker
    ("&quot;Sanctions work and must be tightened.&quot; (A. Latushka)", None),
    ("&quot;Sanctions work and must be tightened.&quot; (Alina Latushka)", None),
    ("&quot;Sanctions work and must be tightened.&quot; (Mykola Azarov)", None),
    ("«Санкции работают», — заявил Андрей Ковалевский.", None),
]


def _speakers(paragraph: str) -> list[tuple[str, str | None]]:
    post = parse_post(wix(WIX_EN, [wh("Sanctions:"), wp(paragraph)]), WIX_EN)
    return [
        (answer.speaker.as_written, answer.speaker.id)
        for section in post.sections
        for answer in section.answers
        if answer.speaker is not None
    ]


@pytest.mark.parametrize(("paragraph", "person_id"), ATTRIBUTIONS)
def test_parsed_attribution_resolves(paragraph: str, person_id: str | None) -> None:
    speakers = _speakers(paragraph)
    assert len(speakers) == 1
    assert speakers[0][1] == person_id
    person = get_person(person_id) if person_id else None
    assert person_id is None or person is not None


def test_parsed_attribution_keeps_the_initials_period() -> None:
    # resolve_speaker keeps "Latushka P." whole (test_people); the parser should too
    speakers = _speakers("&quot;Sanctions work and must be tightened.&quot; (Latushka P.)")
    assert speakers == [("Latushka P.", LAT)]


# --- topics -------------------------------------------------------------------------------

# (heading, question, answers, language, first topic or None for "no topic", topics that
# must not be given)
SECTIONS: list[tuple[str | None, str | None, list[str], str, str | None, set[str]]] = [
    (
        "New Belarus passport: when and how to apply",
        None,
        [
            "The New Belarus passport is a document that confirms the identity of a Belarusian "
            "abroad. Applications open in spring; the passport will be issued online.",
            "We are negotiating with partner countries so that border guards recognise it.",
        ],
        "en",
        "documents",
        {"sanctions", "repressions"},
    ),
    (
        None,
        "Как получить паспорт Новой Беларуси?",
        ["Заявку можно подать онлайн. Паспорт будут выдавать в Вильнюсе и Варшаве."],
        "ru",
        "documents",
        set(),
    ),
    (
        "О полке Калиновского",
        None,
        [
            "Бойцы полка Калиновского сражаются на фронте под Бахмутом. Кабинет помогает "
            "добровольцам с документами и легализацией в Польше."
        ],
        "ru",
        "war-and-security",
        {"economy", "culture-and-education"},
    ),
    (
        "Kalinoŭski fighters near Bakhmut",
        None,
        ["The regiment's Belarusian volunteers are defending Ukraine together with its army."],
        "en",
        "war-and-security",
        set(),
    ),
    (
        "Release of political prisoners",
        None,
        [],
        "en",
        "political-prisoners",
        {"repressions"},  # "Releasing political prisoners" gets exactly political-prisoners
    ),
    (
        "Об освобождении политзаключенных",
        None,
        [
            "На прошлой неделе были помилованы еще 30 человек. Но в тюрьмах по-прежнему "
            "остаются более тысячи политзаключенных."
        ],
        "ru",
        "political-prisoners",
        {"economy"},
    ),
    (
        "Sanctions on potash",
        None,
        [
            "The EU has banned imports of Belarusian potash. Belaruskali is losing its "
            "markets, and transit through Lithuania has stopped."
        ],
        "en",
        "sanctions",
        {"war-and-security"},
    ),
    (
        "EU sanctions against Belavia",
        None,
        ["The airline can no longer fly to European airports or lease aircraft."],
        "en",
        "sanctions",
        set(),
    ),
    (
        "UN report on political prisoners",
        None,
        ["The Special Rapporteur counts more than 1,400 political prisoners in Belarus."],
        "en",
        "political-prisoners",
        set(),
    ),
    (
        "Беларуская дыяспара ў Польшчы",
        None,
        [
            "Дзясяткі тысяч беларусаў пераехалі ў Польшчу. Беларускія суполкі ў Варшаве і "
            "Беластоку ладзяць культурныя імпрэзы."
        ],
        "be",
        "diaspora",
        {"war-and-security", "repressions"},
    ),
    (
        "Беларусы в Польше",
        None,
        ["Сегодня в Польше живут более 200 тысяч беларусов, многие приехали после 2020 года."],
        "ru",
        "diaspora",
        set(),
    ),
    (
        "Рэпрэсіі супраць журналістаў",
        None,
        [
            "Больш за 30 журналістаў знаходзяцца за кратамі. Незалежныя СМІ прызнаныя "
            "экстрэмісцкімі."
        ],
        "be",
        "repressions",
        {"war-and-security"},
    ),
    (
        "Attacks on journalists",
        None,
        [
            "Journalists are detained, their homes searched, and many are sentenced to long "
            "prison terms for their work."
        ],
        "en",
        "repressions",
        {"war-and-security"},
    ),
    (
        "Repressions against independent trade unions",
        None,
        [],
        "en",
        "repressions",
        {"economy"},
    ),
    (
        "О «выборах» 2025 года",
        None,
        [
            "Так называемые выборы 2025 года не будут ни свободными, ни честными. Мы призываем "
            "демократические страны не признавать их результаты."
        ],
        "ru",
        "elections",
        {"repressions", "war-and-security"},
    ),
    (
        "Адукацыя на беларускай мове",
        None,
        [
            "У Беларусі засталося вельмі мала школ з беларускай мовай навучання. Мы "
            "падтрымліваем беларускія школы за мяжой."
        ],
        "be",
        "culture-and-education",
        {"repressions"},
    ),
    (
        "Завочнае навучанне для беларускіх студэнтаў",
        None,
        ["Беларускія студэнты могуць вучыцца завочна ў Еўрапейскім гуманітарным універсітэце."],
        "be",
        "culture-and-education",
        {"repressions"},  # завочнае навучанне is distance learning, not a trial in absentia
    ),
    (
        "Nobel Peace Prize laureate Ales Bialiatski sentenced to 10 years",
        None,
        [],
        "en",
        "repressions",
        {"culture-and-education"},
    ),
    (
        "Sakharov Prize for the Belarusian democratic opposition",
        None,
        ["The European Parliament awarded its human rights prize to the democratic opposition."],
        "en",
        None,
        {"culture-and-education"},
    ),
    (
        "Amnesty International report on torture in Belarusian prisons",
        None,
        [],
        "en",
        "repressions",
        {"international"},  # an NGO's name, not international relations
    ),
    # Belarusian orthography: у- becomes ў- after a vowel; т/д alternate with ц/дз in the
    # locative (на фронце, у пашпарце)
    (
        "Пагроза ўварвання з боку Беларусі",
        None,
        [],
        "be",
        "war-and-security",
        set(),
    ),
    (
        "Беларускія ўцекачы ў Польшчы",
        None,
        [],
        "be",
        "diaspora",
        set(),
    ),
    (
        "Сітуацыя на фронце",
        None,
        [],
        "be",
        "war-and-security",
        set(),
    ),
    (
        "Што будзе напісана ў новым пашпарце",
        None,
        [],
        "be",
        "documents",
        set(),
    ),
    (
        "Размяшчэнне расійскай ядзернай зброі ў Беларусі",
        None,
        ["Ядзерная зброя ў Беларусі — пагроза для ўсяго рэгіёна, у тым ліку для Украіны."],
        "be",
        "war-and-security",
        {"economy"},
    ),
]


@pytest.mark.parametrize(
    ("heading", "question", "answers", "language", "first", "never"),
    SECTIONS,
    ids=[(s[0] or s[1] or "")[:40] for s in SECTIONS],
)
def test_section_topics(
    heading: str | None,
    question: str | None,
    answers: Sequence[str],
    language: str,
    first: str | None,
    never: set[str],
) -> None:
    got = classify_section(heading, question, answers, language)
    if first is not None:
        assert got[:1] == (first,), got
    assert not never & set(got), got
