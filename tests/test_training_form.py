"""The training form: it remembers each person's choices across a reload, shows the run's estimated duration
before Start, and asks once before queueing a run estimated over ten minutes (issue 29: after a reload it
was back on 15 epochs of 60,000 images, and one stray Start queued a run of over an hour)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from mnist_core.classroom import duration
from mnist_core.classroom.duration import (
    LONG_RUN_S,
    Speed,
    duration_words,
    estimate_seconds,
    images_per_epoch,
    measure_speed,
    speed_from_runs,
)
from mnist_core.engine.config import TrainConfig
from mnist_core.engine.distillation import load_teacher
from mnist_core.lesson.presets import class_run_figures, preset_recipe
from mnist_core.lesson.report import shipped_run
from mnist_core.runs.store import Run, RunStore
from tests.test_classroom_pages import held  # noqa: F401  (the fixture: jobs that wait, never train)

ROOT = Path(__file__).resolve().parent.parent
ME = "form-student-secret-0123456789"


def open_step(secret: str, number: int = 2) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["me"] = secret
    at.switch_page(f"pages/step_{number}.py").run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize(("config", "images"), [
    (TrainConfig(step=2), 60_000 + 10_000 / 3),
    (TrainConfig(step=2, train_limit=2_560, test_limit=2_000), 2_560 + 2_000 / 3),
])
def test_an_epoch_costs_its_training_images_and_a_third_of_its_test_images(config, images):
    assert images_per_epoch(config) == pytest.approx(images)


def test_the_speed_comes_from_finished_runs_of_the_same_network_on_this_device(tmp_path):
    def run(run_id, config, seconds, state="finished", device="CPU (2 threads)"):
        history = [{"epoch": e + 1, "seconds": s} for e, s in enumerate(seconds)]
        return Run(run_id, tmp_path / run_id, config, {"state": state, "device": device}, history)

    small = TrainConfig(step=2, train_limit=2_560, test_limit=2_000)  # 3,226.67 image units an epoch
    runs = [run("a", small, [3.0, 5.0]),  # 8 s for 6,453.3 units
            run("b", small, [99.0], device="CUDA"),  # another device
            run("c", TrainConfig(step=4), [99.0]),  # another network
            run("d", small, [99.0], state="stopped"),  # its last epoch may be cut short
            run("e", small.with_(distill_from=4), [99.0])]  # taught: a teacher's answers cost time too
    speed = speed_from_runs(TrainConfig(step=2), runs, "CPU (2 threads)")
    assert speed.seconds_per_image == pytest.approx(8.0 / (2 * (2_560 + 2_000 / 3)))
    assert "1 finished run " in speed.source
    # 15 epochs of the whole set at that speed
    assert estimate_seconds(TrainConfig(step=2), speed) == pytest.approx(15 * (60_000 + 10_000 / 3) * 8.0 / 6_453.333)
    assert speed_from_runs(TrainConfig(step=3), runs, "CPU (2 threads)") is None
    taught = speed_from_runs(TrainConfig(step=2, distill_from=4), runs, "CPU (2 threads)")
    assert taught.seconds_per_image == pytest.approx(99.0 / (2_560 + 2_000 / 3))


def test_a_taught_network_is_timed_with_its_teachers_answers():
    """Step 6 learning from Step 4 pays for Step 4's forward pass on every batch: the estimate must see it."""
    alone, taught = TrainConfig(step=6, device="cpu"), TrainConfig(step=6, device="cpu", distill_from=4)
    calls = []
    teacher = load_teacher(4, torch.device("cpu"))
    teacher.register_forward_hook(lambda *_: calls.append(1))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(duration, "load_teacher", lambda step, device: teacher)
        measure_speed(alone, batches=1)
        assert not calls
        measure_speed(taught, batches=1)
    assert len(calls) == 2  # the warm-up batch and the timed one


