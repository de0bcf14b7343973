"""`nudge kb check | ask | eval`: the knowledge base from the command line."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bot.config import Settings
from bot.conversation.language import choose_language
from bot.knowledge.decision import field_offset
from bot.knowledge.embeddings import EmbeddingsUnavailable, load_embedder
from bot.knowledge.lint import exit_code, format_problems, lint
from bot.knowledge.loader import load_folder
from bot.knowledge.setup import configured_knowledge_base, configured_thresholds


def add_kb_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    kb = commands.add_parser("kb", help="knowledge base: check, ask, eval")
    kb_commands = kb.add_subparsers(dest="kb_command", metavar="KB_COMMAND", required=True)
    check = kb_commands.add_parser("check", help="lint the articles (file:line: problem)")
    check.add_argument("folder", nargs="?", type=Path, help="default: knowledge.folder")
    ask = kb_commands.add_parser("ask", help="show the ranking and the decision for a question")
    ask.add_argument("text")
    ask.add_argument("--lang", help="the customer's language (default: from the text)")
    evaluate = kb_commands.add_parser(
        "eval", help="accuracy and latency on a benchmark folder (kb.jsonl, queries.jsonl)"
    )
    evaluate.add_argument("folder", type=Path)
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.add_argument(
        "--embeddings",
        choices=("none", "wordllama"),
        help="rank with the sentence-embedding view or without (default: knowledge.embeddings)",
    )


def run_kb_command(args: argparse.Namespace, settings: Settings) -> int:
    if args.kb_command == "check":
        return _check(args.folder or Path(settings.knowledge.folder))
    if args.kb_command == "ask":
        return _ask(args.text, args.lang, settings)
    return _eval(args.folder, settings, as_json=args.json, embeddings=args.embeddings)


def _check(folder: Path) -> int:
    if not folder.is_dir():
        print(f"{folder}: no such folder (knowledge.folder)")
        return 1
    problems = lint(load_folder(folder))
    print(format_problems(problems) if problems else f"{folder}: no problems")
    return exit_code(problems)


def _ask(text: str, lang: str | None, settings: Settings) -> int:
    result = load_folder(Path(settings.knowledge.folder))
    knowledge = configured_knowledge_base(settings.knowledge)
    knowledge.load(result.documents)
    language = lang or choose_language(text, None, settings.bot.default_language)
    answer = knowledge.ask(text, language, configured_thresholds(settings.knowledge))
    print(f"language: {language}   articles: {len(knowledge)}   ranking: {knowledge.ranking}")
    for rank, match in enumerate(answer.matches, start=1):
        document = knowledge.document(match.article_id)
        title = document.title if document else "?"
        print(f"{rank:>2}. {match.score:6.3f}  {match.article_id:<28} {title}")
    offset = field_offset(answer.matches)
    print(f"field: scores are compared less {offset:.3f} (half the mean of the next ten)")
    chosen = ", ".join(d.id for d in answer.documents) or "-"
    note = f" (article in {answer.fallback_language})" if answer.fallback_language else ""
    print(f"decision: {answer.kind.value} -> {chosen}{note}")
    return 0


def _eval(folder: Path, settings: Settings, *, as_json: bool, embeddings: str | None) -> int:
    from bot.knowledge.evaluation import evaluate

    if not (folder / "kb.jsonl").is_file() or not (folder / "queries.jsonl").is_file():
        print(f"{folder}: expected kb.jsonl and queries.jsonl (see bench/README.md)")
        return 1
    config = settings.knowledge
    if embeddings is not None and embeddings != config.embeddings:
        # Thresholds from config.yaml belong to its own ranking: the other gets its defaults.
        config = config.model_copy(
            update={"embeddings": embeddings, "answer_threshold": None, "choices_threshold": None}
        )
    try:
        embedder = load_embedder(config.embeddings)
    except EmbeddingsUnavailable as exc:
        print(f"nudge kb eval: {exc}")
        return 2
    tuned = (folder / "queries_val.jsonl").is_file()
    report = evaluate(folder, None if tuned else configured_thresholds(config), embedder=embedder)
    data = report.as_dict()
    if as_json:
        print(json.dumps({key: data[key] for key in _JSON_KEYS} | data))
        return 0
    source = "tuned on queries_val.jsonl" if tuned else "from config.yaml"
    print(f"{folder}: {report.n_in_scope} in-scope + {report.n_oos} out-of-scope questions")
    print(f"  in-scope top-1      {report.in_scope_top1:7.1%}")
    print(f"  out-of-scope recall {report.oos_recall:7.1%}   precision {report.oos_precision:.1%}")
    print(f"  never reject        {report.never_reject:7.1%}   AUROC {report.auroc:.3f}")
    print(f"  latency per question p50 {report.p50_ms:.2f} ms, p99 {report.p99_ms:.2f} ms")
    print(f"  thresholds ({source}): {data['thresholds']}")
    print(f"  embeddings          {config.embeddings}")
    return 0


_JSON_KEYS = ("in_scope_top1", "oos_recall", "oos_precision", "p50_ms", "p99_ms", "thresholds")
