"""The reproduce table: our shipped runs beside the source lesson's published numbers (where it has some)."""

from __future__ import annotations

from pathlib import Path

from mnist_core.lesson.report import shipped_run, summarize
from mnist_core.lesson.steps import STEPS
from mnist_core.runs.store import write_json


def results_rows() -> list[dict]:
    """One row per step that has a shipped run."""
    rows = []
    for number, step in STEPS.items():
        run = shipped_run(number)
        summary = summarize(run.history) if run else None
        if summary is None:
            continue
        rows.append({
            "step": number,
            "title": step.title,
            "params": run.status.get("params"),
            "source_best_test_acc": step.source.best_test_acc if step.source else None,
            "best_test_acc": round(summary.best_test_acc, 2),
            "best_epoch": summary.best_epoch,
            "final_test_acc": round(summary.final_test_acc, 2),
            "best_train_acc": round(summary.best_train_acc, 2),
            "epochs": summary.epochs,
            "seconds_per_epoch": round(summary.seconds_per_epoch, 1),
            "device": run.status.get("device", "?"),
        })
    return rows


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}%"  # Step 5 has no source lesson to quote


def results_markdown(rows: list[dict]) -> str:
    lines = [
        "| step | params | source's best test | our best test (epoch) | our final test | our best train "
        "| s / epoch | device |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['step']} {r['title']} | {r['params']:,} | {_percent(r['source_best_test_acc'])} "
            f"| {r['best_test_acc']:.2f}% ({r['best_epoch']}) | **{r['final_test_acc']:.2f}%** "
            f"| {r['best_train_acc']:.2f}% | {r['seconds_per_epoch']:.1f} | {r['device']} |"
        )
    return "\n".join(lines) + "\n"


def write_results(folder: Path) -> tuple[Path, Path]:
    rows = results_rows()
    md_path, json_path = folder / "results.md", folder / "results.json"
    md_path.write_text(results_markdown(rows))
    write_json(json_path, rows)
    return md_path, json_path
