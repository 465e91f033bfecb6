"""The arena: two models answer the same prompt as A and B, in random order; people vote blind; names come after.

A contender is the base model of a run ("base") or a finished run (its id). Votes are kept in the run folder the
arena was opened from, one JSON line each in arena/votes.jsonl, appended with a single write and synced (a torn
last line after a crash is skipped), so a refresh, a second tab or a restart loses none. Each vote is a
preference: the tally gives each model's win rate over the decisive votes with a 95% Wilson interval, and the
votes become a plain prompt/chosen/rejected JSONL (arena/pairs.jsonl) that the data reader takes as preference
pairs; ties and "both bad" say nothing about which answer is better, so they are left out (and counted).
"""
from __future__ import annotations

import html
import json
import math
import os
import random
import threading
import time
import uuid
from pathlib import Path

from .i18n import N_, Message, msg, t
from .paths import write_atomic
from .runs import Run

BASE = "base"
VOTES = ("A", "B", "tie", "bad")
VOTE_NAMES = {"A": N_("A is better"), "B": N_("B is better"), "tie": N_("Tie"), "bad": N_("Both are bad")}
Z95 = 1.959964
_append_lock = threading.Lock()


class ArenaError(ValueError):
    """A vote or a duel that cannot be (its argument is a Message)."""


def votes_path(run: Run) -> Path:
    return run.path / "arena" / "votes.jsonl"


def pairs_path(run: Run) -> Path:
    return run.path / "arena" / "pairs.jsonl"


def label(run: Run, ref: str) -> Message:
    """A contender's name as people read it: the run id, or 'base model (its name)'."""
    if ref == BASE:
        from .models import DEFAULT_LABEL, DEFAULT_NAME

        name = run.config().model.name
        return msg("base model ({model})", model=msg(DEFAULT_LABEL) if name == DEFAULT_NAME else Path(name).name)
    return Message(ref)


# ---------------------------------------------------------------- prompts and answers

def held_out_prompts(run: Run) -> list[dict]:
    """The run's held-out rows as prompts: {"row": n, "messages": [...]} (what the model saw before the answer)."""
    from . import data

    _, _, val_rows, _ = data.prepare(run.config().data)
    return [{"row": e["row"], "messages": e["prompt"]} for e in val_rows]


def typed_prompt(run: Run, text: str) -> list[dict]:
    """A typed prompt, after the run's system prompt as in training."""
    text = (text or "").strip()
    if not text:
        raise ArenaError(msg("Type a prompt first."))
    system = run.config().data.system_prompt
    return ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": text}]


def prompt_text(messages: list[dict]) -> str:
    return next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")


def contenders(run: Run, opponent: str, loader) -> dict[str, tuple]:
    """ref -> (ChatModels, which) for the run and its opponent (BASE or another run's id); loader(run) gives a
    run's ChatModels (the studio caches them)."""
    if opponent == run.id:
        raise ArenaError(msg("Pick two different models."))
    found = {run.id: (loader(run), "tuned")}
    if opponent == BASE:
        found[BASE] = (found[run.id][0], "base")
    else:
        from .runs import get_run

        found[opponent] = (loader(get_run(opponent, run.path.parent)), "tuned")
    return found


def new_duel(found: dict[str, tuple], messages: list[dict], settings, row: int | None = None, rng=None) -> dict:
    """Both contenders answer the same messages (a typed prompt, or held-out `row`); which is A is drawn."""
    order = list(found)
    (rng or random.SystemRandom()).shuffle(order)
    answers = {}
    for slot, ref in zip("AB", order):
        chat, which = found[ref]
        answers[slot] = chat.answer(messages, settings, which)
    return {"id": uuid.uuid4().hex, "time": time.time(), "prompt": messages, "row": row,
            "models": {"A": order[0], "B": order[1]}, "answers": answers}


def source(record: dict) -> str:
    return t("typed") if record.get("row") is None else t("held-out row {row}", row=record["row"])


