"""The new data forms and KTO headless with AppTest: the demo answers marked good or bad on the Dataset page (the
two sides counted, an answer shown as the model reads it), an HH-RLHF transcript pair shown twice as the model
reads it, and the balance of good and bad answers explained with the Settings page's pre-flight check."""
from __future__ import annotations

import json
from pathlib import Path

from engine.settings import RunConfig
from apptest import open_page, texts

ROOT = Path(__file__).resolve().parents[1]
FEEDBACK = ROOT / "assets" / "data" / "support_feedback"


def kto_config(train: Path, held: Path | None = None) -> RunConfig:
    config = RunConfig.from_dict({"method": {"method": "kto"}})
    config.data.train_file, config.data.eval_file = str(train), str(held or "")
    return config


def test_the_demo_answers_on_the_dataset_page(tokenizer):
    at = open_page("dataset")
    at.selectbox[0].select("support_feedback")
    at.run()
    assert not at.exception
    assert "300 usable examples out of 300 rows" in at.success[0].value
    assert "prompt / completion / label" in at.success[0].value
    assert {"prompt", "answer", "label"} <= set(at.dataframe[0].value.columns)
    metrics = {m.label: m.value for m in at.metric}
    good, bad = (int(x) for x in metrics["Answers marked good / bad (training rows)"].split(" / "))
    assert good + bad == 300 and good > bad
    shown = texts(at)
    assert "good answer 👍" in shown or "bad answer 👎" in shown
    assert "the smaller side needs a larger weight" in shown


def test_an_hh_pair_is_shown_twice_as_the_model_reads_it(tmp_path, tokenizer):
    def hh(*turns):
        return "".join(f"\n\n{'Human' if i % 2 == 0 else 'Assistant'}: {t}" for i, t in enumerate(turns))

    rows = [{"chosen": hh("Hi", "Hello! How can I help?", f"Where is parcel {i}?", "It arrives tomorrow."),
             "rejected": hh("Hi", "Hello! How can I help?", f"Where is parcel {i}?", "No idea.")} for i in range(60)]
    rows.append({"chosen": hh("Hi", "Yo", "Are you there?"), "rejected": hh("Hi", "No")})
    path = tmp_path / "hh.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    config = RunConfig.from_dict({"method": {"method": "dpo"}})
    config.data.train_file = str(path)
    at = open_page("dataset", config, upload=True)
    assert "60 usable examples out of 61 rows" in at.warning[0].value and "Human: … Assistant: …" in at.warning[0].value
    shown = texts(at)
    assert "**chosen (preferred)**" in shown and "**rejected**" in shown
    assert "It arrives tomorrow." in shown and "No idea." in shown and "A pair is read twice" in shown
    problems = at.dataframe[0].value
    assert list(problems.iloc[0][["row", "column", "problem"]]) == [61, "chosen", "ends with the user"]


def test_the_settings_page_explains_the_balance(tokenizer):
    at = open_page("settings", kto_config(FEEDBACK / "train.jsonl", FEEDBACK / "test.jsonl"), upload=True)
    assert "194 good and 106 bad answers: training weighs each good answer 1 and each bad one 1.83" in texts(at)
    assert "Balance good and bad" in [c.label for c in at.checkbox]
