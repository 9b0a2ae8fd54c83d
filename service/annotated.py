"""The clerk's own .docx with a Word comment (批注) at each finding's place, for the mail reply and
the upload page's download. (Interface; the annotation itself is nianbao.annotate.)"""

from __future__ import annotations

from pathlib import Path

from service.env import Env


def annotated_copy(e: Env, submission_id: int) -> Path | None:
    """The annotated copy of a submission's .docx (made once, kept under data_dir/annotated/), or
    None when there is nothing to annotate: not a .docx, no finding to show, or the file is gone."""
    return None
