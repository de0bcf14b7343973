"""Checks across articles: each problem names its file and line (and the other file involved)."""

from __future__ import annotations

from pathlib import Path

from bot.knowledge.documents import KbProblem
from bot.knowledge.lint import exit_code, format_problems, has_errors, lint
from bot.knowledge.loader import load_folder


def article(
    id: str,
    lang: str = "en",
    questions: tuple[str, ...] = (),
    buttons: tuple[str, ...] = (),
    translations: tuple[str, ...] = (),
) -> str:
    """An article with fixed lines: id on 2, questions from 6, then buttons, then translations."""
    lines = ["---", f"id: {id}", f"title: Title of {id}", f"lang: {lang}", "questions:"]
    lines += [f"  - {question}" for question in questions or (f"question about {id}",)]
    if buttons:
        lines += ["buttons:", *(f"  - {button}" for button in buttons)]
    if translations:
        lines += ["translations:", *(f"  - {other}" for other in translations)]
    return "\n".join([*lines, "---", f"The answer about {id}.", ""])


def check(tmp_path: Path, files: dict[str, str]) -> list[KbProblem]:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return lint(load_folder(tmp_path))


def where(problem: KbProblem, root: Path) -> tuple[str, int | None, str]:
    return (problem.path.relative_to(root).as_posix(), problem.line, problem.severity)


def test_a_clean_knowledge_base_has_no_problems(tmp_path: Path) -> None:
    problems = check(
        tmp_path,
        {
            "en/a.md": article("a", buttons=("{text: See b, article: b}",), translations=("a-ru",)),
            "en/b.md": article("b"),
            "ru/a.md": article("a-ru", "ru", translations=("a",)),
        },
    )
    assert problems == []
    assert format_problems(problems) == "knowledge base: no problems found"
    assert exit_code(problems) == 0


def test_a_duplicate_id_names_both_files(tmp_path: Path) -> None:
    problems = check(tmp_path, {"en/a.md": article("same"), "en/b.md": article("same")})

    [problem] = problems
    assert where(problem, tmp_path) == ("en/b.md", 2, "error")
    assert f"{(tmp_path / 'en' / 'a.md').as_posix()}:2" in problem.message
    assert "`same`" in problem.message


def test_missing_fields_come_through_with_their_file(tmp_path: Path) -> None:
    text = article("a").replace("title: Title of a\n", "")
    problems = check(tmp_path, {"en/a.md": text, "en/b.md": article("b")})

    [problem] = problems
    assert where(problem, tmp_path) == ("en/a.md", 1, "error")
    assert "missing `title`" in problem.message


def test_the_same_question_in_two_articles(tmp_path: Path) -> None:
    problems = check(
        tmp_path,
        {
            "en/a.md": article("a", questions=("first", "Where is my order?")),
            "en/b.md": article("b", questions=("something", "where  is my ORDER")),
        },
    )

    [problem] = problems
    assert where(problem, tmp_path) == ("en/b.md", 7, "error")
    assert "also in `a`" in problem.message
    assert f"{(tmp_path / 'en' / 'a.md').as_posix()}:7" in problem.message


def test_the_same_words_in_two_languages_are_fine(tmp_path: Path) -> None:
    problems = check(
        tmp_path,
        {
            "en/a.md": article("a", questions=("paypal",)),
            "ru/a.md": article("a-ru", "ru", questions=("PayPal",)),
        },
    )
    assert problems == []


def test_a_button_to_an_unknown_article(tmp_path: Path) -> None:
    button = "{text: Delivery costs, article: delivery-costs}"
    problems = check(
        tmp_path, {"en/a.md": article("a", buttons=("{text: Ok, article: a}", button))}
    )

    [problem] = problems
    assert where(problem, tmp_path) == ("en/a.md", 9, "error")
    assert "`delivery-costs`, but no article has that id" in problem.message


