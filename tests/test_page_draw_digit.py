"""AppTest of pages/draw_digit.py: the model choice, a drawing injected through session state, Clear, uploads."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from mnist_core.engine.checkpoints import save_checkpoint
from mnist_core.engine.config import TrainConfig
from mnist_core.engine.models import LessonNet
from mnist_core.engine.recipes import build_network
from mnist_core.explain.inference import predict, preprocess
from mnist_core.lesson import report
from mnist_core.lesson.steps import get_step
from mnist_core.runs.store import RunStore, update_status, write_history, write_json
from tests.conftest import use_assets
from tests.test_inference import SEVEN, canvas_drawing, decisive_untrained_model

ROOT = Path(__file__).resolve().parent.parent
PAGE = "pages/draw_digit.py"


def _png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def _canvas_state(rgba: np.ndarray) -> dict:
    """What the canvas component sends after a stroke (see TESTING.md)."""
    data_url = "data:image/png;base64," + base64.b64encode(_png(rgba)).decode()
    return {"drawing": {"raw": {"objects": [{"type": "Path"}], "background": "#000000"}, "data": data_url},
            "backgroundFit": None}


@pytest.fixture()
def model():
    return decisive_untrained_model()


@pytest.fixture()
def checkpoints(tmp_path, runs_dir, monkeypatch, model):
    """A shipped Step 4 checkpoint in a temporary assets folder, one finished user run and one failed run."""
    use_assets(monkeypatch, tmp_path / "assets")
    save_checkpoint(report.shipped_run_path(4) / "model.pt", model, TrainConfig(step=4))
    store = RunStore()
    finished = store.create(TrainConfig(step=2, epochs=1), label="my BatchNorm run")
    save_checkpoint(finished.checkpoint, LessonNet(), TrainConfig(step=2, epochs=1))
    # A finished run has its epoch and its evaluation (without them the run reads as damaged).
    write_history(finished.path, [{"epoch": 1, "train_loss": 0.2, "train_acc": 95.0, "test_loss": 0.1,
                                   "test_acc": 97.0, "lr": 0.01, "seconds": 9.0}])
    write_json(finished.path / "evaluation.json", {"test_loss": 0.1, "test_acc": 97.0, "correct": 9700,
                                                   "total": 10000, "confusion": [[0] * 10 for _ in range(10)]})
    update_status(finished.path, state="finished")
    failed = store.create(TrainConfig(step=3), label="my broken run")
    update_status(failed.path, state="failed")
    return model


def _page() -> AppTest:
    # app.py is the router; if a page it lists is missing while others are still being written, test ours alone.
    try:
        at = AppTest.from_file(ROOT / "app.py", default_timeout=30).run()
        assert not at.exception
        return at.switch_page(PAGE)
    except AssertionError:
        return AppTest.from_file(ROOT / PAGE, default_timeout=30)


def _texts(at: AppTest) -> str:
    return " ".join(e.value for kind in ("info", "warning", "error", "markdown", "caption") for e in at.get(kind))


def test_blank_canvas_says_draw_a_digit_and_offers_every_finished_model(checkpoints):
    at = _page().run()
    assert not at.exception
    assert "draw a digit" in _texts(at)
    assert not at.get("metric")  # no prediction without a drawing
    model_box = at.selectbox(key="draw_model")
    assert model_box.value.startswith("Step 4")
    assert any("my BatchNorm run" in option for option in model_box.options)
    assert not any("my broken run" in option for option in model_box.options)


def test_a_drawing_gets_a_prediction_chart_pipeline_and_saliency(checkpoints):
    drawing = canvas_drawing(SEVEN, 150, 140, 110)
    at = _page()
    at.session_state["draw_canvas_0"] = _canvas_state(drawing)
    at.run()
    assert not at.exception
    expected = predict(checkpoints, preprocess(drawing))
    assert at.get("metric")[0].value == str(expected.digit)
    charts = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    bars = next(c for c in charts if c["data"][0]["type"] == "bar")
    assert sum(bars["data"][0]["y"]) == pytest.approx(100, abs=0.01)
    assert bars["data"][0]["y"] == pytest.approx(list(expected.probabilities * 100), abs=1e-3)
    assert any(c["data"][0]["type"] == "heatmap" for c in charts)  # the saliency map
    assert len(at.get("image")) == 5  # the five pipeline stages
    assert any("stroke" in c and "wide at 20 px" in c for image in at.get("image") for c in image.captions)
    assert "What the model saw" in [h.value for h in at.subheader]
    # The untrained model is never sure of anything (top probability about 0.2): the page says so, with the top two.
    assert expected.unsure
    (first, _), (second, _) = expected.top_two
    assert any("unsure" in w.value and f"**{first}**" in w.value and f"**{second}**" in w.value for w in at.warning)


def test_a_users_run_can_be_chosen_as_the_model(checkpoints):
    at = _page()
    at.session_state["draw_canvas_0"] = _canvas_state(canvas_drawing(SEVEN, 150, 140, 110))
    at.run()
    model_box = at.selectbox(key="draw_model")
    at = model_box.select(next(o for o in model_box.options if "my BatchNorm run" in o)).run()
    assert not at.exception
    assert at.get("metric") and at.get("plotly_chart")


def test_clear_empties_the_canvas(checkpoints):
    at = _page()
    at.session_state["draw_canvas_0"] = _canvas_state(canvas_drawing(SEVEN, 20, 20, 200))
    at.run()
    assert at.get("metric")
    at.button(key="draw_clear").click().run()
    assert not at.exception
    assert not at.get("metric")
    assert "draw a digit" in _texts(at)


def test_an_uploaded_photo_is_classified_like_a_drawing(checkpoints):
    photo = 255 - canvas_drawing(SEVEN, 60, 40, 150)[:, :, :3]  # dark ink on white paper
    at = _page().run()
    at.file_uploader(key="draw_upload").set_value(("seven.png", _png(photo), "image/png")).run()
    assert not at.exception
    expected = predict(checkpoints, preprocess(photo))
    assert [m.value for m in at.get("metric")] == [str(expected.digit)]


@pytest.mark.parametrize("name, data, message", [
    ("notes.png", b"this is not a picture\n", "not an image"),
    ("empty.png", b"", "empty"),
])
def test_a_bad_upload_gets_a_message_not_a_traceback(checkpoints, name, data, message):
    at = _page().run()
    at.file_uploader(key="draw_upload").set_value((name, data, "image/png")).run()
    assert not at.exception
    assert any(name in e.value and message in e.value for e in at.error)


def test_without_any_checkpoint_the_page_says_how_to_make_one(tmp_path, runs_dir, monkeypatch):
    use_assets(monkeypatch, tmp_path / "no-assets")
    at = _page().run()
    assert not at.exception
    assert any("reproduce" in w.value for w in at.warning)


@pytest.mark.parametrize("name, data, message", [
    ("notes.txt", b"a shopping list, not a picture\n", "not an image"),
    ("tiny.png", _png(np.array([[0, 255, 255, 0]] * 4, dtype=np.uint8)), "only 4x4 pixels"),
])
def test_a_wrong_file_type_or_a_tiny_picture_says_what_is_wrong_and_what_works(checkpoints, name, data, message):
    at = _page().run()
    at.file_uploader(key="draw_upload").set_value((name, data, "application/octet-stream")).run()
    assert not at.exception
    (error,) = at.error
    assert name in error.value and message in error.value and "PNG or JPEG" in error.value


def test_a_thin_one_shows_every_pipeline_stage(checkpoints):
    one = canvas_drawing([(0.5, 0.0), (0.5, 1.0)], left=100, top=20, size=220, width=14)  # a tall thin 1
    at = _page()
    at.session_state["draw_canvas_0"] = _canvas_state(one)
    at.run()
    assert not at.exception
    assert len(at.get("image")) == 5  # each drawn in the same square box (tests/test_pixel_box.py)


def _play(at: AppTest, drawings: dict[int, np.ndarray]) -> AppTest:
    """Answer the challenge's ten questions with the drawing given for each digit asked."""
    for _ in range(10):
        asked = at.session_state["challenge"].asked
        at.session_state[f"challenge_canvas_{at.session_state['challenge_round']}"] = _canvas_state(drawings[asked])
        at.run()
        assert not at.button(key="challenge_submit").disabled
        at.button(key="challenge_submit").click().run()
        assert not at.exception
    return at


