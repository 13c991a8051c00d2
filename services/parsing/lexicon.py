"""Words that make an attribution: speech verbs, roles, and the phrases that introduce a
speaker (`По словам`, `According to`), in English, Russian and Belarusian.

Pure. Russian verbs come from pymorphy3's dictionary: each lemma's whole paradigm (tense,
gender, number, aspect pairs, gerunds) is expanded once, so `скажет`, `подчеркнув` and
`отмечала` need no list of their own. Belarusian has no such dictionary in Python, so its
forms are written out; English needs only a handful of forms per verb.
"""

from __future__ import annotations

import re
from functools import lru_cache

import pymorphy3

_RU_LEMMAS = """сказать говорить отметить отмечать заявить заявлять подчеркнуть подчёркивать
подчеркивать добавить добавлять пояснить пояснять заметить замечать сообщить сообщать
рассказать рассказывать ответить отвечать уточнить уточнять напомнить напоминать признать
признавать констатировать резюмировать указать указывать объяснить объяснять считать
выступить заверить заверять призвать призывать предупредить предупреждать поблагодарить
благодарить написать писать обратиться обращаться спросить спрашивать поделиться делиться
прокомментировать комментировать высказаться высказываться отреагировать""".split()

# Belarusian past tenses by stem (-ў, -ла, -лі, -ўшы follow), then the other forms.
_BE_PAST_STEMS = """сказа каза адзначы адзнача заяві заяўля падкрэслі падкрэсліва дада дадава
растлумачы тлумачы патлумачы паведамі паведамля расказа расказва адказа адказва удакладні
нагада нагадва прызна прызнава канстатава заўважы заўважа лічы закліка папярэдзі запэўні
выказа выступі падзякава дзякава напіса піса спыта пыта зазначы пракаментава каментава
падкрэсьлі""".split()
_BE_FORMS = (
    """скажа кажа кажуць кажучы адзначае адзначаюць адзначыць заяўляе заяўляюць заявіць
падкрэслівае падкрэсліваюць падкрэсліць дадае дадаюць дадасць дадаючы тлумачыць паведамляе
расказвае адказвае адказваюць адкажа нагадвае заўважае лічыць заклікае звярнуўся
звярнулася звярнуліся дзякуе піша зазначае распавёў распавяла распавялі распавядае
падзяліўся падзялілася падзяліліся выказаўся выказалася выказаліся""".split()
    + [stem + ending for stem in _BE_PAST_STEMS for ending in ("ў", "ла", "лі", "ўшы")]
)

_EN_FORMS = """said says say saying added adds adding noted notes noting stressed stresses
stressing explained explains emphasised emphasized emphasises emphasizes stated states
told tells answered answers replied replies remarked remarks pointed observed observes
declared declares insisted insists recalled recalls warned warns underlined underlines
commented comments confirmed confirms argued argues asserted asserts continued continues
concluded concludes announced announces assured assures urged urges thanked thanks wrote
writes posted tweeted appealed addressed asked asks shared believes reiterated
highlighted responded""".split()

# Words naming a role, by how they start: a role with no name is an unknown speaker, and a
# role before a name is not part of it.
_ROLE_STEMS = tuple(
    """spokes press secretary moderator journalist reporter correspondent volunteer
    representative head minister deputy adviser advisor chair official expert analyst
    activist lawyer participant host presenter member leader director
    представител пресс-секретар модератор журналист корреспондент волонт глава министр
    заместител советник эксперт аналитик активист адвокат ведущ участни спикер член
    руководител директор лидер
    прадстаўні прэс-сакратар мадэратар журналіст карэспандэнт валанц кіраўні міністр
    намесні дарадц эксперт аналітык актывіст адвакат вядуч удзельні член дырэктар лідар""".split()
)
_RELATIONAL_STEMS = tuple(
    """adviser advisor aide assistant spokes press-secretar советник помощник пресс-секретар
    спикер дарадц памочні прэс-сакратар""".split()
)
# Roles whose quoted question is the section's question, not an answer.
_ASKER_STEMS = tuple(
    """moderator journalist reporter correspondent host presenter question модератор
    журналист корреспондент ведущ вопрос мадэратар журналіст карэспандэнт вядуч
    пытанн""".split()
)
# Openings that introduce who is speaking: `По словам X,`, `According to X,`.
INTRO = re.compile(
    r"^(?:по\s+словам|со\s+слов|по\s+мнению|по\s+оценке|по\s+признанию|па\s+словах|са\s+слоў|"
    r"на\s+думку|па\s+меркаванні|па\s+ацэнцы|according\s+to|in\s+the\s+words\s+of|"
    r"in\s+the\s+(?:opinion|view)\s+of)\s+(?P<who>.+)$",
    re.IGNORECASE | re.S,
)
# `Как отметил X,`, `Як адзначыў X,`, `As X noted,`.
AS = re.compile(r"^(?:как|як|as)\s+(?P<rest>.+)$", re.IGNORECASE | re.S)


@lru_cache(maxsize=1)
def _morph() -> pymorphy3.MorphAnalyzer:
    return pymorphy3.MorphAnalyzer()


@lru_cache(maxsize=1)
def _russian_forms() -> frozenset[str]:
    morph = _morph()
    forms: set[str] = set()
    for lemma in _RU_LEMMAS:
        for parse in morph.parse(lemma):
            if parse.tag.POS != "INFN":
                continue
            for form in parse.lexeme:
                if form.tag.POS in ("VERB", "GRND", "INFN"):
                    forms.add(form.word.replace("ё", "е"))
            break
    return frozenset(forms)


@lru_cache(maxsize=1)
def speech_verbs() -> frozenset[str]:
    listed = (form.replace("ё", "е") for form in (*_BE_FORMS, *_EN_FORMS))
    return _russian_forms() | frozenset(listed)


def is_speech_verb(word: str) -> bool:
    return word.lower().replace("ё", "е").strip(".,:;") in speech_verbs()


_BELARUSIAN = re.compile("[ўіІЎ]")


@lru_cache(maxsize=4096)
def may_be_nominative(word: str) -> bool:
    """Whether a Russian word can be in the nominative (`Павел`, not `Павла`, `Павлу`).
    Belarusian words are not in pymorphy3's dictionary, so they never pass."""
    if _BELARUSIAN.search(word):
        return False
    return any("nomn" in parse.tag for parse in _morph().parse(word))


_LISTENER_VERBS = frozenset("told tells telling".split())


def takes_listener(word: str) -> bool:
    """English `told` is followed by who listened, never by who spoke."""
    return word.lower().strip(".,:;") in _LISTENER_VERBS


def is_relational(word: str) -> bool:
    """A role held towards a person: `советник Латушко` may be the adviser or Latushka."""
    return word.lower().startswith(_RELATIONAL_STEMS)


def is_role_word(word: str) -> bool:
    return word.lower().startswith(_ROLE_STEMS)


def asks(role: str) -> bool:
    """A moderator's or journalist's line: its question heads the section."""
    return any(w.lower().startswith(_ASKER_STEMS) for w in role.split())
