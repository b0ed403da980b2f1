"""Tests for ``python -m mnist_core predict`` (mnist_core/predict_cli.py) on good and bad files."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from mnist_core.commands.cli import main
from mnist_core.engine.checkpoints import save_checkpoint
from mnist_core.engine.config import TrainConfig
from mnist_core.explain import inference
from mnist_core.explain.inference import predict, preprocess, read_image_bytes
from tests.conftest import use_assets
from tests.test_inference import (
    SEVEN,
    SEVEN_PLACES,
    STEP4_CHECKPOINT,
    canvas_drawing,
    decisive_untrained_model,
    png_bytes,
)


@pytest.fixture(scope="module")
def model():
    return decisive_untrained_model()


@pytest.fixture()
def checkpoint(tmp_path, model):
    path = tmp_path / "model.pt"
    save_checkpoint(path, model, TrainConfig(step=4))
    return path


@pytest.fixture()
def good_files(tmp_path):
    drawing = canvas_drawing(SEVEN, 150, 120, 100)
    files = {
        "canvas.png": png_bytes(drawing),  # white on black RGBA, as the page's canvas gives it
        "paper.jpg": png_bytes(255 - drawing[:, :, 0], "JPEG"),  # dark ink on white, grayscale JPEG
        "small.png": png_bytes(np.asarray(canvas_drawing(SEVEN, 4, 4, 20, width=3, canvas=28))[:, :, 0]),
    }
    paths = []
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        paths.append(tmp_path / name)
    return paths


@pytest.fixture()
def bad_files(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("not a picture\n")
    (tmp_path / "blank.png").write_bytes(png_bytes(np.zeros((280, 280), dtype=np.uint8)))
    return [tmp_path / "empty.png", tmp_path / "notes.txt", tmp_path / "missing.png", tmp_path / "blank.png"]


ROOT = STEP4_CHECKPOINT.parents[2]


def _json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_json_gives_one_object_per_file_matching_the_page_pipeline(checkpoint, good_files, model, capsys):
    status = main(["predict", *map(str, good_files), "--checkpoint", str(checkpoint), "--json"])
    results = _json_lines(capsys.readouterr().out)
    assert status == 0
    assert [r["file"] for r in results] == [str(p) for p in good_files]
    for path, result in zip(good_files, results, strict=True):
        expected = predict(model, preprocess(read_image_bytes(path.read_bytes())))
        assert result["digit"] == expected.digit
        assert result["probabilities"] == pytest.approx(expected.probabilities.tolist(), abs=1e-5)
        assert sum(result["probabilities"]) == pytest.approx(1.0, abs=1e-4)
        assert result["confidence"] == pytest.approx(max(result["probabilities"]))


def test_bad_files_get_their_own_error_and_the_others_still_run(checkpoint, good_files, bad_files, capsys):
    files = [bad_files[0], good_files[0], *bad_files[1:], good_files[1]]
    status = main(["predict", *map(str, files), "--checkpoint", str(checkpoint), "--json"])
    results = _json_lines(capsys.readouterr().out)
    assert status == 1
    by_name = {r["file"].rsplit("/", 1)[-1]: r for r in results}
    assert len(results) == len(files)
    assert "digit" in by_name["canvas.png"] and "digit" in by_name["paper.jpg"]
    assert "empty" in by_name["empty.png"]["error"]
    assert "not an image" in by_name["notes.txt"]["error"]
    assert "No such file" in by_name["missing.png"]["error"]
    assert "nothing drawn" in by_name["blank.png"]["error"]


def test_a_huge_file_is_refused_without_reading_it_all(checkpoint, good_files, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(inference, "MAX_UPLOAD_BYTES", 1000)
    huge = tmp_path / "huge.png"
    huge.write_bytes(good_files[0].read_bytes() + bytes(10_000))
    status = main(["predict", str(huge), "--checkpoint", str(checkpoint), "--json"])
    assert status == 1
    assert "larger than the limit" in _json_lines(capsys.readouterr().out)[0]["error"]


def test_text_output_prints_the_digit_and_ten_probabilities_and_errors_on_stderr(checkpoint, good_files, bad_files,
                                                                                  capsys):
    status = main(["predict", str(good_files[0]), str(bad_files[1]), "--checkpoint", str(checkpoint)])
    out, err = capsys.readouterr()
    assert status == 1
    line = next(line for line in out.splitlines() if line.startswith(str(good_files[0])))
    assert line.count(":") == 1 + 10  # "file: digit (p%)" then "d:p" for each of the ten digits
    assert "notes.txt: error: this is not an image" in err
    assert "Traceback" not in err


def test_a_missing_shipped_checkpoint_is_one_clear_line(tmp_path, monkeypatch, good_files, capsys):
    use_assets(monkeypatch, tmp_path / "no-assets")
    status = main(["predict", str(good_files[0]), "--step", "4"])
    err = capsys.readouterr().err
    assert status == 1
    assert err.count("\n") == 1 and "reproduce" in err


def test_step_and_checkpoint_cannot_both_be_given(checkpoint, good_files):
    with pytest.raises(SystemExit) as exit_info:
        main(["predict", str(good_files[0]), "--step", "4", "--checkpoint", str(checkpoint)])
    assert exit_info.value.code == 2


@pytest.mark.skipif(not STEP4_CHECKPOINT.is_file(), reason="no shipped Step 4 checkpoint (mnist_core reproduce)")
def test_the_command_line_reads_hand_drawn_sevens_with_the_step4_checkpoint(tmp_path):
    paths = []
    for i, (left, top, size, width) in enumerate(SEVEN_PLACES):
        drawing = canvas_drawing(SEVEN, left, top, size, width=width)
        paths.append(tmp_path / f"seven{i}.png")
        paths[-1].write_bytes(png_bytes(drawing if i % 2 else 255 - drawing[:, :, 0]))
    result = subprocess.run([sys.executable, "-m", "mnist_core", "predict", *map(str, paths), "--json"],
                            capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert [r["digit"] for r in _json_lines(result.stdout)] == [7] * len(paths)


def test_a_thick_pen_is_thinned_for_predict_as_for_the_page(checkpoint, model, tmp_path, capsys):
    """A 7 drawn with a pen 60 px wide on the 280 px canvas (4.2 px at the 20 px scale, past MNIST's 3.81)."""
    path = tmp_path / "thick.png"
    path.write_bytes(png_bytes(canvas_drawing(SEVEN, 20, 20, 240, width=60)))
    pipeline = preprocess(read_image_bytes(path.read_bytes()))
    assert pipeline.stroke_widths[0] > inference.MNIST_STROKE[2] and pipeline.stroked is not pipeline.crop
    assert main(["predict", str(path), "--checkpoint", str(checkpoint), "--json"]) == 0
    (result,) = _json_lines(capsys.readouterr().out)
    assert result["probabilities"] == pytest.approx(list(predict(model, pipeline).probabilities), abs=1e-5)


def test_preprocess_check_refuses_an_empty_set_in_one_line(capsys):
    assert main(["preprocess-check", "--count", "0"]) == 1
    assert "--count and --per-font must be at least 1" in capsys.readouterr().err