def test_the_challenge_asks_ten_digits_scores_them_and_shows_the_misses(checkpoints):
    at = _page().run()
    assert not at.exception
    at.button(key="challenge_start").click().run()
    challenge = at.session_state["challenge"]
    assert sorted(challenge.order) == list(range(10)) and challenge.model_label.startswith("Step 4")
    assert any(f"Draw a **{challenge.asked}**" in m.value for m in at.markdown)
    assert at.button(key="challenge_submit").disabled  # nothing drawn yet: nothing to submit

    # The same 7 for every digit: the model gives it one answer, so exactly one of the ten is right at most.
    seven = canvas_drawing(SEVEN, 60, 40, 150)
    read = predict(checkpoints, preprocess(seven)).digit
    at = _play(at, {digit: seven for digit in range(10)})
    done = at.session_state["challenge"]
    assert done.finished and done.score == 1
    assert [m.value for m in at.get("metric")] == ["1 / 10"]
    captions = [c for image in at.get("image") for c in image.captions if "you drew" in c]
    assert len(captions) == 9 and all(f"it read {read}" in c for c in captions)
    assert f"you drew {read}," not in " ".join(captions)

    at.button(key="challenge_again").click().run()
    assert not at.exception
    assert at.session_state["challenge"].answers == ()
    assert not at.get("metric")


