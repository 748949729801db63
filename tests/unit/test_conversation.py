"""The conversation history stays inside the model's context window."""

from __future__ import annotations

from core.conversation.history import ContextBudget, Conversation


def test_window_drops_the_oldest_turns_first():
    conv = Conversation(ContextBudget(n_ctx=600, system_tokens=100, user_tokens=100, reply_tokens=100))  # 300 for history
    for i in range(10):
        conv.add(f"user {i} " + "word " * 40, f"assistant {i} " + "word " * 40)  # ~110 tokens a turn
    window = conv.window()
    assert [t.user.split()[1] for t in window] == ["8", "9"]
    assert sum(conv.turn_tokens(t) for t in window) <= 300
    assert len(conv) == 10  # nothing is forgotten, only left out of the prompt


def test_window_is_empty_when_nothing_fits_and_uses_a_given_tokenizer():
    conv = Conversation(ContextBudget(n_ctx=512, system_tokens=200, user_tokens=200, reply_tokens=112),
                        count_tokens=lambda s: len(s.split()))
    conv.add("a b c", "d e")
    assert conv.window() == []  # history budget is 0
    conv.budget = ContextBudget(n_ctx=1000, system_tokens=200, user_tokens=200, reply_tokens=100)
    assert len(conv.window()) == 1
    assert conv.turn_tokens(conv.turns[0]) == 5 + 20


def test_empty_exchanges_are_not_kept():
    conv = Conversation()
    conv.add("  ", "")
    assert len(conv) == 0


def test_the_pipeline_budgets_history_from_the_engine_settings():
    from scripted_engine import ScriptedEngine

    from core.conversation.orchestrator import ConversationPipeline
    from core.settings import EngineSettings, Settings

    settings = Settings(engine=EngineSettings(n_ctx=4096, max_tokens=128))
    p = ConversationPipeline(settings, ScriptedEngine(), speaker=None)
    assert p.conversation.budget.n_ctx == 4096 and p.conversation.budget.reply_tokens == 128
