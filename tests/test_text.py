"""The counts the commands print are in the right number ("1 entries" was printed before)."""

from genoarmory.text import counted


def test_counted_agrees_in_number():
    assert counted(1, "entry", "entries") == "1 entry"
    assert counted(2, "entry", "entries") == "2 entries"
    assert counted(0, "model") == "0 models"
    assert counted(1, "model") == "1 model"
