"""Grouping guests into rooms: pairs, one trio for an odd count, no repeats when avoidable."""

from __future__ import annotations

import random

import pytest

from app.fusing.lineup import Pair, group, met_pairs


@pytest.mark.parametrize("count", [2, 3, 4, 7, 10, 51])
def test_everyone_is_placed_in_pairs_and_at_most_one_trio(count):
    rooms = group(list(range(count)), set(), random.Random(count))
    sizes = sorted(len(room) for room in rooms)
    assert sum(sizes) == count
    assert sorted(person for room in rooms for person in room) == list(range(count))
    assert sizes.count(3) == count % 2 and set(sizes) <= {2, 3}


def test_nobody_is_alone_and_one_person_stays_as_is():
    assert group([1], set()) == [[1]]
    assert group([], set()) == []


@pytest.mark.parametrize(("count", "rounds"), [(7, 3), (8, 5), (12, 5), (40, 5)])
def test_rotations_never_repeat_a_pair_within_an_hour(count, rounds):
    # Seven people can fill three rounds without a repeat; a fourth is impossible (pairs + a
    # trio take five of the 21 pairs a round, and no four groupings are disjoint).
    people, met = list(range(count)), set()
    rng = random.Random(count)
    for _ in range(rounds):
        rooms = group(people, met, rng)
        new = met_pairs(rooms)
        assert not new & met, "a pair met twice"
        met |= new


def test_when_a_repeat_cannot_be_avoided_the_fewest_are_made():
    met = {Pair((0, 1))}
    rooms = group([0, 1], met)
    assert rooms == [[0, 1]] or rooms == [[1, 0]]
    met = met_pairs([[0, 1], [2, 3]])
    rooms = group([0, 1, 2, 3], met, random.Random(1))
    assert not met_pairs(rooms) & met


def _all_pairs_but(people: list[int], unmet: list[tuple[int, int]]) -> set[Pair]:
    """Everyone has met everyone, except these pairs."""
    keep = {Pair(pair) for pair in unmet}
    return {Pair((a, b)) for a in people for b in people if a < b} - keep


def test_a_large_rotation_finds_the_only_grouping_without_repeats():
    # Over EXACT_UP_TO guests the greedy path decides; only one grouping repeats nobody.
    people = list(range(18))
    matching = [(i, i + 1) for i in range(0, 18, 2)]
    met = _all_pairs_but(people, matching)
    for seed in range(5):
        rooms = group(people, met, random.Random(seed))
        assert not met_pairs(rooms) & met
        assert sorted(tuple(sorted(room)) for room in rooms) == matching


def test_the_odd_guest_of_a_large_rotation_joins_the_room_where_they_met_nobody():
    people = list(range(17))
    unmet = [(i, i + 1) for i in range(0, 16, 2)] + [(14, 16), (15, 16)]
    met = _all_pairs_but(people, unmet)
    for seed in range(5):
        rooms = group(people, met, random.Random(seed))
        assert not met_pairs(rooms) & met
        assert [14, 15, 16] in [sorted(room) for room in rooms]
