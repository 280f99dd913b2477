"""Grouping guests into rooms of two (one of three when the count is odd), avoiding repeats."""

from __future__ import annotations

import random
from collections.abc import Hashable, Iterable

Pair = frozenset
EXACT_UP_TO = 16  # small rotations are searched exhaustively for a grouping without repeats


def met_pairs(rooms: Iterable[Iterable[Hashable]]) -> set[Pair]:
    """Every pair of people who shared a room."""
    pairs: set[Pair] = set()
    for members in rooms:
        people = list(members)
        pairs.update(Pair((a, b)) for i, a in enumerate(people) for b in people[i + 1 :])
    return pairs


def group(people: list[Hashable], met: set[Pair], rng: random.Random | None = None) -> list[list]:
    """Rooms of two, plus one of three for an odd count; nobody alone, no repeats if possible."""
    rng = rng or random.Random()
    if len(people) < 2:
        return [list(people)] if people else []
    if len(people) <= EXACT_UP_TO:
        order = list(people)
        rng.shuffle(order)
        exact = _search(order, met)
        if exact is not None:
            return exact
    best: list[list] | None = None
    best_repeats = None
    for _ in range(50):  # randomised greedy tries; the first without repeats wins
        order = list(people)
        rng.shuffle(order)
        rooms = _greedy(order, met)
        repeats = sum(1 for room in rooms for pair in met_pairs([room]) if pair in met)
        if best_repeats is None or repeats < best_repeats:
            best, best_repeats = rooms, repeats
        if repeats == 0:
            break
    return best


def _greedy(order: list, met: set[Pair]) -> list[list]:
    # People with the fewest possible partners go first, so they are not left stranded.
    def options(person) -> int:
        return sum(1 for other in order if other != person and Pair((person, other)) not in met)

    waiting = sorted(order, key=options)
    rooms: list[list] = []
    while len(waiting) >= 2:
        person = waiting.pop(0)
        partner = next((o for o in waiting if Pair((person, o)) not in met), waiting[0])
        waiting.remove(partner)
        rooms.append([person, partner])
    if waiting:  # odd count: the last one joins the room where they have met nobody
        last = waiting[0]
        fits = [r for r in rooms if all(Pair((last, p)) not in met for p in r)]
        (fits or rooms)[0].append(last)
    return rooms


def _search(people: list, met: set[Pair]) -> list[list] | None:
    """A grouping without any repeated pair, by backtracking; None if there is none."""
    if len(people) % 2 == 0:
        return _pairs(people, met)
    for trio_first in people:  # odd: try each trio, then pair the rest
        rest = [p for p in people if p != trio_first]
        for i, second in enumerate(rest):
            for third in rest[i + 1 :]:
                trio = (trio_first, second, third)
                if any(
                    Pair(x) in met
                    for x in ((trio[0], trio[1]), (trio[0], trio[2]), (trio[1], trio[2]))
                ):
                    continue
                remaining = [p for p in rest if p not in trio]
                paired = _pairs(remaining, met)
                if paired is not None:
                    return [list(trio), *paired]
    return None


def _pairs(people: list, met: set[Pair]) -> list[list] | None:
    if not people:
        return []
    first, rest = people[0], people[1:]
    for partner in rest:
        if Pair((first, partner)) in met:
            continue
        tail = _pairs([p for p in rest if p != partner], met)
        if tail is not None:
            return [[first, partner], *tail]
    return None