# ---------------------------------------------------------------- votes

def record_vote(run: Run, duel: dict, vote: str) -> dict:
    """Append the vote (once per duel: a second click or tab voting on the same duel changes nothing)."""
    if vote not in VOTES:
        raise ArenaError(msg("A vote is one of {allowed}, not {vote}.", allowed=", ".join(VOTES), vote=repr(vote)))
    with _append_lock:
        done = next((v for v in load_votes(run) if v.get("id") == duel["id"]), None)
        if done is not None:
            return done
        record = {**duel, "vote": vote, "voted": time.time()}
        path = votes_path(run)
        path.parent.mkdir(parents=True, exist_ok=True)
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                line = b"\n" + line  # after a line torn by a crash: start on a line of its own
            os.write(fd, line)  # one write of the whole line: lines of two writers never mix
            os.fsync(fd)
        finally:
            os.close(fd)
    return record


def load_votes(run: Run) -> list[dict]:
    try:
        lines = votes_path(run).read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    found = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a line cut by a crash
        if isinstance(record, dict) and record.get("vote") in VOTES and isinstance(record.get("models"), dict):
            found.append(record)
    return found


def winner(record: dict) -> str | None:
    return record["models"][record["vote"]] if record["vote"] in ("A", "B") else None


def of_matchup(records: list[dict], refs) -> list[dict]:
    return [r for r in records if set(r["models"].values()) == set(refs)]


def wilson(wins: int, n: int, z: float = Z95) -> tuple[float | None, float | None]:
    """The 95% Wilson score interval of a share wins/n (sound for small n, unlike the normal approximation)."""
    if n == 0:
        return None, None
    p = wins / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def tally(records: list[dict], refs) -> list[dict]:
    """For each contender: wins, losses, ties, both bad, votes, and its win rate over the decisive votes with
    a 95% interval. Best first."""
    records = of_matchup(records, refs)
    rows = []
    for ref in refs:
        wins = sum(winner(r) == ref for r in records)
        losses = sum(winner(r) not in (None, ref) for r in records)
        low, high = wilson(wins, wins + losses)
        rows.append({"model": ref, "wins": wins, "losses": losses,
                     "ties": sum(r["vote"] == "tie" for r in records),
                     "both_bad": sum(r["vote"] == "bad" for r in records), "votes": len(records),
                     "win_rate": wins / (wins + losses) if wins + losses else None, "low": low, "high": high})
    return sorted(rows, key=lambda r: -(r["win_rate"] if r["win_rate"] is not None else -1))


def vote_rows(run: Run, records: list[dict]) -> list[dict]:
    """One row per vote, newest first, for the table of prompts and their votes (translated column names)."""
    rows = []
    for r in reversed(records):
        best = winner(r)
        rows.append({t("prompt"): prompt_text(r["prompt"]), t("from"): source(r),
                     t("model A"): label(run, r["models"]["A"]).text(),
                     t("model B"): label(run, r["models"]["B"]).text(),
                     t("vote"): t(VOTE_NAMES[r["vote"]]), t("preferred"): label(run, best).text() if best else "–"})
    return rows


def matchups(records: list[dict]) -> list[tuple[str, str]]:
    """Every pair of contenders that has votes, in the order first voted."""
    seen = []
    for r in records:
        pair = tuple(sorted(set(r["models"].values())))
        if len(pair) == 2 and pair not in seen:
            seen.append(pair)
    return seen


# ---------------------------------------------------------------- votes -> preference pairs

