"""The one validating reader of a run folder's files.

Anyone can edit, truncate or replace a file under ``runs/`` or ``assets/``, so nothing
read from a run folder is trusted: each reader below checks the file's shape and the
type and range of every value the dashboard uses, and raises ``RunFileError`` naming the
file and what is wrong. ``runs.inspect_run`` turns that into a run shown as *damaged*,
so one bad file costs one row, never the page around it.
"""

from __future__ import annotations

import json
import math
import re
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from mnist_core.engine.config import TrainConfig
from mnist_core.engine.recipes import RECIPES
from mnist_core.engine.evaluate import Mistake

MAX_JSON_BYTES = 5 * 2**20  # a 1,000-epoch history is about 200 kB; anything far bigger is not ours
STATES = ("queued", "running", "finished", "stopped", "failed", "interrupted")
EPOCH_NUMBERS = ("train_loss", "train_acc", "test_loss", "test_acc", "lr", "seconds")
# Every field of status.json the code reads, with its type and range; unknown fields are kept, unread.
STATUS_TEXT = {"label": 1000, "message": 20_000, "device": 200, "backend": 40, "node": 255}  # text: longest
STATUS_TIMES = ("created", "started", "ended", "updated", "heartbeat")  # seconds since the epoch
LATEST_TIME = 32_503_680_000.0  # 1 Jan 3000: later times overflow time.localtime on some systems
OWNER_ID = re.compile(r"[0-9a-f]{16}")  # identity.owner_id's shape (its module sits above this one)
LONGEST_NAME = 40  # identity.clean_name's limit
LARGEST_PARAMS = 10**9
CLASSES = 10


class RunFileError(ValueError):
    """A run file that does not make sense; ``str()`` names the file and the problem."""

    def __init__(self, file: str, problem: str) -> None:
        super().__init__(f"{file}: {problem}")
        self.file, self.problem = file, problem


@dataclass
class MistakeSet:
    """Misclassified test images, most confident first."""

    mistakes: list[Mistake]
    images: np.ndarray  # (N, 28, 28) uint8 pixels


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def load_json(path: Path, required: bool = True):
    """The parsed JSON of ``path``; None for a missing file that is not ``required``."""
    name = path.name
    try:
        if path.stat().st_size > MAX_JSON_BYTES:
            raise RunFileError(name, f"{path.stat().st_size:,} bytes is far too large for this file")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if required:
            raise RunFileError(name, "missing") from None
        return None
    except UnicodeDecodeError:
        raise RunFileError(name, "not text (not valid UTF-8)") from None
    except OSError as exc:
        raise RunFileError(name, f"cannot be read ({exc.strerror or exc.__class__.__name__})") from None
    if not text.strip():
        raise RunFileError(name, "empty")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise RunFileError(name, f"not valid JSON ({exc.msg} at line {exc.lineno}), perhaps cut short") from None
    except RecursionError:
        raise RunFileError(name, "nested too deeply to be ours") from None


def read_config(folder: Path) -> TrainConfig:
    values = load_json(folder / "config.json")
    try:
        config = TrainConfig.from_dict(values)
    except (TypeError, ValueError) as exc:
        raise RunFileError("config.json", str(exc)) from None
    if config.step not in RECIPES:
        raise RunFileError("config.json", f"step {config.step} is not a step of the lesson")
    return config


