"""Cross-fitting folds: each SQuAD article's fold, from its title alone."""

from __future__ import annotations

from citebot.evaluation.crossfit import article_folds


def test_folds_deal_sorted_titles_round_robin() -> None:
    """Sorted by title, articles go to folds 0, 1, 2, ... whatever the file order."""
    titles = ["Delta", "Alpha", "Charlie", "Bravo", "Echo"]
    assert article_folds(titles, 2) == [1, 0, 0, 1, 0]
    shuffled = ["Bravo", "Echo", "Delta", "Alpha", "Charlie"]
    by_title = dict(zip(shuffled, article_folds(shuffled, 2), strict=True))
    assert [by_title[t] for t in titles] == article_folds(titles, 2)
    assert sorted(article_folds(titles, 5)) == [0, 1, 2, 3, 4]
