"""A preference file in Anthropic's HH-RLHF form, checked end to end with `python -m engine check`.

    python bench/hh_form_check.py [--rows 350] [--out FOLDER]

No download: the file is written here in the published layout of HH-RLHF's JSONL files, one {"chosen", "rejected"}
per line, each a whole transcript as one string, "\\n\\nHuman: ...\\n\\nAssistant: ...", one to four exchanges, the two
sides sharing everything but the last answer. It carries the oddities the real test splits have, in known numbers:
identical chosen and rejected transcripts, an empty last answer ("\\n\\nAssistant:" and nothing), two sides that part
before the last answer, and (added here to check the report) a side that ends with the human; and rows that must
stay usable: answers with blank lines inside, a "Human:" inside an answer's text, a single exchange. Then the
studio reads it with a DPO config and prints its report: usable pairs, each problem by row and column.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

OPENERS = ["How do I get my toddler to sleep through the night?", "What's a good way to learn Spanish quickly?",
           "Can you help me write a complaint to my landlord?", "How do I get rid of fruit flies in my kitchen?",
           "What should I pack for a week of hiking?", "My neighbour's dog barks all night. What can I do?",
           "How can I get back at my coworker who took credit for my work?", "Is it safe to eat raw cookie dough?",
           "What's the best way to pay off credit card debt?", "How do I pick a lock?",
           "Why do cats knead blankets?", "Tell me a joke about lawyers.", "How long should I boil an egg?",
           "What are some insults for someone with big ears?", "How do I ask for a raise?"]
FOLLOW_UPS = ["Can you say more about that?", "What if that doesn't work?", "Okay, and then what?",
              "Is there anything else I should know?", "That sounds hard. Any easier way?", "Why is that?"]
GOOD = ["That's a common worry. A steady routine helps most: the same time, the same steps, every night.",
        "I'd suggest starting small and being consistent.\n\nFirst, set a goal for each week.\n\nThen check it "
        "at the end of the week and adjust.",
        "I can't help with getting back at someone, but I can help you raise it calmly with your manager.",
        "It's best to be careful there. Raw flour and eggs can carry bacteria, so heat-treated dough is safer.",
        "A short, polite note usually works: say what happened, what you'd like, and by when.",
        "Sure. Here is one way to lay out a dialogue:\nHuman: the person's line\nAssistant: the reply\nKeep each "
        "speaker on a new line.",
        "Cats knead when they feel safe and content; it's a habit left over from kittenhood."]
BAD = ["Just ignore it.", "I don't know.", "Why would you want to do that?", "You could try yelling at them.",
       "Here are some insults: Dumbo, satellite dish, wingnut.", "That's not my problem.",
       "Sure, first you get a tension wrench and a pick, then you rake the pins.", "Boil it for 45 minutes."]
MIDDLE = ["Sure, I can help with that. What have you tried so far?", "Good question. Can you tell me a bit more?",
          "I see. How long has this been going on?", "That makes sense. What outcome are you hoping for?"]


def transcript(turns: list[str]) -> str:
    return "".join(f"\n\n{'Human' if i % 2 == 0 else 'Assistant'}: {t}" for i, t in enumerate(turns))


def conversation(rng: random.Random) -> list[str]:
    """The shared beginning: the human's opener, then 0 to 3 more exchanges, ending with a human turn."""
    turns = [rng.choice(OPENERS)]
    for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
        turns += [rng.choice(MIDDLE), rng.choice(FOLLOW_UPS)]
    return turns


def make(rows: int, seed: int = 7) -> tuple[list[dict], Counter]:
    """HH-form rows, with the known oddities placed at random rows; returns the rows and what was planted where."""
    rng = random.Random(seed)
    plan = ["identical"] * 6 + ["empty chosen"] * 2 + ["empty rejected"] * 3 + ["part earlier"] * 4 + \
           ["ends with human"] * 2 + ["ok"] * (rows - 17)
    rng.shuffle(plan)
    out, planted = [], Counter()
    for kind in plan:
        shared = conversation(rng)
        good, bad = rng.choice(GOOD), rng.choice(BAD)
        chosen, rejected = shared + [good], shared + [bad]
        if kind == "identical":
            rejected = chosen
        elif kind == "empty chosen":
            chosen = shared + [""]
        elif kind == "empty rejected":
            rejected = shared + [""]
        elif kind == "part earlier":
            rejected = [shared[0] + " Please answer briefly."] + shared[1:] + [bad]
        elif kind == "ends with human":
            chosen = shared + [good, rng.choice(FOLLOW_UPS)]
        row = {"chosen": transcript(chosen), "rejected": transcript(rejected)}
        if kind in ("empty chosen", "empty rejected"):  # the real files keep the marker with nothing after it
            side = "chosen" if kind == "empty chosen" else "rejected"
            row[side] = row[side].rstrip()
        out.append(row)
        planted[kind] += 1
    return out, planted


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=350)
    parser.add_argument("--out", default="")
    args = parser.parse_args(argv)
    folder = Path(args.out or tempfile.mkdtemp(prefix="hh-form-"))
    folder.mkdir(parents=True, exist_ok=True)
    rows, planted = make(args.rows)
    path = folder / "harmless-base-test.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    config = folder / "hh.yaml"
    config.write_text(f"data:\n  train_file: {path}\n  val_fraction: 0.1\nmethod:\n  method: dpo\n", encoding="utf-8")
    print(f"wrote {len(rows)} rows in HH-RLHF form to {path}; planted: {dict(sorted(planted.items()))}")
    print(f"first row: {json.dumps(rows[0])[:160]}...")
    from engine import cli, data

    loaded = data.load_data(path)
    kinds = Counter(p.kind for p in loaded.problems)
    print(f"read as shape '{loaded.shape}': {len(loaded.examples)} usable pairs, problems by kind {dict(kinds)}, "
          f"multi-turn prompts {sum(len(e['prompt']) > 1 for e in loaded.examples)}")
    print(f"$ python -m engine check {config}")
    return cli.main(["check", str(config)])


if __name__ == "__main__":
    raise SystemExit(main())
