"""What a live panel shows about one job, as plain data: the words, the bars, the numbers, the curves.

One function writes every sentence a panel says about a run under way, so the browser's live
card (which reads it from a small file once a second, see live_feed.py) and a panel drawn by
the server say the same thing. Nothing here is per viewer: who owns the run is said by the
page ("by you" / "by Ada"), the rest is the same for the whole class.
"""

from __future__ import annotations

import time

from mnist_core.classroom.jobs import Job
from mnist_core.common.wording import count

MAX_CHART_POINTS = 240  # the per-batch loss line a card draws: plenty for a chart a few hundred pixels wide

# A job's stage as a page draws it: its buttons (Cancel, Stop, none while stopping) and the queue's
# line depend on it, so a change of stage is the one change the page itself must redraw.
STAGES = {"queued": "queued", "stopping": "stopping"}


def stage(phase: str) -> str:
    return STAGES.get(phase, "active")


def eta_text(seconds: float | None) -> str:
    if seconds is None:
        return "time left: measuring"
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"about {minutes}:{secs:02d} left, test passes included"


def thinned(points: list[tuple[float, float]], most: int = MAX_CHART_POINTS) -> list[tuple[float, float]]:
    """Every k-th point so at most ``most`` remain, the last one always kept (the line ends where the run is)."""
    if len(points) <= most:
        return list(points)
    step = -(-len(points) // most)
    kept = points[::step]
    return kept if kept[-1] == points[-1] else [*kept[:most - 1], points[-1]]


def job_view(job: Job, queue_position: int | None, max_concurrent: int, now: float | None = None) -> dict:
    """The panel's view of ``job`` now: JSON-ready, with every sentence already written."""
    now = time.time() if now is None else now
    phase = job.phase
    headline = {"stopping": "stopping…", "evaluating": f"evaluating on {job.eval_total:,} test images",
                "saving": "saving the model and its mistakes"}.get(phase, phase)
    view: dict = {"run_id": job.run_id, "phase": phase, "stage": stage(phase), "headline": headline,
                  "info": "", "bars": [], "metrics": [], "chart": None}
    if phase == "queued":
        view["info"] = (f"Waiting in the queue, place {queue_position}. This server trains "
                        f"{count(max_concurrent, 'run')} at a time and students take turns, so each student's next "
                        "run goes before anyone's second one.")
    elif phase == "loading data":
        view["bars"] = [{"fraction": job.data_fraction or 0.0, "text": job.message or "Loading MNIST"}]
    elif job.latest is not None:
        p = job.latest
        if phase == "evaluating":
            bar = {"fraction": job.eval_done / max(job.eval_total, 1),
                   "text": f"Epoch {p.epoch}/{p.epochs}: evaluating, {job.eval_done:,} of {job.eval_total:,} "
                           "test images scored"}
        elif phase == "stopping":
            bar = {"fraction": p.batch / p.batches,
                   "text": f"Epoch {p.epoch}/{p.epochs}: stopping after the current batch; the last finished "
                           "epoch is kept"}
        elif phase == "saving":
            bar = {"fraction": 1.0, "text": "Saving the model, its evaluation and its mistakes"}
        else:
            bar = {"fraction": p.batch / p.batches, "text": f"Epoch {p.epoch}/{p.epochs}: batch {p.batch}/{p.batches}"}
        done = min(((p.epoch - 1) * p.batches + p.batch) / (p.epochs * p.batches), 1.0)
        view["bars"] = [bar, {"fraction": done,
                              "text": f"Whole run: {done:.0%} of the batches, {eta_text(job.seconds_left(now))}"}]
        view["metrics"] = [["Batch loss", f"{p.loss:.4f}"], ["Train accuracy (this epoch)", f"{p.running_acc:.2f}%"],
                           ["Images / s", f"{p.images_per_s:,.0f}"], ["Learning rate", f"{p.lr:.5f}"]]
    if job.batch_losses or job.history:
        view["chart"] = {
            "epochs": job.config.epochs,
            "losses": [[round(x, 4), round(y, 5)] for x, y in thinned(job.batch_losses)],
            "history": [{key: record[key] for key in ("epoch", "train_acc", "test_acc", "train_loss", "test_loss")}
                        for record in job.history],
        }
    return view
