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
выступить заверить заверять призвать призывать предупредить предупреждать""".split()

_BE_FORMS = """сказаў сказала сказалі скажа кажа кажуць казаў казала казалі кажучы сказаўшы
адзначыў адзначыла адзначылі адзначае адзначаюць адзначыць адзначаў адзначала адзначыўшы
заявіў заявіла заявілі заяўляе заяўляюць заявіць заяўляў заяўляла
падкрэсліў падкрэсліла падкрэслілі падкрэслівае падкрэсліваюць падкрэсліць падкрэсліваў
падкрэслівала дадаў дадала дадалі дадае дадаюць дадасць дадаючы
растлумачыў растлумачыла тлумачыць тлумачыў тлумачыла паведаміў паведаміла паведамляе
расказаў расказала расказвае адказаў адказала адказвае адказваюць адкажа
удакладніў удакладніла нагадаў нагадала нагадвае прызнаў прызнала канстатаваў
канстатавала заўважыў заўважыла заўважае патлумачыў патлумачыла лічыць лічыў лічыла
заклікаў заклікала заклікае папярэдзіў папярэдзіла запэўніў запэўніла""".split()

_EN_FORMS = """said says say saying added adds adding noted notes noting stressed stresses
stressing explained explains emphasised emphasized emphasises emphasizes stated states
told tells answered answers replied replies remarked remarks pointed observed observes
declared declares insisted insists recalled recalls warned warns underlined underlines
commented comments confirmed confirms argued argues asserted asserts continued continues
concluded concludes announced announces assured assures urged urges""".split()

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
def _russian_forms() -> frozenset[str]:
    morph = pymorphy3.MorphAnalyzer()
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
    return _russian_forms() | frozenset(_BE_FORMS) | frozenset(_EN_FORMS)


def is_speech_verb(word: str) -> bool:
    return word.lower().replace("ё", "е").strip(".,:;") in speech_verbs()


def is_role_word(word: str) -> bool:
    return word.lower().startswith(_ROLE_STEMS)


def asks(role: str) -> bool:
    """A moderator's or journalist's line: its question heads the section."""
    return any(w.lower().startswith(_ASKER_STEMS) for w in role.split())