def read_status(folder: Path) -> dict:
    """The status, with every field the dashboard reads checked; unknown fields are kept as they are."""
    status = load_json(folder / "status.json")
    if not isinstance(status, dict):
        raise RunFileError("status.json", f"must be a JSON object, not {type(status).__name__}")
    if status.get("state") not in STATES:
        raise RunFileError("status.json", f"state {_short(status.get('state'))} is not one of {', '.join(STATES)}")
    for key, longest in STATUS_TEXT.items():
        if key in status and not (isinstance(status[key], str) and len(status[key]) <= longest):
            raise RunFileError("status.json", f"{key} must be text of at most {longest} characters, "
                                              f"not {_short(status[key])}")
    for key in STATUS_TIMES:
        if key in status and not (_is_number(status[key]) and 0 <= status[key] <= LATEST_TIME):
            raise RunFileError("status.json", f"{key} must be a time in seconds since 1970, before the year 3000, "
                                              f"not {_short(status[key])}")
    if "params" in status and not (_is_whole(status["params"]) and 0 <= status["params"] <= LARGEST_PARAMS):
        raise RunFileError("status.json", f"params must be a whole number of parameters, not "
                                          f"{_short(status['params'])}")
    if "pid" in status and not (_is_whole(status["pid"]) and 0 <= status["pid"] < 2**32):
        raise RunFileError("status.json", f"pid must be a process id, not {_short(status['pid'])}")
    owner = status.get("owner", "")
    if not (isinstance(owner, str) and (owner == "" or OWNER_ID.fullmatch(owner))):
        raise RunFileError("status.json", f"owner must be an owner id (16 hex digits) or empty, not {_short(owner)}")
    name = status.get("owner_name", "")
    if not (isinstance(name, str) and len(name) <= LONGEST_NAME and name.isprintable()):
        raise RunFileError("status.json", f"owner_name must be one printable line of at most {LONGEST_NAME} "
                                          f"characters, not {_short(name)}")
    if not isinstance(status.get("by_teacher", False), bool):
        raise RunFileError("status.json", f"by_teacher must be true or false, not {_short(status['by_teacher'])}")
    return status


def _check_epoch(number: int, record) -> None:
    where = f"entry {number}"
    if not isinstance(record, dict):
        raise RunFileError("history.json", f"{where} must be an object with the epoch's figures, "
                                           f"not {_short(record)}")
    if record.get("epoch") != number or not _is_whole(record.get("epoch")):
        raise RunFileError("history.json", f"{where} should be epoch {number}, not {_short(record.get('epoch'))}")
    for key in EPOCH_NUMBERS:
        value = record.get(key)
        if not _is_number(value):
            raise RunFileError("history.json", f"{where}: {key} must be a number, not {_short(value)}")
        # A diverged run's loss can be NaN or infinite and is still a true record; the rest cannot.
        if key.endswith("_acc") and not 0 <= value <= 100:
            raise RunFileError("history.json", f"{where}: {key} {_short(value)} is not a percentage")
        if key in ("lr", "seconds") and not (math.isfinite(value) and value >= 0):
            raise RunFileError("history.json", f"{where}: {key} {_short(value)} must be a finite number >= 0")


def read_history(folder: Path, epochs: int) -> list[dict]:
    """One record per finished epoch, numbered 1, 2, ... and at most ``epochs`` of them."""
    history = load_json(folder / "history.json")
    if not isinstance(history, list):
        raise RunFileError("history.json", f"must be a list of epochs, not {type(history).__name__}")
    if len(history) > epochs:
        raise RunFileError("history.json", f"{len(history)} epochs recorded, but the run has only {epochs}")
    for number, record in enumerate(history, start=1):
        _check_epoch(number, record)
    return history


def read_evaluation(folder: Path) -> dict | None:
    """Final test figures and the 10x10 confusion matrix; None when the run has none (yet)."""
    name = "evaluation.json"
    if not (folder / name).exists():
        return None
    evaluation = load_json(folder / name)
    if not isinstance(evaluation, dict):
        raise RunFileError(name, f"must be a JSON object, not {type(evaluation).__name__}")
    if not _is_number(evaluation.get("test_loss")):
        raise RunFileError(name, f"test_loss must be a number, not {_short(evaluation.get('test_loss'))}")
    accuracy = evaluation.get("test_acc")
    if not (_is_number(accuracy) and 0 <= accuracy <= 100):
        raise RunFileError(name, f"test_acc must be a percentage, not {_short(accuracy)}")
    correct, total = evaluation.get("correct"), evaluation.get("total")
    if not (_is_whole(correct) and _is_whole(total) and 0 <= correct <= total):
        raise RunFileError(name, f"correct {_short(correct)} of total {_short(total)} is not a count")
    confusion = evaluation.get("confusion")
    if not (isinstance(confusion, list) and len(confusion) == CLASSES
            and all(isinstance(row, list) and len(row) == CLASSES for row in confusion)):
        raise RunFileError(name, "confusion must be a 10x10 table of counts")
    if not all(_is_whole(n) and n >= 0 for row in confusion for n in row):
        raise RunFileError(name, "confusion must hold whole counts >= 0")
    return evaluation


MISTAKE_ARRAYS = {"index": "iu", "true": "iu", "predicted": "iu", "confidence": "f", "images": "u"}


