"""The OCR engine: PP-OCRv4 (detection, direction, recognition) on CPU through rapidocr-onnxruntime.

rapidocr ships the models inside its wheel, so nothing is downloaded at run time. Its own entry
point gives one mean confidence a line; a scanned report needs more: which *character* of a
figure is unsure and what else it could be. So the recogniser's CTC output is decoded here,
keeping for every character its probability and the runner-up class at the same step — "7",
0.62, runner-up "1" 0.35 is a figure to ask about, not to accept. Why this engine and not
tesseract: docs/architecture.md ("Scanned reports").
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Glyph:
    char: str
    conf: float  # the recogniser's probability of this character
    alt: str = ""  # the runner-up at the same step ("" when nothing else came close)
    alt_conf: float = 0.0


@dataclass
class Reading:
    """One recognised run of text and where it is on the page (pixels of the page image)."""

    text: str
    box: tuple[float, float, float, float]  # x0, top, x1, bottom
    glyphs: list[Glyph] = field(default_factory=list)

    @property
    def conf(self) -> float:
        return min((g.conf for g in self.glyphs), default=0.0)


@dataclass
class Read:
    """A crop read freely, and read as a figure: the recogniser's output restricted to digits and
    a figure's marks, renormalised at every step. A table cell that holds a figure is read the
    second way — a small 0 is then a 0 or an 8, never a Chinese full stop — and its confidence is
    how sure the model is among the readings a figure can have."""

    glyphs: list[Glyph]
    figure: list[Glyph]


FIGURE_CHARS = frozenset("0123456789.-%")
_ALT_FLOOR = 0.02  # a runner-up under this is noise, not a candidate reading


class Engine:
    """One per process (models load in ~0.5 s); the onnxruntime sessions are thread-safe, the
    pre- and post-processing we call is stateless."""

    def __init__(self) -> None:
        import logging

        from rapidocr_onnxruntime import RapidOCR

        logging.getLogger("RapidOCR").setLevel(logging.ERROR)
        self._ocr = RapidOCR()
        self._rec = self._ocr.text_rec
        self._chars: list[str] = self._rec.postprocess_op.character
        self._fig_idx: np.ndarray | None = None
        self._fig_chars: list[str] = []

    def detect(self, img: np.ndarray) -> list[np.ndarray]:
        """Text boxes (4 points each) on an RGB page image."""
        boxes, _ = self._ocr.text_det(img)
        return [] if boxes is None else list(boxes)

    def upside_down(self, crops: list[np.ndarray]) -> float:
        """The share of the line crops the direction model says are turned 180°."""
        if not crops:
            return 0.0
        _, res, _ = self._ocr.text_cls([c.copy() for c in crops])
        flipped = sum(1 for label, score in res if label == "180" and score > 0.8)
        return flipped / len(crops)

    def crop(self, img: np.ndarray, quad: np.ndarray) -> np.ndarray:
        return self._ocr.get_crop_img_list(img, [quad.astype(np.float32)])[0]

    def recognize(self, crops: list[np.ndarray]) -> list[list[Glyph]]:
        """Each crop's characters, with their probabilities and runner-ups."""
        return [r.glyphs for r in self.read(crops)]

    def read(self, crops: list[np.ndarray]) -> list[Read]:
        """Each crop read twice from one pass of the model: freely, and as a figure (only digits and
        a figure's marks may be read; see `Read`)."""
        out: list[Read] = [Read([], []) for _ in crops]
        if not crops:
            return out
        order = np.argsort([c.shape[1] / max(1, c.shape[0]) for c in crops])
        _, height, width = self._rec.rec_image_shape
        batch = self._rec.rec_batch_num
        for start in range(0, len(crops), batch):
            idx = order[start:start + batch]
            ratio = max([width / height] + [crops[i].shape[1] / max(1, crops[i].shape[0]) for i in idx])
            norm = np.concatenate([self._rec.resize_norm_img(crops[i], ratio)[np.newaxis, :] for i in idx])
            preds = self._rec.session(norm.astype(np.float32))[0]
            for k, i in enumerate(idx):
                figure = preds[k][:, self._figure_classes]
                figure = figure / np.maximum(figure.sum(axis=1, keepdims=True), 1e-9)
                out[i] = Read(self._decode(preds[k]), self._decode(figure, self._figure_chars))
        return out

    @property
    def _figure_classes(self) -> np.ndarray:
        if self._fig_idx is None:
            idx = [0] + [k for k, ch in enumerate(self._chars) if ch in FIGURE_CHARS]
            self._fig_idx = np.array(idx)
            self._fig_chars = ["blank"] + [self._chars[k] for k in idx[1:]]
        return self._fig_idx

    @property
    def _figure_chars(self) -> list[str]:
        self._figure_classes  # noqa: B018 - made together
        return self._fig_chars

    def _decode(self, pred: np.ndarray, chars: list[str] | None = None) -> list[Glyph]:
        """CTC: one character per run of the same class, blank (0) dropped; its probability is the
        run's best step, its runner-up the second class at that step."""
        chars = chars or self._chars
        best = pred.argmax(axis=1)
        glyphs: list[Glyph] = []
        t, n = 0, len(best)
        while t < n:
            cls = best[t]
            end = t
            while end + 1 < n and best[end + 1] == cls:
                end += 1
            if cls != 0 and cls < len(chars):
                step = t + int(pred[t:end + 1, cls].argmax())
                row = pred[step]
                second = np.argsort(row)[-2]
                alt, alt_conf = "", 0.0
                if second != 0 and second < len(chars) and row[second] >= _ALT_FLOOR:
                    alt, alt_conf = chars[second], float(row[second])
                glyphs.append(Glyph(chars[cls], float(row[cls]), alt, alt_conf))
            t = end + 1
        return glyphs


_engine: Engine | None = None
_lock = threading.Lock()


def engine() -> Engine:
    global _engine
    with _lock:
        if _engine is None:
            _engine = Engine()
        return _engine


def available() -> bool:
    try:
        import cv2  # noqa: F401
        import rapidocr_onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True