def test_a_button_to_another_language_is_a_warning(tmp_path: Path) -> None:
    problems = check(
        tmp_path,
        {
            "en/a.md": article("a", buttons=("{text: Russian, article: b-ru}",)),
            "ru/b.md": article("b-ru", "ru"),
        },
    )

    [problem] = problems
    assert where(problem, tmp_path) == ("en/a.md", 8, "warning")
    assert "in `ru`, not `en`" in problem.message


def test_a_translation_to_an_unknown_id(tmp_path: Path) -> None:
    problems = check(tmp_path, {"en/a.md": article("a", translations=("a-ru",))})

    [problem] = problems
    assert where(problem, tmp_path) == ("en/a.md", 8, "error")
    assert "translation `a-ru`: no article has that id" in problem.message


def test_a_translation_in_the_same_language(tmp_path: Path) -> None:
    problems = check(
        tmp_path,
        {
            "en/a.md": article("a", translations=("b",)),
            "en/b.md": article("b", translations=("a",)),
        },
    )

    assert [where(problem, tmp_path) for problem in problems] == [
        ("en/a.md", 8, "error"),
        ("en/b.md", 8, "error"),
    ]
    assert "is in `en` too" in problems[0].message


def test_a_one_way_translation_is_a_warning(tmp_path: Path) -> None:
    problems = check(
        tmp_path,
        {
            "en/a.md": article("a", translations=("a-ru",)),
            "ru/a.md": article("a-ru", "ru"),
        },
    )

    [problem] = problems
    assert where(problem, tmp_path) == ("en/a.md", 8, "warning")
    assert "`a-ru`" in problem.message and "does not list `a`" in problem.message
    assert exit_code(problems) == 0


def test_two_translations_in_one_language_is_a_warning(tmp_path: Path) -> None:
    problems = check(
        tmp_path,
        {
            "en/a.md": article("a", translations=("a-ru", "a-ru2")),
            "ru/a.md": article("a-ru", "ru", translations=("a",)),
            "ru/a2.md": article("a-ru2", "ru", questions=("другое",), translations=("a",)),
        },
    )

    [problem] = problems
    assert where(problem, tmp_path) == ("en/a.md", 9, "warning")
    assert "both `ru` versions" in problem.message


def test_problems_are_sorted_and_counted(tmp_path: Path) -> None:
    problems = check(
        tmp_path,
        {
            "en/b.md": article("b", translations=("nowhere",)),
            "en/a.md": "no front matter",
            "ru/c.md": article("c", "en"),  # folder says ru: a warning
        },
    )

    assert [where(problem, tmp_path) for problem in problems] == [
        ("en/a.md", 1, "error"),
        ("en/b.md", 8, "error"),
        ("ru/c.md", 4, "warning"),
    ]
    report = format_problems(problems).splitlines()
    assert report[0].startswith(f"{(tmp_path / 'en' / 'a.md').as_posix()}:1: error: ")
    assert report[-1] == "2 errors, 1 warning"
    assert has_errors(problems) and exit_code(problems) == 1


def test_warnings_alone_exit_zero() -> None:
    warning = KbProblem(Path("kb/a.md"), 3, None, "odd", "warning")
    assert exit_code([warning]) == 0
    assert format_problems([warning]) == "kb/a.md:3: warning: odd\n0 errors, 1 warning"


def test_a_link_to_a_broken_file_says_it_may_not_have_loaded(tmp_path: Path) -> None:
    problems = check(
        tmp_path,
        {
            "en/a.md": article("a", buttons=("{text: See b, article: b}",)),
            "en/b.md": article("b").replace("title: Title of b", "title: [broken"),
        },
    )

    assert [where(problem, tmp_path) for problem in problems] == [
        ("en/a.md", 8, "error"),
        ("en/b.md", 3, "error"),
    ]
    assert problems[0].message.endswith("but no loaded article has that id")
    assert "needs quotes" in problems[1].message