def check_mistakes(folder: Path) -> None:
    """Check ``mistakes.npz``'s shape without decompressing its images: a readable archive holding the five
    arrays, of the right kinds and matching lengths. Reads the zip's directory and each array's header,
    a few hundred bytes, where ``read_mistakes`` decodes every image (94% of a scan of 900 runs did).
    Its values (digits 0-9, probabilities) are checked when the mistakes are read."""
    path = folder / "mistakes.npz"
    if not path.exists():
        return
    name = path.name
    try:
        with zipfile.ZipFile(path) as archive:
            shapes = {}
            for key, kinds in MISTAKE_ARRAYS.items():
                with archive.open(f"{key}.npy") as member:
                    version = np.lib.format.read_magic(member)
                    shape, _, dtype = (np.lib.format.read_array_header_1_0(member) if version == (1, 0)
                                       else np.lib.format.read_array_header_2_0(member))
                if dtype.kind not in kinds or (key == "images" and dtype != np.uint8):
                    raise RunFileError(name, f"{key} holds {dtype}, not the numbers it should")
                shapes[key] = shape
    except KeyError as exc:
        raise RunFileError(name, f"has no {exc.args[0].split()[0].strip(chr(39))} array") from None
    except RunFileError:
        raise
    except Exception as exc:  # noqa: BLE001 - zipfile and numpy raise many kinds for a damaged archive
        raise RunFileError(name, f"not a readable .npz archive ({exc.__class__.__name__}), perhaps cut short") from None
    count = shapes["index"][0] if len(shapes["index"]) == 1 else -1
    if count < 0 or any(shapes[k] != (count,) for k in ("true", "predicted", "confidence")):
        raise RunFileError(name, "index, true, predicted and confidence must be lists of one length")
    if shapes["images"] != (count, 28, 28):
        raise RunFileError(name, f"images must be {count} 28x28 bytes, not {shapes['images']}")


def read_mistakes(folder: Path) -> MistakeSet | None:
    """The saved mistakes; None when the run saved none (stopped before its first evaluation)."""
    path = folder / "mistakes.npz"
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise RunFileError(path.name, f"cannot be read ({exc.strerror})") from None
    return _read_mistakes_cached(str(path), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=64)  # keyed by size and mtime: every page asks, the file rarely changes
def _read_mistakes_cached(path: str, size: int, mtime_ns: int) -> MistakeSet:
    name = Path(path).name
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in ("index", "true", "predicted", "confidence", "images")}
    except KeyError as exc:
        raise RunFileError(name, f"has no {exc} array") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise RunFileError(name, f"not a readable .npz archive ({exc.__class__.__name__}), perhaps cut short") from None
    except Exception as exc:  # noqa: BLE001 - zlib and zipfile raise many kinds for a damaged archive
        raise RunFileError(name, f"not a readable .npz archive ({exc.__class__.__name__})") from None
    count = len(arrays["index"]) if arrays["index"].ndim == 1 else -1
    if count < 0 or any(arrays[k].shape != (count,) for k in ("true", "predicted", "confidence")):
        raise RunFileError(name, "index, true, predicted and confidence must be lists of one length")
    images = arrays["images"]
    if images.shape != (count, 28, 28) or images.dtype != np.uint8:
        raise RunFileError(name, f"images must be {count} 28x28 bytes, not {images.dtype} {images.shape}")
    for key in ("index", "true", "predicted"):
        if arrays[key].dtype.kind not in "iu":
            raise RunFileError(name, f"{key} must hold whole numbers")
    if count and not (arrays["true"].min() >= 0 and arrays["true"].max() < CLASSES
                      and arrays["predicted"].min() >= 0 and arrays["predicted"].max() < CLASSES):
        raise RunFileError(name, "true and predicted must be digits 0-9")
    confidence = arrays["confidence"]
    if confidence.dtype.kind != "f" or (count and not np.all((confidence >= 0) & (confidence <= 1))):
        raise RunFileError(name, "confidence must be probabilities in [0, 1]")
    mistakes = [Mistake(int(i), int(t), int(p), float(c)) for i, t, p, c in
                zip(arrays["index"], arrays["true"], arrays["predicted"], confidence, strict=True)]
    images.setflags(write=False)  # shared by every page that shows this run
    return MistakeSet(mistakes, images)
