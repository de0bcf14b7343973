"""The evaluation harness on a tiny bench directory made here."""

import json
import math
from pathlib import Path

import numpy as np

from bot.knowledge.decision import Thresholds
from bot.knowledge.evaluation import auroc, evaluate, load_bench_dir, report_dict

KB = [
    {
        "id": "delivery",
        "title": "Delivery",
        "lang": "en",
        "examples": ["where is my order", "track my parcel"],
    },
    {
        "id": "refund",
        "title": "Refund",
        "lang": "en",
        "examples": ["i want my money back", "refund please"],
    },
]
TEST = [
    {"id": "t1", "text": "where is my parcel", "expected_id": "delivery", "lang": "en"},
    {"id": "t2", "text": "money back", "expected_id": "refund", "lang": "en"},
    {"id": "t3", "text": "what is the weather in paris", "expected_id": None, "lang": "en"},
]
VAL = [
    {"id": "v1", "text": "track my order", "expected_id": "delivery", "lang": "en"},
    {"id": "v2", "text": "give me a refund", "expected_id": "refund", "lang": "en"},
    {"id": "v3", "text": "sing me a song", "expected_id": None, "lang": "en"},
]


def write(folder: Path, with_val: bool) -> Path:
    folder.mkdir()
    for name, rows in (("kb", KB), ("queries", TEST)) + (
        (("queries_val", VAL),) if with_val else ()
    ):
        (folder / f"{name}.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return folder


def test_load_bench_dir(tmp_path: Path) -> None:
    articles, queries, val = load_bench_dir(write(tmp_path / "b", with_val=False))
    assert [a.id for a in articles] == ["delivery", "refund"]
    assert articles[0].questions == ("where is my order", "track my parcel")
    assert [q.expected_id for q in queries] == ["delivery", "refund", None]
    assert val is None


def test_evaluate_tunes_on_val_and_reports_json(tmp_path: Path) -> None:
    data = report_dict(write(tmp_path / "b", with_val=True))
    assert json.loads(json.dumps(data)) == data
    for key in ("in_scope_top1", "oos_recall", "oos_precision", "p50_ms", "p99_ms", "thresholds"):
        assert key in data
    assert data["in_scope_top1"] == 1.0 and data["oos_recall"] == 1.0


def test_evaluate_without_val_uses_given_thresholds(tmp_path: Path) -> None:
    never = Thresholds(answer=2.0, choices=2.0, margin=0.0)
    report = evaluate(write(tmp_path / "b", with_val=False), never)
    assert report.thresholds == never
    assert report.in_scope_top1 == 0.0 and report.oos_recall == 1.0
    assert report.never_reject == 1.0


def test_auroc() -> None:
    assert auroc(np.array([0.9, 0.8]), np.array([0.1, 0.2])) == 1.0
    assert auroc(np.array([0.1]), np.array([0.9])) == 0.0
    assert auroc(np.array([0.5, 0.5]), np.array([0.5])) == 0.5
    assert math.isnan(auroc(np.array([]), np.array([0.5])))
