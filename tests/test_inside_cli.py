"""The ``inside`` command: a PNG sheet of the expected size for a test digit and for a picture file, and one
clear line (no traceback) for bad input."""

from __future__ import annotations

import numpy as np
from PIL import Image

from mnist_core.commands.cli import main
from mnist_core.engine.checkpoints import save_checkpoint
from mnist_core.engine.design import build_design
from mnist_core.engine.recipes import design_from_step
from mnist_core.lesson.report import shipped_run
from mnist_core.lesson.steps import get_step

SHEET = (1600, 2000)  # 16 x 20 inches at 100 dpi, whatever the step


def test_a_test_digit_sheet(tmp_path, capsys):
    out = tmp_path / "sheet.png"
    assert main(["inside", "--step", "5", "--test-index", "3", "--out", str(out)]) == 0
    with Image.open(out) as sheet:
        assert sheet.format == "PNG" and sheet.size == SHEET
        pixels = np.asarray(sheet.convert("L"))
    assert pixels.std() > 10  # something is drawn, not a blank page
    assert "1600x2000" in capsys.readouterr().out


def test_a_mistake_and_a_picture_file(tmp_path, capsys):
    first = shipped_run(1).mistakes().mistakes[0]  # its picture is in the run folder, data set or not
    out = tmp_path / "mistake.png"
    assert main(["inside", "--step", "1", "--test-index", str(first.index), "--out", str(out)]) == 0
    picture = np.full((200, 160), 255, dtype=np.uint8)
    picture[30:170, 70:90] = 0  # a dark stroke on white paper: a one
    Image.fromarray(picture).save(tmp_path / "one.png")
    out = tmp_path / "picture.png"
    assert main(["inside", "--step", "4", "--image", str(tmp_path / "one.png"), "--out", str(out)]) == 0
    with Image.open(out) as sheet:
        assert sheet.size == SHEET


def test_bad_input_gets_one_line(tmp_path, capsys):
    out = tmp_path / "x.png"
    assert main(["inside", "--step", "4", "--test-index", "10000", "--out", str(out)]) == 1
    assert capsys.readouterr().err.strip() == "error: --test-index must be from 0 to 9999 (got 10000)"
    (tmp_path / "blank.png").write_bytes(b"not a picture")
    assert main(["inside", "--step", "4", "--image", str(tmp_path / "blank.png"), "--out", str(out)]) == 1
    assert "not an image" in capsys.readouterr().err
    assert main(["inside", "--step", "9", "--test-index", "1", "--out", str(out)]) == 1
    assert capsys.readouterr().err.startswith("error:")
    assert not out.exists()


def test_a_design_checkpoint_gets_its_sheet(tmp_path, capsys):
    """A design's layers are grouped into named blocks (explain/named_blocks.py), so its sheet is drawn too."""
    design = design_from_step(7).to_json()
    checkpoint = tmp_path / "model.pt"
    save_checkpoint(checkpoint, build_design(design), get_step(7).recipe.with_(deskew=False, design=design))
    out = tmp_path / "sheet.png"
    assert main(["inside", "--step", "7", "--checkpoint", str(checkpoint), "--test-index", "3", "--out",
                 str(out)]) == 0
    with Image.open(out) as sheet:
        assert sheet.size == SHEET
    assert "1600x2000" in capsys.readouterr().out