@pytest.mark.parametrize(("seconds", "words"), [(40, "about 40 s"), (360, "about 6 min"), (4_800, "about 1 h 20 min")])
def test_durations_read_as_a_person_says_them(seconds, words):
    assert duration_words(seconds) == words


def test_a_reload_keeps_each_students_own_choices(held, runs_dir):  # noqa: F811
    at = open_step(ME)
    at.number_input(key="step2_epochs").set_value(2)
    at.selectbox(key="step2_images").set_value(2_560).run()
    assert not at.exception
    again = open_step(ME)  # a reload: a new session on the same address
    assert again.number_input(key="step2_epochs").value == 2
    assert again.selectbox(key="step2_images").value == 2_560
    other = open_step("another-student-secret-0123")  # somebody else starts from the step's recipe
    assert other.number_input(key="step2_epochs").value == 15


def test_the_estimate_is_shown_before_start_and_a_long_run_asks_once(held, runs_dir, monkeypatch):  # noqa: F811
    from ui import training_panel

    monkeypatch.setattr(training_panel, "_speed", lambda config: Speed(0.001, "a test's own speed"))
    at = open_step(ME)
    at.number_input(key="step2_epochs").set_value(15)
    at.selectbox(key="step2_images").set_value(60_000).run()
    long_run = estimate_seconds(TrainConfig(step=2), Speed(0.001, ""))
    assert long_run > LONG_RUN_S
    assert any(f"Estimated duration: **{duration_words(long_run)}**" in c.value for c in at.caption)
    at.button(key="step2_train").click().run()
    assert RunStore(runs_dir).list() == []  # not queued yet: asked first
    assert any("over 10 minutes" in w.value for w in at.warning)
    at.button(key="step2_train_long").click().run()
    assert not at.exception
    assert len(RunStore(runs_dir).list()) == 1 and RunStore(runs_dir).list()[0].config.epochs == 15
    # A short run starts at once.
    at.number_input(key="step2_epochs").set_value(1)
    at.selectbox(key="step2_images").set_value(2_560).run()
    at.button(key="step2_train").click().run()
    assert len(RunStore(runs_dir).list()) == 2


def test_the_run_lengths_fill_the_form_and_a_class_run_is_the_steps_class_preset(held, runs_dir):  # noqa: F811
    """Step 4 offers its lesson run, class run and demo, each with its time here; the class run's figures are the
    measured ones (assets/class-runs), and Start queues exactly the class preset: the schedule compressed."""
    at = open_step(ME, number=4)
    picker = at.segmented_control(key="step4_preset")
    assert picker.value == "demo"  # this server's default is 2,560 images an epoch (MNIST_DEMO_TRAIN_LIMIT): the demo
    words = " ".join(c.value for c in at.caption)
    figures = class_run_figures(4)
    assert figures is not None and f"about {figures.mean_final_test_acc:.1f}% on average over seeds 1, 2, 3" in words
    assert "**Class run**: 1 epoch" in words and "**Quick demo**: 15 epochs of 2,560 images" in words
    assert f"{shipped_run(4).history[-1]['test_acc']:.2f}% (the shipped run)" in words  # the page's own shipped run

    picker.set_value("class").run()
    assert not at.exception
    assert (at.number_input(key="step4_epochs").value, at.selectbox(key="step4_images").value) == (1, 60_000)
    assert at.segmented_control(key="step4_preset").value == "class"
    at.button(key="step4_train").click().run()
    [run] = RunStore(runs_dir).list()
    assert run.config == preset_recipe(4, "class")  # StepLR's cuts after a third and two thirds of the one epoch

    at.number_input(key="step4_epochs").set_value(2).run()  # changed by hand: no preset is lit any more
    assert at.segmented_control(key="step4_preset").value is None
    at.segmented_control(key="step4_preset").set_value("demo").run()
    assert (at.number_input(key="step4_epochs").value, at.selectbox(key="step4_images").value) == (15, 2_560)
