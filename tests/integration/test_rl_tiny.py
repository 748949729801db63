"""Stage 3 (DR-SAPO) on a tiny config: both routes with audio, the update, a raising reward, resume.

The LLM is `tiny-random` and the data the synthetic LIME-shaped set (emotions only in the
sound), so a step takes about a second; the rewards are real (training/rl/rewards.py) except
where a test swaps in a scripted reward to make the update or the failure certain.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from tests.helpers.synthetic_lime import build  # noqa: E402
from training.cli import main as train_cli  # noqa: E402
from training.rl.rewards import RewardModel, RewardResult, Sample  # noqa: E402

TINY_MODEL = {"llm": "tiny-random", "encoder_layers": 1, "encoder_d_model": 32, "encoder_heads": 2,
              "encoder_ffn_dim": 64, "projector_hidden": 64, "lora_r": 4, "audio_tail_tokens": 2}


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("lime") / "raw", texts=2)


def _config(tmp: Path, data: Path, **stage3) -> Path:
    import yaml

    cfg = {"data": str(data), "seed": 3, "model": TINY_MODEL, "eval": {"max_rows": -1},
           "stage3": {"output_dir": str(tmp / "run"), "max_steps": 2, "prompts_per_step": 2, "group_size": 2,
                      "max_new_tokens": 10, "direct_max_new_tokens": 8, "relevance": "lexical", "eval_prompts": 2,
                      "save_steps": 1, "learning_rate": 1e-2, **stage3}}
    path = tmp / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def _metrics(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


class ScriptedReward(RewardModel):
    """A reward that varies with the completion (so advantages are never all zero) and can fail on cue."""

    def __init__(self, fail_every: int = 0) -> None:
        super().__init__()
        self.calls, self.fail_every, self.routes = 0, fail_every, []

    def score(self, s: Sample) -> RewardResult:
        self.calls += 1
        self.routes.append(s.route)
        if self.fail_every and self.calls % self.fail_every == 0:
            return super().score(Sample("no-such-route", s.completion, s.transcript, s.emotion, s.intensity))
        return RewardResult((len(s.completion) * 7 % 11) / 10, {"len": float(len(s.completion))})


def test_steps_roll_out_both_routes_from_audio_move_only_the_lora_and_log_failed_rewards(data, tmp_path):
    from training.model.export_layout import load_model
    from training.rl.config import load_rl_config
    from training.rl.trainer import train_rl

    cfg = load_rl_config(_config(tmp_path, data, eval_prompts=0))
    reward = ScriptedReward(fail_every=5)
    torch.manual_seed(0)
    result = train_rl(cfg, rewards=reward, log=lambda *_: None)
    run = tmp_path / "run"
    m = _metrics(run)
    assert [x["step"] for x in m] == [1, 2] and result["steps"] == 2
    # 2 steps x 2 routes x 2 prompts x 2 samples, both routes every step
    assert reward.calls == 16 and reward.routes.count("explicit") == reward.routes.count("direct") == 8
    assert all(0.1 <= x["weight_explicit"] <= 0.9 and abs(x["weight_explicit"] + x["weight_direct"] - 1) < 1e-9 for x in m)
    errors = [json.loads(line) for line in (run / "reward_errors.jsonl").read_text().splitlines()]
    assert len(errors) == 3 and all("unknown route" in e["error"] for e in errors)
    assert sum(x["no_reward_explicit"] + x["no_reward_direct"] for x in m) == 3

    from accelerate.utils import set_seed

    from training.model.cogaudio import CogAudioModel
    from training.model.config import ModelConfig

    set_seed(3)  # the run's seed: the same starting weights as train_rl built
    start = CogAudioModel.build(ModelConfig(**TINY_MODEL))
    trained = load_model(run / "model")
    lora = {n: p for n, p in trained.named_parameters() if "lora_B" in n}
    assert lora and all(float(p.abs().max()) == 0 for n, p in start.named_parameters() if "lora_B" in n)
    assert any(float(p.abs().max()) > 0 for p in lora.values()), "no LoRA weight moved"
    # the audio path is frozen in stage 3 (train_audio: false): exactly the weights it started from
    for a, b in zip(trained.projector.parameters(), start.projector.parameters(), strict=True):
        assert torch.equal(a, b)
    for a, b in zip(trained.encoder.parameters(), start.encoder.parameters(), strict=True):
        assert torch.equal(a, b)
    ck = torch.load(run / "checkpoints" / "step-2" / "optim.pt", weights_only=False)
    assert len(ck["optimizer"]["param_groups"][0]["params"]) == len(lora) * 2  # lora_A and lora_B only
    assert json.loads((run / "checkpoints" / "step-2" / "route.json").read_text())["averages"].keys() == {"explicit", "direct"}


def test_cli_run_scores_held_out_prompts_and_a_resumed_run_repeats_the_uninterrupted_step(data, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    cfg = _config(tmp_path / "a", data)
    assert train_cli(["rl", "--config", str(cfg)]) == 0
    run = tmp_path / "a" / "run"
    result = json.loads((run / "result.json").read_text())
    for key in ("eval_before", "eval_after"):
        assert set(result[key]) == {"explicit", "direct"} and result[key]["direct"]["n"] == 2
    assert (run / "learning_curve.png").stat().st_size > 5000
    # the "crash": a second run of the same command with one more step resumes at step 2
    assert train_cli(["rl", "--config", str(cfg), "--set", "max_steps=3"]) == 0
    assert json.loads((run / "result.json").read_text())["resumed_from"] == 2
    resumed = _metrics(run)
    assert [x["step"] for x in resumed] == [1, 2, 3]
    # an uninterrupted 3-step run: step 3 sees the same prompts, samples and weights
    cfg_b = _config(tmp_path / "b", data, max_steps=3)
    assert train_cli(["rl", "--config", str(cfg_b)]) == 0
    straight = _metrics(tmp_path / "b" / "run")
    for k in ("loss", "reward_explicit", "reward_direct", "weight_explicit"):
        assert straight[2][k] == pytest.approx(resumed[2][k], rel=1e-5, abs=1e-6), k


def test_bad_config_is_refused_with_the_field_names(tmp_path, data, capsys):
    cfg = _config(tmp_path, data, group_size=1)
    assert train_cli(["rl", "--config", str(cfg)]) == 2
    assert "group_size" in capsys.readouterr().err
    cfg = _config(tmp_path, data, no_such_field=1)
    assert train_cli(["rl", "--config", str(cfg)]) == 2
    assert "no_such_field" in capsys.readouterr().err
