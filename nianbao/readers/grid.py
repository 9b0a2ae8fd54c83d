"""Table grids from a scanned page's ruled lines (OpenCV morphology).

The ink is thresholded; opening it with a long thin horizontal kernel keeps the horizontal rules
and drops the characters, a vertical kernel the vertical ones. A table is a large connected
piece of those rules. Its cells are the white regions the rules enclose: a merged cell is one
region because the rule between its positions is missing, so no guessing of spans is needed.
The regions' edges, clustered, give the grid's columns and rows; each cell then spans from the
column and row its left/top edge starts at to the ones its right/bottom edge ends at.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Cell:
    row: int
    col: int
    rows: int  # span
    cols: int
    box: tuple[int, int, int, int]  # x0, top, x1, bottom in page pixels (inside the rules)


@dataclass
class Grid:
    box: tuple[int, int, int, int]
    n_rows: int
    n_cols: int
    cells: list[Cell]

    def cell_at(self, x: float, y: float) -> Cell | None:
        for c in self.cells:
            x0, t, x1, b = c.box
            if x0 - 2 <= x <= x1 + 2 and t - 2 <= y <= b + 2:
                return c
        return None


def ink(gray: np.ndarray) -> np.ndarray:
    """Ink as 255 on 0: a local threshold, so grey paper and uneven light still separate."""
    import cv2

    block = max(15, (min(gray.shape) // 60) | 1)
    return cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, 15)


def rules(binary: np.ndarray, dpi: float) -> tuple[np.ndarray, np.ndarray]:
    """The horizontal and the vertical rules of a page (ink image) as two masks.

    A character's longest stroke is about its size (10.5–16 pt); a rule between two cells is at
    least a row high (~0.25 in) or a column wide. The kernels sit between the two."""
    import cv2

    along = max(15, int(dpi * 0.22))
    # a rule a pixel wide that wanders by a pixel (a scan a little off straight, JPEG) is found on the
    # ink thickened across it, then thinned back to where the ink was
    across_h = cv2.dilate(binary, cv2.getStructuringElement(cv2.MORPH_RECT, (1, 3)))
    across_v = cv2.dilate(binary, cv2.getStructuringElement(cv2.MORPH_RECT, (3, 1)))
    horizontal = cv2.morphologyEx(across_h, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (along, 1)))
    vertical = cv2.morphologyEx(across_v, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, max(12, int(dpi * 0.15)))))
    horizontal = cv2.bitwise_and(horizontal, cv2.dilate(binary, cv2.getStructuringElement(cv2.MORPH_RECT, (1, 3))))
    vertical = cv2.bitwise_and(vertical, cv2.dilate(binary, cv2.getStructuringElement(cv2.MORPH_RECT, (3, 1))))
    # a rule broken by noise, a JPEG block or a stamp's edge is closed again along its own direction
    gap = max(4, int(dpi * 0.05))
    horizontal = cv2.morphologyEx(horizontal, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (gap, 1)))
    vertical = cv2.morphologyEx(vertical, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (1, gap)))
    return horizontal, vertical


def find_grids(binary: np.ndarray, dpi: float) -> list[Grid]:
    import cv2

    horizontal, vertical = rules(binary, dpi)
    # vertical pieces that touch no horizontal rule are strokes of big characters, not rules
    mask = cv2.bitwise_or(horizontal, vertical)
    mask = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3)))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    h, w = binary.shape
    grids: list[Grid] = []
    min_cell = max(6, int(dpi * 0.08))
    for i in range(1, n):
        x, y, bw, bh, _area = stats[i]
        if bw < w * 0.25 or bh < dpi * 0.3:
            continue
        piece = (labels[y:y + bh, x:x + bw] == i).astype(np.uint8) * 255
        grid = _cells(piece, x, y, min_cell, dpi)
        if grid is not None:
            grids.append(grid)
    grids.sort(key=lambda g: g.box[1])
    return grids


def _cells(piece: np.ndarray, ox: int, oy: int, min_cell: int, dpi: float) -> Grid | None:
    import cv2

    free = cv2.bitwise_not(piece)
    n, _labels, stats, _ = cv2.connectedComponentsWithStats(free, connectivity=4)
    ph, pw = piece.shape
    boxes: list[tuple[int, int, int, int]] = []
    for i in range(1, n):
        x, y, bw, bh, area = stats[i]
        if x == 0 or y == 0 or x + bw >= pw or y + bh >= ph:  # outside the table's frame
            continue
        if bw < min_cell or bh < min_cell or area < 0.5 * bw * bh:
            continue
        boxes.append((ox + x, oy + y, ox + x + bw, oy + y + bh))
    if len(boxes) < 2:
        return None
    tol = max(4, int(dpi * 0.04))
    xs = _cluster([b[0] for b in boxes] + [b[2] for b in boxes], tol)
    ys = _cluster([b[1] for b in boxes] + [b[3] for b in boxes], tol)
    cells: list[Cell] = []
    for x0, t, x1, b in boxes:
        c0, c1 = _nearest(xs, x0), _nearest(xs, x1)
        r0, r1 = _nearest(ys, t), _nearest(ys, b)
        if c1 <= c0 or r1 <= r0:
            continue
        cells.append(Cell(r0, c0, r1 - r0, c1 - c0, (x0, t, x1, b)))
    # the grid's lines: an edge of the first kind (left/top) and of the second (right/bottom) are
    # the two sides of one rule — fold them into one column/row boundary
    cols = _boundaries(cells, "x")
    rows = _boundaries(cells, "y")
    for c in cells:
        c.col, c.cols = cols[c.col], cols[c.col + c.cols] - cols[c.col]
        c.row, c.rows = rows[c.row], rows[c.row + c.rows] - rows[c.row]
    cells = [c for c in cells if c.cols > 0 and c.rows > 0]
    if not cells:
        return None
    n_rows = max(c.row + c.rows for c in cells)
    n_cols = max(c.col + c.cols for c in cells)
    cells.sort(key=lambda c: (c.row, c.col))
    return Grid((ox, oy, ox + pw, oy + ph), n_rows, n_cols, cells)


def _cluster(values: list[int], tol: int) -> list[float]:
    out: list[list[int]] = []
    for v in sorted(values):
        if out and v - out[-1][-1] <= tol:
            out[-1].append(v)
        else:
            out.append([v])
    return [sum(g) / len(g) for g in out]


def _nearest(centres: list[float], v: float) -> int:
    return min(range(len(centres)), key=lambda i: abs(centres[i] - v))


def _boundaries(cells: list[Cell], axis: str) -> dict[int, int]:
    """Cluster index → boundary number. A cell's right edge and its neighbour's left edge are a
    rule's width apart and fall in neighbouring clusters: an end edge followed by a start edge
    with no other between them is one boundary."""
    starts: set[int] = set()
    ends: set[int] = set()
    for c in cells:
        a, span = (c.col, c.cols) if axis == "x" else (c.row, c.rows)
        starts.add(a)
        ends.add(a + span)
    keys = sorted(starts | ends)
    mapping: dict[int, int] = {}
    boundary = -1
    prev_kind = None
    for k in keys:
        kind = ("s" if k in starts else "") + ("e" if k in ends else "")
        if boundary < 0:
            boundary = 0
        elif not (prev_kind == "e" and kind == "s"):
            boundary += 1
        mapping[k] = boundary
        prev_kind = kind
    return mapping
