"""The conversation so far, trimmed to what fits the model's context window.

The engine sees past turns as text (`HistoryTurn`). The model's context holds the system
prompt, the history, the new user turn (or its audio tokens) and the reply it writes, so
the history gets what is left of `n_ctx` after the other three. When it does not fit, the
oldest turns go first: recent turns matter most to an empathetic reply. Tokens are
estimated from characters (about 4 per token for English with the BPE tokenizers of the
small models used here) unless the caller gives the model's own tokenizer.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from core.engines.base import HistoryTurn, fit_history

CHARS_PER_TOKEN = 4.0
TURN_OVERHEAD_TOKENS = 10  # chat-template markers around each user and assistant message


def estimate_tokens(text: str) -> int:
    return int(len(text) / CHARS_PER_TOKEN) + 1


@dataclass(frozen=True)
class ContextBudget:
    """How `n_ctx` is shared; what is left after these is the history's."""

    n_ctx: int = 2048
    system_tokens: int = 200  # persona + EIPS instruction
    user_tokens: int = 400  # the new turn: transcript, or ~150 audio tokens + cue text
    reply_tokens: int = 256  # max_tokens of the reply

    @property
    def history_tokens(self) -> int:
        return max(0, self.n_ctx - self.system_tokens - self.user_tokens - self.reply_tokens)


class Conversation:
    """Thread-safe list of past turns with a token-budgeted window."""

    def __init__(self, budget: ContextBudget | None = None, count_tokens: Callable[[str], int] = estimate_tokens) -> None:
        self.budget = budget or ContextBudget()
        self._count = count_tokens
        self._turns: list[HistoryTurn] = []
        self._lock = threading.Lock()

    def add(self, user: str, assistant: str) -> None:
        """Remember a finished (or interrupted) exchange. Empty exchanges are not kept."""
        if not (user.strip() or assistant.strip()):
            return
        with self._lock:
            self._turns.append(HistoryTurn(user=user.strip(), assistant=assistant.strip()))

    def clear(self) -> None:
        with self._lock:
            self._turns.clear()

    def __len__(self) -> int:
        return len(self._turns)

    @property
    def turns(self) -> list[HistoryTurn]:
        with self._lock:
            return list(self._turns)

    def turn_tokens(self, turn: HistoryTurn) -> int:
        return self._count(turn.user) + self._count(turn.assistant) + 2 * TURN_OVERHEAD_TOKENS

    def window(self, extra_tokens: int = 0) -> list[HistoryTurn]:
        """The newest turns whose tokens fit the history budget (minus `extra_tokens`), oldest first."""
        budget = self.budget.history_tokens - extra_tokens
        turns = self.turns  # one snapshot: turns may be added meanwhile
        costs = [self.turn_tokens(t) for t in turns]
        # what fit_history tries is always a suffix of `turns`: its cost is the tail of `costs`
        return fit_history(turns, lambda kept: kept, lambda kept: sum(costs[len(costs) - len(kept):]) <= budget)
