"""The one edit applier, which `fix`, `mv` and the daemon write notes with: edits apply
in text order, and edits that start at the same offset apply in the order given.
(`mv` had its own, which applied two edits at one offset the other way round.)"""

from __future__ import annotations

from vaultsync.core.model import Edit, Span, apply_edits


def edit(start: int, end: int, new_text: str) -> Edit:
    return Edit(Span(start, end, 1, start + 1, 1, end + 1), new_text)


def test_two_insertions_at_one_offset_keep_their_order() -> None:
    assert apply_edits("ab", [edit(1, 1, "X"), edit(1, 1, "Y")]) == "aXYb"


def test_an_insertion_before_a_replacement_at_the_same_offset() -> None:
    # Given either way round, the insertion lands before the replaced text, which is
    # replaced whole (not the inserted text).
    assert apply_edits("a[[Old]].", [edit(1, 1, "> "), edit(1, 8, "[[New]]")]) == "a> [[New]]."
    assert apply_edits("a[[Old]].", [edit(1, 8, "[[New]]"), edit(1, 1, "> ")]) == "a> [[New]]."


def test_bytes_outside_the_edits_are_kept() -> None:
    text = "one\r\ntwo [[a]] three [[b]]\r\n"
    got = apply_edits(text, [edit(21, 26, "[[B]]"), edit(9, 14, "[[A]]")])
    assert got == "one\r\ntwo [[A]] three [[B]]\r\n"
