"""Scanners for acted emotional speech corpora, each by the corpus's own file naming.

A scanner walks a corpus folder as distributed and yields uniform `CorpusRecord`s (one per
usable file: speaker, one of the seven labels, intensity, language, text when the corpus
says it) plus a `Skipped` entry, with a reason, for every file it cannot label. Audio is not
read here (`training.lime.corpus_prepare` converts and checks it).

Layouts (see docs/corpora.md for where each comes from):
- TESS: `<SPK>_<emotion>/<SPK>_<word>_<emotion>.wav`, SPK = OAF | YAF (two women), emotion
  angry, disgust, fear, happy, neutral, ps (pleasant surprise), sad; text "Say the word <word>."
- EmoDB: `wav/<SS><TTT><E><v>.wav`, SS speaker (03..16), TTT text code (a01..b10), E the
  German emotion letter (W Ärger, L Langeweile, E Ekel, A Angst, F Freude, T Trauer,
  N neutral), v the take. Boredom (L) is not one of our labels: skipped with that reason.
- URDU: `<Emotion>/S<G><X>_F<n>_<E><m>.wav`, G = M | F (gender), X the speaker, E = A | H | N | S.
- TurEV-DB: `<Emotion>/<speaker>_<code>_<word>.wav`, code kz (kızgın, angry), sk (sakin,
  calm), mt (mutlu, happy), hl (hüzünlü, sad); calm folds into neutral as RAVDESS calm does.
- ESD and CREMA-D through the LIME scanners in `training.lime.corpora`.
Speaker ids are prefixed with the corpus ("emodb-03") so they are unique across corpora.
Where the folder and the file name disagree on the label, the file is skipped: nothing says
which of the two is right.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from core.emotion.labels import check_intensity, check_label


@dataclass(frozen=True)
class CorpusRecord:
    """One labelled recording of a corpus, before conversion."""

    path: Path  # the file as distributed
    corpus: str
    speaker: str  # "<corpus>-<id>", unique across corpora
    label: str  # one of core.emotion.labels.EMOTIONS
    intensity: str
    language: str  # ISO 639-1
    text: str | None
    gender: str | None = None  # "f" | "m" where the corpus documents it
    source_label: str = ""  # the corpus's own label or code, for tracing a label back

    def __post_init__(self) -> None:
        check_label(self.label)
        check_intensity(self.intensity)


# Stable reason keys: the build report counts skipped files by these.
SKIP_REASONS = {
    "bad-name": "the file name does not follow the corpus's naming",
    "unknown-code": "an emotion code or folder the corpus does not define (mislabelled file)",
    "label-not-used": "a corpus label that is not one of the seven (e.g. EmoDB boredom)",
    "label-mismatch": "the folder and the file name give different emotions",
    "empty": "the file holds no audio (0 bytes or 0 samples)",
    "unreadable": "no decoder can read the file as audio",
    "too-short": "shorter than `min_seconds`",
    "silent": "the peak level is below `silence_dbfs`",
    "duplicate": "byte-identical to a file already used",
}


@dataclass(frozen=True)
class Skipped:
    path: Path
    corpus: str
    reason: str  # a key of SKIP_REASONS
    detail: str

    def __post_init__(self) -> None:
        if self.reason not in SKIP_REASONS:
            raise ValueError(f"unknown skip reason {self.reason!r}")


@dataclass
class Scan:
    records: list[CorpusRecord] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # metadata fixed on a file that is still used

    def skip(self, path: Path, corpus: str, reason: str, detail: str) -> None:
        self.skipped.append(Skipped(path, corpus, reason, detail))


def _audio_files(root: Path) -> list[Path]:
    # corpora mix .wav/.WAV; an AIFF named .wav is still found here and decoded later
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in {".wav", ".flac", ".aif", ".aiff"})


# --- TESS -------------------------------------------------------------------------------

TESS_LABELS = {"angry": "angry", "disgust": "disgusted", "fear": "fearful", "happy": "happy",
               "neutral": "neutral", "ps": "surprised", "pleasant_surprise": "surprised",
               "pleasant_surprised": "surprised", "sad": "sad"}
TESS_SPEAKERS = ("OAF", "YAF")  # older and younger adult female (Toronto, 2010)


def scan_tess(root: Path) -> Scan:
    scan = Scan()
    for wav in _audio_files(root):
        folder = wav.parent.name
        m_dir = re.fullmatch(r"(OAF|YAF)_(\w+)", folder, re.IGNORECASE)
        m_name = re.fullmatch(r"([A-Za-z]+)_([A-Za-z]+)_(\w+)", wav.stem)
        if not m_name:
            scan.skip(wav, "tess", "bad-name", f"{wav.name} is not <SPEAKER>_<word>_<emotion>.wav")
            continue
        prefix, word, emo = m_name.group(1).upper(), m_name.group(2).lower(), m_name.group(3).lower()
        if emo not in TESS_LABELS:
            scan.skip(wav, "tess", "unknown-code", f"unknown TESS emotion {emo!r} in {wav.name}")
            continue
        if m_dir and TESS_LABELS.get(m_dir.group(2).lower()) not in (None, TESS_LABELS[emo]):
            scan.skip(wav, "tess", "label-mismatch", f"folder {folder} but file name says {emo!r}")
            continue
        speaker = m_dir.group(1).upper() if m_dir else prefix
        if speaker not in TESS_SPEAKERS:
            scan.skip(wav, "tess", "bad-name", f"unknown TESS speaker {speaker!r} (expected OAF or YAF)")
            continue
        if prefix != speaker:
            # the release names one OAF file "OA_..."; the folder is unambiguous
            scan.notes.append(f"{wav.relative_to(root)}: speaker prefix {prefix!r} in the name, {speaker} from the folder")
        scan.records.append(CorpusRecord(wav, "tess", f"tess-{speaker}", TESS_LABELS[emo], "medium", "en",
                                         f"Say the word {word}.", "f", emo))
    return scan


# --- EmoDB ------------------------------------------------------------------------------

EMODB_LABELS = {"W": "angry", "E": "disgusted", "A": "fearful", "F": "happy", "T": "sad", "N": "neutral"}
EMODB_UNUSED = {"L": "boredom (Langeweile)"}
EMODB_SPEAKERS = {"03": "m", "08": "f", "09": "f", "10": "m", "11": "m", "12": "m", "13": "f", "14": "f",
                  "15": "m", "16": "f"}
# The ten sentences of the database (Burkhardt et al. 2005), by text code.
EMODB_TEXTS = {
    "a01": "Der Lappen liegt auf dem Eisschrank.",
    "a02": "Das will sie am Mittwoch abgeben.",
    "a04": "Heute abend könnte ich es ihm sagen.",
    "a05": "Das schwarze Stück Papier befindet sich da oben neben dem Holzstück.",
    "a07": "In sieben Stunden wird es soweit sein.",
    "b01": "Was sind denn das für Tüten, die da unter dem Tisch stehen?",
    "b02": "Sie haben es gerade hochgetragen und jetzt gehen sie wieder runter.",
    "b03": "An den Wochenenden bin ich jetzt immer nach Hause gefahren und habe Agnes besucht.",
    "b09": "Ich will das eben wegbringen und dann mit Karl was trinken gehen.",
    "b10": "Die wird auf dem Platz sein, wo wir sie immer hinlegen.",
}


def scan_emodb(root: Path) -> Scan:
    scan = Scan()
    for wav in _audio_files(root):
        m = re.fullmatch(r"(\d{2})([ab]\d{2})([A-Za-z])([a-z]?)", wav.stem)
        if not m:
            scan.skip(wav, "emodb", "bad-name", f"{wav.name} is not <speaker 2 digits><text a01..b10><emotion letter><take>.wav")
            continue
        spk, text_code, letter = m.group(1), m.group(2), m.group(3)
        if letter in EMODB_UNUSED:
            scan.skip(wav, "emodb", "label-not-used", f"{EMODB_UNUSED[letter]} is not one of the seven labels")
            continue
        if letter not in EMODB_LABELS:
            scan.skip(wav, "emodb", "unknown-code", f"unknown EmoDB emotion letter {letter!r} in {wav.name}")
            continue
        if text_code not in EMODB_TEXTS:
            scan.notes.append(f"{wav.name}: unknown text code {text_code!r}, text left empty")
        scan.records.append(CorpusRecord(wav, "emodb", f"emodb-{spk}", EMODB_LABELS[letter], "medium", "de",
                                         EMODB_TEXTS.get(text_code), EMODB_SPEAKERS.get(spk), letter))
    return scan


# --- URDU -------------------------------------------------------------------------------

URDU_LABELS = {"A": "angry", "H": "happy", "N": "neutral", "S": "sad"}
URDU_FOLDERS = {"angry": "A", "happy": "H", "neutral": "N", "sad": "S"}


def scan_urdu(root: Path) -> Scan:
    scan = Scan()
    for wav in _audio_files(root):
        m = re.fullmatch(r"S([MF])(\d+)_F(\d+)_([A-Za-z])(\d+)", wav.stem)
        if not m:
            scan.skip(wav, "urdu", "bad-name", f"{wav.name} is not S<M|F><speaker>_F<n>_<A|H|N|S><m>.wav")
            continue
        gender, spk, letter = m.group(1), m.group(2), m.group(4).upper()
        if letter not in URDU_LABELS:
            scan.skip(wav, "urdu", "unknown-code", f"unknown URDU emotion letter {letter!r} in {wav.name}")
            continue
        folder_letter = URDU_FOLDERS.get(wav.parent.name.lower())
        if folder_letter is not None and folder_letter != letter:
            scan.skip(wav, "urdu", "label-mismatch", f"folder {wav.parent.name} but file name says {letter!r}")
            continue
        scan.records.append(CorpusRecord(wav, "urdu", f"urdu-S{gender}{int(spk)}", URDU_LABELS[letter], "medium",
                                         "ur", None, gender.lower(), letter))
    return scan


# --- TurEV-DB ---------------------------------------------------------------------------

TUREV_LABELS = {"kz": "angry", "sk": "neutral", "mt": "happy", "hl": "sad"}  # sk = calm -> neutral
TUREV_FOLDERS = {"angry": "kz", "calm": "sk", "happy": "mt", "sad": "hl"}


def scan_turev(root: Path) -> Scan:
    scan = Scan()
    for wav in _audio_files(root):
        m = re.fullmatch(r"(\d+)_([a-z]+)_(\w+)", wav.stem)
        if not m:
            scan.skip(wav, "turev", "bad-name", f"{wav.name} is not <speaker>_<kz|sk|mt|hl>_<word>.wav")
            continue
        spk, code = m.group(1), m.group(2)
        if code not in TUREV_LABELS:
            scan.skip(wav, "turev", "unknown-code", f"unknown TurEV-DB emotion code {code!r} in {wav.name}")
            continue
        folder_code = TUREV_FOLDERS.get(wav.parent.name.lower())
        if folder_code is not None and folder_code != code:
            scan.skip(wav, "turev", "label-mismatch", f"folder {wav.parent.name} but file name says {code!r}")
            continue
        # the word in the name is ASCII-folded Turkish (cekirge for çekirge): not given as text
        scan.records.append(CorpusRecord(wav, "turev", f"turev-{spk}", TUREV_LABELS[code], "medium", "tr",
                                         None, None, code))
    return scan


# --- ESD and CREMA-D, through the LIME scanners ----------------------------------------

def _from_lime(items, bad, corpus: str, language: Callable[[str], str]) -> Scan:
    scan = Scan()
    for item in items:
        scan.records.append(CorpusRecord(item.path, corpus, f"{corpus}-{item.speaker}", item.emotion, item.intensity,
                                         language(item.speaker), item.text, None, item.emotion))
    for b in bad:
        path = Path(b["where"].split(": ", 1)[1])
        scan.skip(path, corpus, "unknown-code" if "unknown" in b["error"] else "bad-name", b["error"])
    return scan


def scan_esd(root: Path, language: str = "all") -> Scan:
    from training.lime.corpora import scan_esd as lime_scan_esd

    items, bad = lime_scan_esd(root, language)
    return _from_lime(items, bad, "esd", lambda spk: "zh" if int(spk) <= 10 else "en")


def scan_crema_d(root: Path) -> Scan:
    from training.lime.corpora import scan_crema_d as lime_scan_crema_d

    items, bad = lime_scan_crema_d(root)
    return _from_lime(items, bad, "crema-d", lambda _spk: "en")


SCANNERS: dict[str, Callable[[Path], Scan]] = {
    "tess": scan_tess, "emodb": scan_emodb, "urdu": scan_urdu, "turev": scan_turev,
    "esd": scan_esd, "crema-d": scan_crema_d,
}
