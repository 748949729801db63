"""What the language-model end-of-turn feature costs per call, against the decision it joins.

    nice -n 10 python bench/lm_completion_cost.py [--json] [--repeats 3]

The end-of-turn model scores the prefetched transcript once per pause (EndOfTurnModel.completion;
the stage then reuses p on every further silent window). Timed here, per call, on this CPU:

- `words+voice`: the existing decision's scoring (word features, a logistic regression);
- `lm, new turn`: the language model on a transcript it has not seen, sharing only the chat
  header with the previous prompt (the first pause of a turn);
- `lm, same turn`: the transcript grown by a few words since the previous pause (the turn's
  earlier words are reused from llama.cpp's cache, as in a turn with several pauses);
- `lm, cached`: the same text again (the next silent windows of one pause);
- `words+voice+lm`: the whole scoring with the feature, on a new turn.

Texts: 24 everyday sentences and their prefixes (as the recogniser writes them, with a full
stop). Figures are medians and p90 over the calls; the ratio column is against the existing
decision's median from the same run. One llama.cpp thread, as the stage uses.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.conversation.end_of_turn import EndOfTurnModel  # noqa: E402
from core.conversation.lm_completion import LmCompletion  # noqa: E402
from core.speech.final_prosody import FinalProsody  # noqa: E402

SENTENCES = """I went to the store and bought some bread.
Kids are talking by the door.
My sister called and we talked for an hour.
The weather has been cold and rainy all week.
Can you help me with the homework for tomorrow?
I feel tired and I want to sleep early tonight.
We should visit my grandmother next weekend.
The meeting ran late so I missed the bus home.
I don't know what to say to him anymore.
She told me the results would come on Friday.
My back hurts when I sit for too long.
Do you think it will snow before Christmas?
I finally finished reading that long book about the war.
The dog keeps barking at the neighbours every night.
I'm worried about the exam next Monday.
We cooked dinner together and watched a film.
Could you remind me to call the doctor at noon?
The train was cancelled again this morning.
I lost my keys somewhere in the garden.
He said he would come back in a few minutes.
It was the best day I have had in months.
Nobody answered when I rang the bell.
I think I need a holiday by the sea.
What time does the pharmacy close on Sundays?""".splitlines()
VOICE = FinalProsody()


def _time(fn, *args) -> float:
    t0 = time.perf_counter()
    fn(*args)
    return (time.perf_counter() - t0) * 1000.0


def run(repeats: int) -> dict[str, list[float]]:
    base = EndOfTurnModel.load()
    lm = LmCompletion.bundled()
    with_lm = EndOfTurnModel.load(lm=lm)
    if with_lm.lm is None:  # the shipped file has no with_lm section: time the feature alone
        with_lm = None
    times: dict[str, list[float]] = {k: [] for k in ("words+voice", "lm, new turn", "lm, same turn", "lm, cached",
                                                     "words+voice+lm")}
    lm.p_end("Hello there.")  # the chat header is evaluated once, at load in the app
    for r in range(repeats):
        for s in SENTENCES:
            variant = s if r == 0 else f"{s[:-1]} {'again' if r == 1 else 'too'}{s[-1]}"  # texts not yet cached
            words = variant.rstrip(".?!").split()
            half = " ".join(words[: len(words) // 2]) + "."
            times["words+voice"].append(_time(base.completion, variant, VOICE, True))
            times["lm, new turn"].append(_time(lm.p_end, half))
            times["lm, same turn"].append(_time(lm.p_end, variant))
            times["lm, cached"].append(_time(lm.p_end, variant))
            if with_lm is not None:
                other = f"So {variant[0].lower()}{variant[1:]}"
                times["words+voice+lm"].append(_time(with_lm.completion, other, VOICE, True))
    lm.close()
    return {k: v for k, v in times.items() if v}


def table(times: dict[str, list[float]]) -> str:
    ref = statistics.median(times["words+voice"])
    lines = [f"{'per call':<16} {'calls':>5} {'median ms':>10} {'p90 ms':>8} {'x words+voice':>14}"]
    for name, ms in times.items():
        med, p90 = statistics.median(ms), statistics.quantiles(ms, n=10)[-1]
        lines.append(f"{name:<16} {len(ms):>5} {med:>10.3f} {p90:>8.3f} {med / ref:>14.0f}")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3, help="passes over the sentences (new texts each pass)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    times = run(args.repeats)
    if args.json:
        print(json.dumps({k: {"median_ms": statistics.median(v), "calls": len(v)} for k, v in times.items()}))
    else:
        print(table(times))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
