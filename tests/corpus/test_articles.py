"""Loading articles: the shipped corpus, the file formats, and malformed files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from citebot.corpus.articles import Corpus, parse_article
from citebot.corpus.folder import load_corpus
from citebot.errors import CorpusError


def test_every_shipped_article_loads_with_its_metadata(shipped_corpus: Corpus) -> None:
    """corpus/ loads without problems, with the metadata the seeds' README gives."""
    assert shipped_corpus.problems == ()
    by_id = {a.id: a for a in shipped_corpus.articles}
    assert set(by_id) == {"seoul-mayor-hk-shenzhen-visit-2019", "hksp-shenzhen-branch-2023"}
    seoul = by_id["seoul-mayor-hk-shenzhen-visit-2019"]
    assert seoul.date == dt.date(2019, 1, 29)
    assert seoul.source == "Seoul Metropolitan Government press release"
    assert seoul.title.startswith("Seoul Mayor Park heads to Hong Kong and Shenzhen")
    hksp = by_id["hksp-shenzhen-branch-2023"]
    assert hksp.date == dt.date(2023, 9, 7)
    assert hksp.source is None  # not stated in the raw file: not invented
    assert all(a.url is None for a in shipped_corpus.articles)  # no URL is known


def test_shipped_articles_are_clean_and_verbatim(shipped_corpus: Corpus) -> None:
    """Boilerplate is gone and every body line is verbatim from the raw seed file."""
    seeds = Path(__file__).resolve().parents[3] / "shared" / "seeds"
    for article in shipped_corpus.articles:
        for junk in ("Go to Main Content", "Press Releases", "SMG 449", "•", "·"):
            assert junk not in article.body
        if not seeds.is_dir():
            continue
        raw_text = (seeds / f"{article.id}.txt").read_text(encoding="utf-8")
        # Compare modulo bullet markers and white space, the only things cleaning removed.
        raw = " ".join(raw_text.replace("•", " ").replace("·", " ").split())
        for line in article.body.split("\n"):
            assert " ".join(line.split()) in raw


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def test_front_matter_is_read(tmp_path: Path) -> None:
    """YAML front matter sets id, title, date, source, url and language."""
    write(
        tmp_path,
        "x.md",
        "---\nid: a1\ntitle: T\ndate: 2020-02-03\nsource: S\n"
        "url: https://e.org/a\nlanguage: en\n---\nBody text.\n",
    )
    (article,) = load_corpus(tmp_path).articles
    assert (article.id, article.title, article.date, article.source, article.url) == (
        "a1",
        "T",
        dt.date(2020, 2, 3),
        "S",
        "https://e.org/a",
    )
    assert article.body == "Body text."


def test_inference_without_front_matter(tmp_path: Path) -> None:
    """Title from the first heading or line, date from a 'date' line or a dateline, id from the name."""
    write(tmp_path, "one.md", "# The Title\n\nLONDON, March 3, 2021 — Something happened.\n")
    write(tmp_path, "two.txt", " date 2023-09-07 Park opens\nThe park opened on Thursday.\n")
    a, b = load_corpus(tmp_path).articles
    assert (a.id, a.title, a.date) == ("one", "The Title", dt.date(2021, 3, 3))
    assert (b.id, b.title, b.date) == ("two", "Park opens", dt.date(2023, 9, 7))
    assert b.body == "The park opened on Thursday."


