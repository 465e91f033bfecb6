"""Reinforcement learning from checks (GRPO): every check on hand-made answers (malformed and truncated JSON,
unicode, an empty answer, a 100 kB answer, a pattern that backtracks without end), the weighted sum, the reward in
words, the preview's no-signal warning, a reward given as anything but data refused, prompt-only files; then GRPO on
the tiny model: its metrics, pass rates and spread in the run folder, stop and resume with equal losses and rewards,
a start from a finished supervised run, evaluation check by check, the preview and the CLI."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from engine import cli, data, i18n, methods, runs, train
from engine.evaluate import evaluate_run
from engine.fields import SettingsError
from engine.methods.grpo import checks, preview, reward
from engine.settings import RunConfig, set_value
from conftest import small_csv, tiny_config
from test_train import AtStep

ROOT = Path(__file__).resolve().parents[2]
ORDER = '{"item": "mug", "colour": "blue", "quantity": 3, "city": "Leeds"}'


def run_check(kind, answer, reference="", tokens=None, **params):
    return checks.passes({"kind": kind, "weight": 1.0, **params}, answer, reference, tokens)


# ---------------------------------------------------------------- the checks on hand-made answers

@pytest.mark.parametrize("answer, valid", [
    (ORDER, True), ("  [1, 2, {\"a\": null}]\n", True), ('{"item": "mug", "colour": "blue"', False),  # truncated
    ('{"item": "mug",}', False), ("{'item': 'mug'}", False), ("```json\n" + ORDER + "\n```", False),
    ('{"ville": "Zürich", "emoji": "🙂"}', True), ("", False), ("null", True), ("[" * 5000 + "]" * 5000, False),
])
def test_valid_json_on_good_malformed_truncated_unicode_empty_and_too_deep_answers(answer, valid):
    assert run_check("valid_json", answer) is valid


def test_json_keys_and_fields_compare_with_the_expected_answer():
    assert run_check("json_keys", ORDER, keys=["item", "city"])
    assert not run_check("json_keys", '{"item": "mug"}', keys=["item", "city"])
    assert not run_check("json_keys", '["item", "city"]', keys=["item", "city"])  # not an object
    assert not run_check("json_keys", '{"item": "mug", "city"', keys=["item"])  # truncated
    assert run_check("json_keys", '{"customer": {"city": "Leeds"}}', keys=["customer.city"])  # a dotted path
    # a field matches whatever its case, spaces or key order; numbers by value; a different type does not
    assert run_check("json_field", '{"city": " LEEDS ", "item": "x"}', ORDER, field="city")
    assert run_check("json_field", '{"quantity": 3.0}', ORDER, field="quantity")
    assert not run_check("json_field", '{"quantity": "3"}', ORDER, field="quantity")
    assert not run_check("json_field", '{"city": "York"}', ORDER, field="city")
    assert not run_check("json_field", '{"item": "mug"}', ORDER, field="city")  # missing in the answer
    assert not run_check("json_field", '{"city": "Leeds"}', "not json", field="city")  # no expected JSON
    assert run_check("json_field", '{"ville": "zÜrich"}', '{"ville": "Zürich"}', field="ville")


def test_equals_normalises_case_spaces_and_json_key_order():
    assert run_check("equals", '{"city": "leeds", "quantity": 3, "colour": "Blue", "item": "MUG"}', ORDER)
    assert not run_check("equals", '{"city": "leeds", "quantity": 4, "colour": "Blue", "item": "MUG"}', ORDER)
    assert run_check("equals", "  Team: Billing |  priority: HIGH ", "team: billing | priority: high")
    assert not run_check("equals", "team: billing", "team: billing | priority: high")
    assert not run_check("equals", "", "team: billing")
    assert run_check("equals", "Ça coûte 3 €", "ça COÛTE 3 €")


def test_number_takes_the_last_number_unless_told_first():
    assert run_check("number", "First 2 apples, then 3 more: 5 in all.", "#### 5")
    assert not run_check("number", "5 in all, I think 6", "#### 5")
    assert run_check("number", "5 in all, I think 6", "#### 5", which="first")
    assert run_check("number", "The total is 1,250.50 euros", "1250.5")
    assert run_check("number", "-3", "minus: -3.0")
    assert not run_check("number", "no number at all", "5")
    assert not run_check("number", "", "5")


def test_words_patterns_length_and_edges():
    assert run_check("contains", "I am Sorry about it", words=["sorry", "apologise"])
    assert not run_check("contains", "I am sorry", words=["sorry", "apologise"], all=True)
    assert run_check("not_contains", "Fine.", words=["sorry"])
    assert not run_check("not_contains", "SORRY!", words=["sorry"])
    assert run_check("pattern", "Order #A-1234 shipped", pattern=r"#[A-Z]-\d{4}")
    assert not run_check("pattern", "Order 1234", pattern=r"#[A-Z]-\d{4}")
    assert run_check("length", "one two three", max=3)
    assert not run_check("length", "one two three four", max=3)
    assert run_check("length", "abcdé", min=5, max=5, unit="characters")
    assert run_check("length", "x", min=0, max=7, unit="tokens", tokens=7)
    assert not run_check("length", "x", max=7, unit="tokens", tokens=8)
    assert run_check("length", "", max=3) and not run_check("length", "", min=1)
    assert run_check("starts_with", "  Happy to help! Here it is.", text="happy to help!")
    assert run_check("ends_with", "Thanks.\n", text="thanks.")
    assert not run_check("starts_with", "", text="Happy")


def test_a_100_kb_answer_is_checked_quickly():
    answer = ("word 12 " * 13_000)[:100_000] + '{"a": 1}'
    items = [{"kind": kind, "weight": 1.0, **params} for kind, params in (
        ("valid_json", {}), ("json_keys", {"keys": ["a"]}), ("json_field", {"field": "a"}), ("equals", {}),
        ("number", {}), ("contains", {"words": ["zebra"]}), ("not_contains", {"words": ["zebra"]}),
        ("pattern", {"pattern": r"\d+\s+word"}), ("length", {"max": 40}), ("starts_with", {"text": "word"}),
        ("ends_with", {"text": "}"}))]
    start = time.perf_counter()
    total, results = checks.reward(items, answer, '{"a": 1}', tokens=30_000)
    assert time.perf_counter() - start < 2.0
    assert results == [False, False, False, False, True, False, True, True, False, True, True]
    assert total == 5.0


@pytest.mark.parametrize("pattern", [r"(a+)+$", r"(a|aa)+$", r"(a|a)+b"])
def test_a_catastrophic_pattern_stops_at_its_time_limit_and_counts_as_failed(pattern):
    answer = "a" * 28 + "!" if pattern == r"(a+)+$" else "a" * 40 + "!"
    item = {"kind": "pattern", "pattern": pattern, "weight": 2.0}
    start = time.perf_counter()
    result = checks.passes(item, answer)
    assert time.perf_counter() - start < 10  # the limit is 0.1 s of matching; a busy shared CPU stretches it
    assert not result  # False (no match) or None (out of time): failed either way
    assert checks.reward([item], answer) == (0.0, [result])


def test_the_time_limit_really_interrupts_the_match():
    slow = {"kind": "pattern", "pattern": r"(a|aa)+$", "weight": 1.0}
    assert checks.passes(slow, "a" * 60 + "!") is None  # ran out of time: without a limit this takes years


def test_the_reward_is_the_weighted_sum_of_the_checks_passed():
    items = [{"kind": "valid_json", "weight": 1.0}, {"kind": "json_field", "field": "city", "weight": 2.0},
             {"kind": "length", "min": 41, "unit": "words", "weight": -0.5}]
    assert checks.reward(items, ORDER, ORDER) == (3.0, [True, True, False])
    assert checks.reward(items, '{"city": "York"}', ORDER) == (1.0, [True, False, False])
    assert checks.reward(items, "no " * 50, ORDER) == (-0.5, [False, False, True])
    assert checks.reward(items, "", ORDER) == (0.0, [False, False, False])


def test_the_reward_in_words_in_english_and_french():
    items = [{"kind": "valid_json", "weight": 1.0}, {"kind": "json_field", "field": "category", "weight": 2.0},
             {"kind": "length", "min": 41, "unit": "words", "weight": -0.5}]
    assert checks.sentence(items) == ("+1 if valid JSON, +2 if 'category' matches the expected one, "
                                      "−0.5 if it is longer than 40 words")
    with i18n.using("fr"):
        french = checks.sentence(items)
    assert french.startswith("+1 si ") and "−0,5 si " in french and "'category'" in french
    for kind, params in (("json_keys", {"keys": ["a"]}), ("equals", {}), ("number", {}), ("contains", {"words": ["x"]}),
                         ("not_contains", {"words": ["x"]}), ("pattern", {"pattern": "x"}),
                         ("length", {"min": 2, "max": 5}), ("starts_with", {"text": "x"}),
                         ("ends_with", {"text": "x"})):
        item = {"kind": kind, "weight": 1.0, **params}
        with i18n.using("fr"):
            french = checks.condition(item)
        assert french and french != checks.condition(item), kind


# ---------------------------------------------------------------- a reward is data, never code

def grpo_config(**grpo) -> RunConfig:
    return RunConfig.from_dict({"method": {"method": "grpo"}, "grpo": grpo}).validate()


def test_a_reward_is_read_from_yaml_the_cli_and_a_form_as_the_same_list():
    text = '[{"kind": "valid_json", "weight": 1}, {"kind": "json_keys", "keys": "item, city", "weight": 0.5}]'
    config = grpo_config()
    set_value(config, "grpo.reward", text)  # the CLI's and the form's text, JSON (or YAML)
    assert config.grpo.reward == [{"kind": "valid_json", "weight": 1.0},
                                  {"kind": "json_keys", "keys": ["item", "city"], "weight": 0.5}]
    again = RunConfig.from_dict(__import__("yaml").safe_load(config.to_yaml())).validate()
    assert again.grpo.reward == config.grpo.reward  # the run's YAML holds it as data and reads back the same
    assert "kind: json_keys" in config.to_yaml()
    set_value(config, "grpo.reward", "- {kind: contains, words: [sorry]}")  # YAML: the weight defaults to 1
    assert config.grpo.reward == [{"kind": "contains", "words": ["sorry"], "all": False, "weight": 1.0}]


@pytest.mark.parametrize("value, says", [
    ("lambda completions: [1.0]", "expected a list of mappings"),
    ("def reward(completions):\n    return [1.0]", "expected a list of mappings"),
    ("[{kind: valid_json, weight: 1}", "not a YAML or JSON list"),
    ([], "needs at least 1 item"),
    (lambda completions, **kw: [1.0], "expected a list of mappings"),
    ([lambda completions, **kw: [1.0]], "item 1: expected a mapping"),
    (["valid_json"], "item 1: expected a mapping"),
    ([{"kind": "python", "code": "import os"}], "unknown kind 'python'"),
    ([{"kind": "valid_json", "code": "import os"}], "has no setting code"),
    ([{"kind": "contains", "words": print}], "words = <built-in function print> is not a valid list"),
    ([{"kind": "valid_json", "weight": "heavy"}], "weight = 'heavy' is not a valid float"),
    ("[{kind: valid_json, weight: !!python/name:os.system }]", "not a YAML or JSON list"),
    ([{"kind": "pattern", "pattern": "(unclosed"}], "not a valid regular expression"),
    ([{"kind": "length", "unit": "words"}], "needs a min, a max or both"),
    ([{"kind": "length", "min": 9, "max": 3}], "not a range"),
    ([{"kind": "json_field"}], "needs field"),
    ([{"kind": "number", "which": "middle"}], "is not allowed"),
])
def test_a_reward_given_as_anything_but_data_is_refused_saying_where(value, says):
    with pytest.raises(SettingsError) as err:
        RunConfig.from_dict({"method": {"method": "grpo"}, "grpo": {"reward": value}})
    assert says in str(err.value) and "grpo.reward" in str(err.value)
    config = grpo_config()
    config.grpo.reward = value  # set in Python, past the YAML: validate refuses it too
    with pytest.raises(SettingsError):
        config.validate()


def test_the_cli_takes_the_reward_as_yaml_text(tmp_path, capsys):
    args = cli.build_parser().parse_args(["train", str(ROOT / "assets/configs/order_extraction_grpo.yaml"),
                                          "--grpo.reward", "[{kind: valid_json, weight: 2}]"])
    config = cli.load_config(args)
    assert config.method.method == "grpo" and config.grpo.reward == [{"kind": "valid_json", "weight": 2.0}]
    args = cli.build_parser().parse_args(["train", str(ROOT / "assets/configs/order_extraction_grpo.yaml"),
                                          "--grpo.reward", "import os; os.system('true')"])
    with pytest.raises(SettingsError, match="expected a list of mappings"):
        cli.load_config(args)


# ---------------------------------------------------------------- the preview's findings (no model needed)

def result(totals_by_prompt, passed_by_prompt, checks_=None):
    items = checks_ or [{"kind": "valid_json", "weight": 1.0}]
    samples = []
    for p, (totals, passed) in enumerate(zip(totals_by_prompt, passed_by_prompt)):
        for total, ok in zip(totals, passed):
            samples.append({"prompt": p, "answer": "x", "reward": total, "passed": ok,
                            "timed_out": [False] * len(items), "cut": False})
    return {"checks": items, "group_size": len(totals_by_prompt[0]), "samples": samples,
            "prompts": ["p"] * len(totals_by_prompt), "expected": [""] * len(totals_by_prompt), "max_tokens": 48}


def test_a_reward_that_scores_every_answer_alike_is_flagged_with_what_to_change():
    never = result([[0, 0], [0, 0]], [[[False], [False]], [[False], [False]]])
    level, text = preview.findings(never)[0]
    assert level == "warning" and "cannot tell better answers from worse" in text
    assert "GRPO will learn nothing from it" in text and "No answer passes any check" in text
    always = result([[1, 1], [1, 1]], [[[True], [True]], [[True], [True]]])
    level, text = preview.findings(always)[0]
    assert level == "warning" and "already passes every check" in text
    with i18n.using("fr"):
        french = i18n.render(preview.findings(always)[0][1])
    assert "GRPO n'en apprendra rien" in french and "réussit déjà toutes les vérifications" in french
    # groups alike within themselves but not with each other: still nothing to compare within a group
    alike = result([[1, 1], [0, 0]], [[[True], [True]], [[False], [False]]])
    level, text = preview.findings(alike)[0]
    assert level == "warning" and "cannot tell better answers from worse" in text


def test_a_reward_with_spread_is_said_to_teach_and_dead_checks_are_named():
    items = [{"kind": "valid_json", "weight": 1.0}, {"kind": "contains", "words": ["zebra"], "weight": 1.0}]
    good = result([[1, 0], [0, 0]], [[[True, False], [False, False]], [[False, False], [False, False]]], items)
    found = preview.findings(good)
    assert found[0] == ("success", found[0][1]) and "1 of 2 prompts" in found[0][1]
    assert any(level == "warning" and "Check 2 (it contains 'zebra') passes on no answer" in text
               for level, text in found)


# ---------------------------------------------------------------- prompts alone

def prompt_file(tmp_path, n=40) -> Path:
    path = tmp_path / "prompts.jsonl"
    path.write_text("".join(json.dumps({"prompt": f"Say something about item {i}."}) + "\n" for i in range(n)),
                    encoding="utf-8")
    return path


def test_a_prompt_only_file_is_read_for_grpo_and_refused_by_the_methods_that_learn_answers(tmp_path):
    loaded = data.load_data(prompt_file(tmp_path))
    assert loaded.kind == data.PROMPTS and loaded.shape == "prompt_only" and len(loaded.examples) == 40
    assert loaded.examples[0]["prompt"][-1]["content"] == "Say something about item 0."
    assert reward.reference(loaded.examples[0]) == ""
    assert methods.mismatch("grpo", data.PROMPTS) is None and methods.mismatch("grpo", data.ANSWERS) is None
    assert "learns from one answer per row" in methods.mismatch("sft", data.PROMPTS)
    assert methods.mismatch("dpo", data.PROMPTS) and methods.mismatch("grpo", data.PAIRS)
    assert [m.name for m in methods.for_data(data.PROMPTS)] == ["grpo"]
    # a file with answers is still one-answer data (SFT reads it as before)
    assert data.load_data(small_csv(tmp_path / "t.csv")).kind == data.ANSWERS
    with pytest.raises(data.DataError, match="compares the answer with the expected one"):
        reward.check_references([{"kind": "valid_json"}, {"kind": "equals"}], loaded.examples)
    reward.check_references([{"kind": "valid_json"}], loaded.examples)  # needs no expected answer


# ---------------------------------------------------------------- GRPO on the tiny model

# On the tiny model's random answers these checks differ from answer to answer, so every step has a signal.
VARIED = [{"kind": "length", "max": 48, "unit": "characters", "weight": 1.0},
          {"kind": "not_contains", "words": ["c"], "weight": 0.5}]


def grpo_tiny(tmp_path, model_dir, eval_file=None, **training):
    tmp_path.mkdir(parents=True, exist_ok=True)
    config = tiny_config(tmp_path, model_dir, **{"max_steps": 4, "batch_size": 2, "eval_every": 2,
                                                 "save_every": 100, **training})
    config.method.method = "grpo"
    config.grpo.reward, config.grpo.num_generations, config.grpo.max_completion_length = VARIED, 4, 8
    config.grpo.eval_prompts = 4
    config.generation.max_new_tokens, config.generation.eval_rows = 8, 4
    if eval_file:
        config.data.eval_file = str(eval_file)
    return config.validate()


@pytest.fixture(scope="module")
def grpo_run(tmp_path_factory, tiny_model_dir):
    run = runs.create_run(grpo_tiny(tmp_path_factory.mktemp("grpo"), tiny_model_dir))
    status = train.train_run(run)
    assert status["state"] == "finished", status
    return run


def test_a_grpo_run_writes_the_reward_pass_rates_spread_length_and_kl(grpo_run):
    records = grpo_run.metrics()
    steps = [r for r in records if "loss" in r]
    assert [r["step"] for r in steps] == [1, 2, 3, 4]
    for key in ("reward", "reward_std", "reward_spread", "frac_reward_zero_std", "completions/mean_length", "kl",
                "rewards/check1_length/mean", "rewards/check2_not_contains/mean"):
        assert all(key in r for r in steps), key
    for r in steps:  # the reward is the weighted pass rates; pass rates are shares
        rates = r["rewards/check1_length/mean"], r["rewards/check2_not_contains/mean"]
        assert r["reward"] == pytest.approx(rates[0] + 0.5 * rates[1])
        assert 0 <= r["rewards/check1_length/mean"] <= 1 and r["completions/mean_length"] <= 8
    assert any(r["reward_spread"] > 0 for r in steps)  # the answers differ within groups: something to learn
    evals = [r for r in records if "eval_loss" in r]
    assert [r["step"] for r in evals] == [0, 2, 4]  # the untrained model first, then every 2 steps
    assert all("eval_reward" in r and "eval_rewards/check1_length/mean" in r for r in evals)
    assert "eval_reward" in grpo_run.status()["final"]
    assert (grpo_run.adapter_dir / "adapter_model.safetensors").exists()
    saved = RunConfig.load(grpo_run.path / "config.yaml")
    assert saved.grpo.reward == VARIED and "kind: length" in (grpo_run.path / "config.yaml").read_text()


def test_stop_and_resume_give_the_losses_and_rewards_of_an_uninterrupted_run(tmp_path, tiny_model_dir):
    straight = runs.create_run(grpo_tiny(tmp_path / "a", tiny_model_dir, eval_every=100))
    assert train.train_run(straight)["state"] == "finished"
    run = runs.create_run(grpo_tiny(tmp_path / "b", tiny_model_dir, eval_every=100))
    stop = __import__("threading").Event()
    status = train.train_run(run, stop, callbacks=[AtStep(2, lambda model: stop.set())])
    assert status["state"] == "stopped" and run.can_resume()
    assert train.train_run(run, resume=True)["state"] == "finished"
    got = {r["step"]: r for r in run.metrics() if "loss" in r}
    expected = {r["step"]: r for r in straight.metrics() if "loss" in r}
    assert sorted(got) == [1, 2, 3, 4]
    assert any(r["loss"] != 0 for r in expected.values())  # the comparison below compares something
    for step, record in expected.items():
        for key in ("loss", "reward", "completions/mean_length"):
            assert got[step][key] == pytest.approx(record[key], abs=1e-4), (step, key)


def test_held_out_prompts_are_scored_check_by_check_and_shown_in_both_languages(grpo_run, capsys):
    assert cli.main(["evaluate", str(grpo_run.path)]) == 0
    out = capsys.readouterr().out
    results = runs.load_results(grpo_run)
    assert results["kind"] == "checks" and results["rows"] == 4 and results["best"] == 1.5
    for who in ("base", "tuned"):
        rates = [results[who]["check1_length"], results[who]["check2_not_contains"]]
        assert all(0 <= r <= 1 for r in rates) and 0 <= results[who]["all_pass"] <= min(rates)
        assert rates[0] == sum(r[f"{who}_passed"][0] for r in results["table"]) / 4
        expected = sum(r[f"{who}_reward"] for r in results["table"]) / 4
        assert results[who]["reward"] == pytest.approx(expected, abs=1e-3)
    row = results["table"][0]
    assert len(row["tuned_passed"]) == 2 and row["expected"]
    assert "mean reward" in out and "1. it is at most 48 characters long" in out and "everyday questions" in out
    views = grpo_run.config().method_info.views
    with i18n.using("fr"):
        assert "récompense" in " ".join(views.summary_rows(results)[0]).lower()


def test_the_preview_samples_the_starting_model_and_scores_each_answer(grpo_run):
    from engine.evaluate import preview_method

    config = grpo_run.config()
    result = preview_method(config, prompts=2)
    assert len(result["samples"]) == 2 * 4 and result["group_size"] == 4
    for s in result["samples"]:
        assert s["reward"] == pytest.approx(sum(w for w, ok in zip((1.0, 0.5), s["passed"]) if ok))
    table = preview.rows(result)
    assert len(table) == 8 and "1. it is at most 48 characters long" in table[0]
    assert preview.findings(result) and preview.summary(config).startswith("Reward: +1 if it is at most 48 characters")


def test_grpo_starts_from_a_finished_supervised_run(tmp_path, tiny_model_dir, finished_tiny_run):
    config = grpo_tiny(tmp_path, tiny_model_dir, max_steps=2, eval_every=100)
    config.method.start_from = finished_tiny_run.id
    run = runs.create_run(config.validate())
    status = train.train_run(run)
    assert status["state"] == "finished", status
    from safetensors.torch import load_file

    start = load_file(finished_tiny_run.adapter_dir / "adapter_model.safetensors")
    tuned = load_file(run.adapter_dir / "adapter_model.safetensors")
    assert set(start) == set(tuned) and any((start[k] != tuned[k]).any() for k in start)  # it went on training it
    results = evaluate_run(run, rows=2)
    assert results["started_from"] == finished_tiny_run.id


def test_grpo_trains_on_prompts_alone(tmp_path, tiny_model_dir):
    config = grpo_tiny(tmp_path, tiny_model_dir, max_steps=2, eval_every=100)
    config.data.train_file = str(prompt_file(tmp_path))
    run = runs.create_run(config.validate())
    assert train.train_run(run)["state"] == "finished"
    config.grpo.reward = [{"kind": "equals", "weight": 1.0}]
    run = runs.create_run(config.validate())
    status = train.train_run(run)
    assert status["state"] == "failed" and "prompts alone" in status["message"]


def test_engine_check_says_the_reward_and_previews_it(tmp_path, tiny_model_dir, capsys):
    config = grpo_tiny(tmp_path, tiny_model_dir)
    config.grpo.reward = [{"kind": "ends_with", "text": "zzzz-never", "weight": 1.0}]
    config.save(tmp_path / "config.yaml")
    assert cli.main(["check", str(tmp_path / "config.yaml"), "--preview"]) == 0
    out = capsys.readouterr().out
    assert "Reward: +1 if it ends with 'zzzz-never'." in out
    assert "1. it ends with 'zzzz-never': ✗" in out and "warning: This reward cannot tell better answers" in out


def test_the_preflight_counts_the_answers_each_step_writes():
    from engine import preflight

    stats = {"mean": 76.3, "val_rows": 60, "longest": 83, "kind": data.ANSWERS}
    config = grpo_config()
    seconds = preflight.preflight(config, 300, stats)["seconds"]
    sft = RunConfig.from_dict({"method": {"method": "sft"}, "training": {"max_steps": 30, "batch_size": 2}})
    assert seconds > 3 * preflight.preflight(sft, 300, stats)["seconds"]  # writing answers is most of a step
    config.grpo.max_completion_length *= 2
    longer = preflight.preflight(config, 300, stats)["seconds"]
    config.grpo.num_generations *= 2
    assert seconds < longer < preflight.preflight(config, 300, stats)["seconds"]
    config.grpo.beta = 0.0  # no reference pass
    assert preflight.preflight(config, 300, stats)["seconds"] < preflight.preflight(
        RunConfig.from_dict({"method": {"method": "grpo"}, "grpo": {"max_completion_length": 96,
                                                                    "num_generations": 8}}), 300, stats)["seconds"]


def test_prompts_alone_are_detected_only_without_a_column_that_could_be_an_answer():
    from engine.data import prompts

    assert prompts.detect_shape(["instruction", "input"]) == "prompt_only"
    assert prompts.detect_shape(["id", "question", "system"]) == "prompt_only"
    assert prompts.detect_shape(["question", "reply"]) is None  # reply may be the answer: choose columns by hand
    assert prompts.detect_shape(["prompt", "completion"]) is None  # a one-answer shape