def test_the_challenge_runs_against_the_model_chosen_at_the_top(checkpoints):
    at = _page().run()
    model_box = at.selectbox(key="draw_model")
    label = next(o for o in model_box.options if "my BatchNorm run" in o)
    at = model_box.select(label).run()
    at.button(key="challenge_start").click().run()
    assert not at.exception
    assert at.session_state["challenge"].model_label == label
    assert any(label in m.value for m in at.markdown)


def test_a_prediction_offers_the_inside_view_only_once_that_page_exists(checkpoints):
    at = _page()
    drawing = canvas_drawing(SEVEN, 150, 140, 110)
    at.session_state["draw_canvas_0"] = _canvas_state(drawing)
    at.run()
    assert not at.exception
    buttons = [b for b in at.button if b.key == "draw_inside"]
    if not (ROOT / "pages" / "inside_network.py").exists():
        assert not buttons
        return
    buttons[0].click().run()
    seen = at.session_state["inside_input"]
    assert seen.shape == (28, 28) and seen.min() >= 0.0 and seen.max() <= 1.0
    assert np.array_equal(seen, preprocess(drawing).centred)
    assert "drawing" in at.session_state["inside_input_label"]


def test_open_this_digit_shows_the_drawing_on_inside_the_network_in_a_fresh_session(checkpoints):
    """Issue 29: a session that had never opened Inside the network got test digit #0 there, not the drawing."""
    at = _page()
    drawing = canvas_drawing(SEVEN, 150, 140, 110)
    at.session_state["draw_canvas_0"] = _canvas_state(drawing)
    at.run()
    next(b for b in at.button if b.key == "draw_inside").click().run()
    assert not at.exception
    assert at.radio(key="inside_source").value == "The drawing from Draw a digit"
    assert any("your drawing, read as" in m.value for m in at.markdown)


def test_a_network_that_deskews_shows_the_straightened_digit_as_a_sixth_stage(checkpoints):
    """Step 7's first layer straightens each digit: what the model saw ends with that, not with the centred input."""
    store = RunStore()
    recipe = get_step(7).recipe.with_(epochs=1)
    run = store.create(recipe, label="my deskewing run")
    save_checkpoint(run.checkpoint, build_network(recipe), recipe)
    write_history(run.path, [{"epoch": 1, "train_loss": 0.2, "train_acc": 95.0, "test_loss": 0.1, "test_acc": 97.0,
                              "lr": 0.01, "seconds": 9.0}])
    write_json(run.path / "evaluation.json", {"test_loss": 0.1, "test_acc": 97.0, "correct": 9700, "total": 10000,
                                              "confusion": [[0] * 10 for _ in range(10)]})
    update_status(run.path, state="finished")
    at = _page()
    at.session_state["draw_canvas_0"] = _canvas_state(canvas_drawing(SEVEN, 150, 140, 110))
    at.run()
    assert len(at.get("image")) == 5  # Step 4's network does not deskew
    model_box = at.selectbox(key="draw_model")
    at = model_box.select(next(o for o in model_box.options if "my deskewing run" in o)).run()
    assert not at.exception
    images = at.get("image")
    assert len(images) == 6 and "straightened" in images[-1].captions[0]
