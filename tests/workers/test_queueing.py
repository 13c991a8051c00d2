"""How discovered pages are ordered and batched for the workers (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from workers._queueing import alternate_hosts, host_batches

WWW, TILDA = "https://www.belarus-nau.org", "https://tilda.belarus-nau.org"


@dataclass(frozen=True)
class Page:
    url: str


def _pages(*spec: tuple[str, int]) -> list[Page]:
    return [Page(f"{host}/post/{n}") for host, n in spec]


def test_pages_alternate_between_hosts_each_in_its_order() -> None:
    due = _pages((WWW, 1), (WWW, 2), (WWW, 3), (TILDA, 1), (WWW, 4), (TILDA, 2))
    assert alternate_hosts(due) == _pages(
        (WWW, 1), (TILDA, 1), (WWW, 2), (TILDA, 2), (WWW, 3), (WWW, 4)
    )
    assert alternate_hosts([]) == []


def test_batches_hold_one_host_each_and_take_the_hosts_in_turn() -> None:
    due = _pages(*((WWW, n) for n in range(5)), *((TILDA, n) for n in range(2)))
    got = host_batches(due, 2, lambda page: page.url)
    assert got == [
        _pages((WWW, 0), (WWW, 1)),
        _pages((TILDA, 0), (TILDA, 1)),
        _pages((WWW, 2), (WWW, 3)),
        _pages((WWW, 4)),
    ]
    assert sorted(p.url for batch in got for p in batch) == sorted(p.url for p in due)
    assert host_batches([], 3, lambda page: page.url) == []