def make_pairs(run: Run) -> dict:
    """Write arena/pairs.jsonl from every vote of this run's arena: the winner's answer is chosen, the other's
    rejected. Returns the path and what was written and left out (and why)."""
    records = load_votes(run)
    rows, seen = [], set()
    left = {"ties": 0, "both_bad": 0, "same_answers": 0, "empty": 0, "repeated": 0}
    for r in records:
        if r["vote"] == "tie":
            left["ties"] += 1
            continue
        if r["vote"] == "bad":
            left["both_bad"] += 1
            continue
        loser = "B" if r["vote"] == "A" else "A"
        chosen, rejected = r["answers"][r["vote"]], r["answers"][loser]
        if not chosen.strip() or not rejected.strip():  # the data reader refuses a pair with an empty side
            left["empty"] += 1
            continue
        if " ".join(chosen.split()) == " ".join(rejected.split()):
            left["same_answers"] += 1
            continue
        prompt = r["prompt"]
        plain = len(prompt) == 1 and prompt[0]["role"] == "user"
        row = {"prompt": prompt[0]["content"] if plain else prompt, "chosen": chosen, "rejected": rejected}
        key = json.dumps(row, sort_keys=True)
        if key in seen:
            left["repeated"] += 1
            continue
        seen.add(key)
        rows.append(row)
    if not rows:
        raise ArenaError(msg("No vote says which answer is better yet ({votes} votes: ties, both bad, the same or "
                             "empty answers). Vote A or B better on a few prompts first.", votes=len(records)))
    path = pairs_path(run)
    write_atomic(path, "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
    return {"path": str(path), "pairs": len(rows), "votes": len(records), **left}


def pairs_summary(made: dict) -> Message:
    return msg("Preference pairs written: {pairs}, to {path}. Votes read: {votes}; left out: ties {ties}, both bad "
               "{both_bad}, the same answer twice {same}, an empty answer {empty}, repeated {repeated}.",
               pairs=made["pairs"], path=made["path"], votes=made["votes"], ties=made["ties"],
               both_bad=made["both_bad"], same=made["same_answers"], empty=made["empty"], repeated=made["repeated"])


# ---------------------------------------------------------------- in the stakeholder report

def result_sentence(run: Run, refs, records: list[dict]) -> str:
    rows = {r["model"]: r for r in tally(records, refs)}
    first, second = refs
    a = rows[first]
    if a["win_rate"] is None:
        return t("Blind votes: {votes}, none saying one answer was better (ties: {ties}, both bad: {bad}).",
                 votes=a["votes"], ties=a["ties"], bad=a["both_bad"])
    return t("People preferred {model}'s answer to {other}'s in {wins} of the {decisive} votes that picked one "
             "({rate:.0%}, 95% interval {low:.0%} to {high:.0%}). Blind votes in all: {votes}; ties: {ties}, both "
             "bad: {bad}.", votes=a["votes"], model=label(run, first).text(), other=label(run, second).text(),
             wins=a["wins"], decisive=a["wins"] + a["losses"], rate=a["win_rate"], low=a["low"], high=a["high"],
             ties=a["ties"], bad=a["both_bad"])


def report_section(run: Run) -> str:
    """The arena's result for the report (HTML, every text escaped); empty when nobody voted."""
    records = load_votes(run)
    if not records:
        return ""
    parts = ["<h2>" + html.escape(t("Blind vote (arena)")) + "</h2>",
             "<p>" + html.escape(t("People compared the answers of two models to the same prompts without knowing "
                                   "which was which (A and B in random order; names shown after the vote).")) + "</p>"]
    head = [t("model"), t("win rate"), t("95% interval"), t("wins"), t("losses"), t("ties"), t("both bad")]
    for refs in matchups(records):
        refs = (run.id, *[r for r in refs if r != run.id]) if run.id in refs else refs
        parts.append("<p>" + html.escape(result_sentence(run, refs, records)) + "</p>")
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in (
                label(run, r["model"]).text(), percent(r["win_rate"]), interval(r), r["wins"], r["losses"],
                r["ties"], r["both_bad"])) + "</tr>" for r in tally(records, refs))
        parts.append("<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + f"</tr>{body}</table>")
    return "".join(parts)


def percent(value) -> str:
    from .i18n import percent as fmt

    return fmt(value)


def interval(row: dict) -> str:
    return "–" if row["low"] is None else f"{percent(row['low'])} – {percent(row['high'])}"
