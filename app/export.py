"""Session export for therapists: Markdown (the source of truth) and PDF rendered from it.

The Markdown has one section per turn with fixed bold field names, so it reads well and can be
parsed back (tests do). The PDF is the same Markdown laid out by QTextDocument and printed with
QPdfWriter, so both exports always agree.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QMarginsF, QSizeF
from PySide6.QtGui import QPageLayout, QPageSize, QPdfWriter, QTextDocument

from app.conversation_view import describe_cues
from core.emotion.eips import STEPS
from core.store.session_store import SessionInfo, TurnRecord


def _clock(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())


def safety_line(entry: dict) -> str:
    """One readable line of what the crisis check found in a turn."""
    category = (entry.get("category") or "crisis language").replace("_", " ")
    how = f"rule {entry['rule']}" if entry.get("layer") == "pattern" and entry.get("rule") else (
        f"classifier {entry.get('model') or ''}, score {entry.get('score', 0):.2f}".replace("  ", " "))
    said = "what the person said" if entry.get("source") == "transcript" else "the drafted reply (not spoken)"
    words = f': "{_one_line(entry["matched"])}"' if entry.get("matched") else ""
    return f"fired on {said}, {category} ({how}){words}; the caring reply and help lines were given instead."


def session_markdown(info: SessionInfo, turns: list[TurnRecord]) -> str:
    """The whole session as Markdown: header, session note, then each turn."""
    out = [f"# {info.title}", ""]
    out.append(f"- **Started:** {_clock(info.created_at)}")
    out.append(f"- **Consent to record:** {'yes' if info.consent else 'no'}")
    out.append(f"- **Turns:** {len(turns)}")
    emotions = [t.label for t in turns if t.label]
    if emotions:
        out.append(f"- **Mood across turns:** {' → '.join(emotions)}")
    out.append("")
    if info.note:
        out += ["## Session note", "", info.note.strip(), ""]
    for n, t in enumerate(turns, 1):
        out += [f"## Turn {n} ({time.strftime('%H:%M:%S', time.localtime(t.created_at))})", ""]
        source = "typed" if t.user_text else "spoken"
        out.append(f"**Person ({source}):** {_one_line(t.said) or '(no transcript)'}")
        out.append("")
        if t.label:
            conf = f", {t.confidence:.0%}" if t.confidence is not None else ""
            cues = describe_cues(t.cues)
            out.append(f"**Perceived emotion:** {t.label} ({t.intensity or 'unknown'}{conf})"
                       + (f"; cues: {cues}" if cues else ""))
            out.append("")
        if t.corrected_label:
            out.append(f"**Corrected by the person:** {t.corrected_label} (heard {t.label or 'nothing'})")
            out.append("")
        if t.words_vs_voice:
            out.append(f"**Words vs voice:** {t.words_vs_voice}")
            out.append("")
        out.append(f"**Reply:** {_one_line(t.reply) or '(none)'}")
        out.append("")
        if t.eips:
            out.append("**Why this reply:**")
            out.append("")
            for step in STEPS:
                if t.eips.get(step):
                    out.append(f"- {step.capitalize()}: {_one_line(t.eips[step])}")
            out.append("")
        flags = [f for f, on in (("interrupted", t.interrupted), ("safety resources shown", t.safety_triggered)) if on]
        if flags:
            out.append(f"**Flags:** {', '.join(flags)}")
            out.append("")
        if t.safety_triggered and t.safety:
            out.append(f"**Safety check:** {safety_line(t.safety)}")
            out.append("")
        if t.note:
            out.append(f"**Therapist note:** {_one_line(t.note)}")
            out.append("")
    out.append(f"_Exported by CogAudio Companion on {_clock(time.time())}. Emotions are machine estimates._")
    return "\n".join(out) + "\n"


def markdown_document(markdown: str) -> QTextDocument:
    doc = QTextDocument()
    doc.setMarkdown(markdown)
    return doc


def write_markdown(path: Path, markdown: str) -> Path:
    path = Path(path)
    path.write_text(markdown, encoding="utf-8")
    return path


def write_pdf(path: Path, markdown: str) -> Path:
    """Lay out `markdown` on A4 pages with 18 mm margins and write a PDF (needs a QGuiApplication)."""
    path = Path(path)
    writer = QPdfWriter(str(path))
    writer.setTitle(markdown.splitlines()[0].lstrip("# ") if markdown else "CogAudio session")
    writer.setCreator("CogAudio Companion")
    writer.setPageLayout(QPageLayout(QPageSize(QPageSize.PageSizeId.A4), QPageLayout.Orientation.Portrait,
                                     QMarginsF(18, 18, 18, 18), QPageLayout.Unit.Millimeter))
    writer.setResolution(144)
    doc = markdown_document(markdown)
    rect = writer.pageLayout().paintRectPixels(writer.resolution())
    doc.setPageSize(QSizeF(rect.width(), rect.height()))
    doc.print_(writer)
    if not path.exists() or path.stat().st_size == 0:
        raise OSError(f"could not write {path}; check the folder is writable and the disk has space")
    return path
