"""`cogaudio safety check [--json] [--reply]`: the crisis detector on text, one line in, one result out.

    $ printf 'I wrote goodbye letters to everyone\nthis commute is killing me\n' | cogaudio safety check
    FIRE  preparatory          1.00  pattern preparatory:2   goodbye letters
    ok    -                    0.04

Every input line gets exactly one result line, in order, flushed at once (so it can sit in a
pipe): empty lines, very long lines, other languages and bytes that are not UTF-8 included.
A line that is not valid UTF-8 is checked with the bad bytes replaced and says so (a
`warning` in JSON, one line on stderr otherwise). The whole detector runs, as in a
conversation: the explicit patterns, then the classifier; if the classifier's weights cannot
be read, the patterns still run, stderr says why, and the exit code is 2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import BinaryIO, TextIO

from core.safety.check import SafetyCheck, SafetyResult
from core.safety.classifier import HEAD_PATH, ClassifierError, CrisisClassifier
from core.safety.detector import CrisisDetector

TEXT_ECHO = 120  # characters of the input echoed in a JSON result


def add_parser(sub) -> None:
    p = sub.add_parser("safety", help="the on-device crisis check")
    safety_sub = p.add_subparsers(dest="safety_command", required=True)
    check = safety_sub.add_parser("check", help="check each line of stdin; one result per line")
    check.add_argument("--json", action="store_true", help="one JSON object per line")
    check.add_argument("--reply", action="store_true",
                       help="screen the lines as the companion's replies (adds the second-person patterns)")
    check.add_argument("--head", type=Path, default=HEAD_PATH, metavar="FILE",
                       help="the classifier head to use (default: the shipped assets/safety/crisis_head.npz); "
                            "scores a head that `python -m training.safety.train_head --out FILE` wrote before it ships")
    check.set_defaults(func=cmd_check)


def _result_json(n: int, text: str, r: SafetyResult, warning: str | None) -> str:
    return json.dumps({"line": n, "text": text[:TEXT_ECHO], "triggered": r.triggered, "category": r.category,
                       "score": round(r.score, 4), "layer": r.layer, "rule": r.rule, "model": r.model,
                       "matched": r.matched[:TEXT_ECHO] if r.matched else None, "warning": warning},
                      ensure_ascii=False)


def _result_text(r: SafetyResult) -> str:
    if not r.triggered:
        return f"ok    {'-':<20} {r.score:.2f}"
    how = f"{r.layer} {r.rule or r.model}"
    return f"FIRE  {r.category:<20} {r.score:.2f}  {how:<22}  {(r.matched or '')[:TEXT_ECHO]}"


def run_check(stdin: BinaryIO, stdout: TextIO, stderr: TextIO, as_json: bool, reply: bool,
              head_path: Path = HEAD_PATH) -> int:
    code = 0
    try:
        classifier = CrisisClassifier.load(head_path)
    except ClassifierError as exc:
        print(f"cogaudio safety check: {exc} Checking with the patterns alone.", file=stderr)
        classifier, code = None, 2
    check = SafetyCheck(detector=CrisisDetector(classifier))
    for n, raw in enumerate(stdin, 1):
        raw = raw.rstrip(b"\r\n")
        warning = None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            text = raw.decode("utf-8", errors="replace")
            warning = f"line {n} is not valid UTF-8 ({exc.reason} at byte {exc.start}); checked with those bytes replaced"
        try:
            result = check.check_reply(text) if reply else check.check_transcript(text)
        except Exception as exc:  # one bad line must not cost the others their answer
            print(f"cogaudio safety check: line {n}: {type(exc).__name__}: {exc}", file=stderr)
            result, code = SafetyResult(False), 2
        if as_json:
            print(_result_json(n, text, result, warning), file=stdout, flush=True)
        else:
            if warning:
                print(f"cogaudio safety check: {warning}", file=stderr)
            print(_result_text(result), file=stdout, flush=True)
    return code


def cmd_check(args) -> int:
    return run_check(sys.stdin.buffer, sys.stdout, sys.stderr, args.json, args.reply, args.head)
