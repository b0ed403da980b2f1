"""The live training panel: a card per run that the browser redraws from the live feed.

Issue 12: in the browser, a Step 2 run trained at about 42 images/s with its page open (a few
thousand with none): a panel polling in the server process holds the GIL the training thread
needs. Issue 17: thirty watchers must cost the run under 5%. So the server draws the panel
once and again only when its runs change stage; the numbers move in the browser, from a
small file (live_feed.py). These tests hold what the server draws and when it polls.
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from mnist_core.classroom.jobs import Job
from mnist_core.engine.recipes import design_from_step
from mnist_core.engine.train import BatchProgress
from mnist_core.lesson.steps import get_step
from mnist_core.runs.store import RunStore
from tests.conftest import live_cards
from ui import live_card, training_panel


def _step2_panel() -> None:
    from mnist_core.lesson.steps import get_step
    from ui.training_panel import live_panel

    live_panel(get_step(2))


class _FakeManager:
    """Jobs the test changes by hand."""

    def __init__(self, *jobs: Job) -> None:
        self.jobs = list(jobs)

    def active_jobs(self) -> list[Job]:
        return [job for job in self.jobs if job.active]

    max_concurrent = 1

    def queue_position(self, run_id: str) -> int | None:
        queued = [job.run_id for job in self.jobs if job.phase == "queued"]
        return queued.index(run_id) + 1 if run_id in queued else None

    def may_manage(self, run_id: str, actor) -> bool:
        return True  # the command line's job on a server without a teacher password: anybody's to stop


def _training_job(run_id: str = "20260101-000000-step2-test") -> Job:
    job = Job(run_id, get_step(2).recipe.with_(epochs=2, train_limit=2560), phase="training")
    job.latest = BatchProgress(epoch=1, epochs=2, batch=5, batches=20, loss=0.9, running_acc=70.0, lr=0.01,
                               images_per_s=1500.0, eta_s=10.0)
    job.batch_losses = [(0.05 * i, 2.0 - 0.1 * i) for i in range(1, 6)]
    return job


@pytest.fixture()
def panel_of(monkeypatch, tmp_path):
    """Draw Step 2's panel over the given fake jobs; returns (AppTest, the fragment's run_every per draw)."""
    polls: list[float | None] = []
    real_fragment = training_panel.st.fragment

    def recording_fragment(*args, run_every=None, **kwargs):
        polls.append(run_every)
        return real_fragment(*args, run_every=run_every, **kwargs)

    monkeypatch.setattr(training_panel.st, "fragment", recording_fragment)
    monkeypatch.setattr(training_panel, "run_store", lambda: RunStore(tmp_path / "runs"))

    def draw(*jobs: Job, script=_step2_panel):
        monkeypatch.setattr(training_panel, "job_manager", lambda: _FakeManager(*jobs))
        at = AppTest.from_function(script, default_timeout=60)
        at.run()
        assert not at.exception
        return at, polls

    return draw


def test_a_training_run_is_one_card_the_browser_redraws_from_the_feed_and_the_server_does_not_poll(panel_of):
    job = _training_job()
    at, polls = panel_of(job)
    (card,) = live_cards(at)
    view = card["view"]
    assert view["run_id"] == job.run_id and view["headline"] == "training"
    assert [bar["text"] for bar in view["bars"]][0] == "Epoch 1/2: batch 5/20"
    assert ["Batch loss", "0.9000"] in view["metrics"] and card["who"] == "the command line"
    assert card["feed"].endswith("/step-2.json") and card["feed"].startswith("/app/static/live/")
    assert card["watch"] is True and card["signature"] == f"{job.run_id}:active"
    assert polls == [None]  # the feed moves the card: no server redraw once a second
    assert [b.label for b in at.button] == ["Stop"]


def test_without_a_feed_the_panel_polls_the_server_once_a_second(panel_of, monkeypatch):
    monkeypatch.setattr(live_card.st, "get_option", lambda name: False if name == "server.enableStaticServing"
                        else "")
    at, polls = panel_of(_training_job())
    (card,) = live_cards(at)
    assert card["feed"] is None and card["view"]["bars"][0]["text"] == "Epoch 1/2: batch 5/20"
    assert polls == [training_panel.POLL_S] and training_panel.POLL_S >= 1.0


def test_a_card_that_cannot_read_its_feed_turns_polling_on_for_this_browser(panel_of):
    at, polls = panel_of(_training_job())
    at.session_state[live_card.FEED_MISSING] = True  # what the card's feed_missing trigger sets
    at.run()
    assert polls[-1] == training_panel.POLL_S and live_cards(at)[0]["feed"] is None


def test_only_other_students_waiting_runs_are_a_line_and_the_panel_polls_for_them(panel_of):
    """No card watches the feed then, so the server keeps the queue's line current itself."""
    waiting = _training_job("20260101-000001-step2-other")
    waiting.phase, waiting.owner, waiting.owner_name = "queued", "someone-else", "Bob"
    at, polls = panel_of(waiting)
    assert live_cards(at) == [] and any("Also waiting: Bob (place 1)" in c.value for c in at.caption)
    assert polls == [training_panel.POLL_S]


def test_a_run_that_ended_reruns_the_page_once_with_it_selected(panel_of, monkeypatch):
    job = _training_job()
    job.config = job.config.with_(design=design_from_step(5).to_json())

    def designs_panel() -> None:
        from ui.training_panel import live_panel

        live_panel(None, key="rf_design")

    at, _ = panel_of(job, script=designs_panel)  # live_panel(None) follows design runs, without a step
    (card,) = live_cards(at)
    assert card["feed"].endswith("/designs.json")
    job.phase = "finished"  # it ended (the card's "changed" trigger reruns the panel): one full rerun
    at.run()
    assert not at.exception
    assert at.session_state["rf_design_select_next"] == job.run_id