def test_html_main_text_and_metadata(tmp_path: Path) -> None:
    """An HTML page yields its article text and metadata; scripts and navigation do not."""
    html = (
        "<html><head><title>Bridge opens | Daily</title>"
        '<meta property="article:published_time" content="2024-03-05">'
        '<meta property="og:url" content="https://example.org/bridge"></head><body>'
        "<nav>Home | About | Contact</nav><article><h1>Bridge opens</h1>"
        "<p>The mayor opened the new bridge on Tuesday after three years of work.</p>"
        "<p>It cost 3 million dollars, said Ann Lee, the city engineer.</p></article>"
        "<script>alert('x')</script><footer>Copyright</footer></body></html>"
    )
    write(tmp_path, "bridge.html", html)
    (article,) = load_corpus(tmp_path).articles
    assert article.title.startswith("Bridge opens")
    assert article.date == dt.date(2024, 3, 5)
    assert "opened the new bridge on Tuesday" in article.body
    assert "alert" not in article.body and "Contact" not in article.body


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.md", b"  \n", "empty"),
        ("binary.md", b"\x00\x01\x02PNG\x00", "binary"),
        ("latin1.md", "Caf\xe9 society".encode("latin-1"), "UTF-8"),
        ("badyaml.md", b"---\ntitle: [unclosed\n---\nBody\n", "YAML"),
        ("baddate.md", b"---\ntitle: T\ndate: someday\n---\nBody\n", "YYYY-MM-DD"),
        ("badurl.md", b"---\ntitle: T\nurl: javascript:alert(1)\n---\nBody\n", "url"),
        ("badid.md", b"---\nid: ../../etc/passwd\ntitle: T\n---\nBody\n", "id"),
        ("nobody.md", b"---\ntitle: T\n---\n", "body"),
    ],
)
def test_malformed_file_is_reported_and_the_rest_loads(
    tmp_path: Path, name: str, data: bytes, reason: str
) -> None:
    """A bad file is skipped with its name and reason; the good one still loads, untouched."""
    good = write(tmp_path, "good.md", "# Good\n\nA fine article.\n")
    before = good.read_bytes()
    bad = write(tmp_path, name, data)
    corpus = load_corpus(tmp_path)
    assert [a.id for a in corpus.articles] == ["good"]
    (problem,) = corpus.problems
    assert problem.path == name
    assert reason.lower() in problem.reason.lower()
    assert good.read_bytes() == before and bad.read_bytes() == data


def test_duplicate_id_keeps_the_first(tmp_path: Path) -> None:
    """Two files with one id: the first loads, the second is reported with both names."""
    write(tmp_path, "a.md", "---\nid: same\ntitle: A\n---\nFirst.\n")
    write(tmp_path, "b.md", "---\nid: same\ntitle: B\n---\nSecond.\n")
    corpus = load_corpus(tmp_path)
    assert [a.title for a in corpus.articles] == ["A"]
    assert "duplicate id 'same'" in corpus.problems[0].reason
    assert "a.md" in corpus.problems[0].reason


def test_readme_and_hidden_files_are_not_articles(tmp_path: Path) -> None:
    """README.md, dot-files and other extensions are ignored."""
    write(tmp_path, "README.md", "# About this folder\n")
    write(tmp_path, ".draft.md", "# Draft\n\nText.\n")
    write(tmp_path, "notes.json", "{}")
    assert load_corpus(tmp_path).articles == ()


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    """A corpus folder that does not exist raises a CorpusError naming it."""
    with pytest.raises(CorpusError, match="no such folder"):
        load_corpus(tmp_path / "nope")


def test_version_changes_with_content(tmp_path: Path) -> None:
    """Editing any article changes the corpus version."""
    path = write(tmp_path, "a.md", "# A\n\nOne.\n")
    v1 = load_corpus(tmp_path).version
    path.write_text("# A\n\nTwo.\n")
    assert load_corpus(tmp_path).version != v1


def test_utf16_with_bom_is_accepted() -> None:
    """A UTF-16 file with a byte-order mark decodes."""
    article, _ = parse_article("u.txt", "Title here\nBody text.".encode("utf-16"))
    assert article.title == "Title here"


def test_reload_keeps_the_previous_version_of_a_broken_file(tmp_path: Path) -> None:
    """On reload, an article whose file broke keeps serving its last good version."""
    write(tmp_path, "a.md", "# A\n\nThe bridge opened on Tuesday.\n")
    write(tmp_path, "b.md", "# B\n\nThe tunnel opened on Friday.\n")
    first = load_corpus(tmp_path)
    write(tmp_path, "b.md", b"---\ntitle: [broken\n---\nText\n")
    write(tmp_path, "c.md", b"\x00binary")
    again = load_corpus(tmp_path, previous=first)
    assert [a.id for a in again.articles] == ["a", "b"]
    assert again.get("b") == first.get("b")
    reasons = {p.path: p.reason for p in again.problems}
    assert "still serving its previous version" in reasons["b.md"]
    assert "previous version" not in reasons["c.md"]
