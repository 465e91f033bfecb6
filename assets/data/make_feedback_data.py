"""Generate the demo set of answers marked good or bad (deterministic, stdlib only).

    python assets/data/make_feedback_data.py

Writes support_feedback/{train,test}.jsonl next to this script: one {"prompt", "completion", "label"} per line, the
label a thumbs up or down (👍/👎) that a customer gave a support bot's reply, as a feedback button records it. Each
customer message got one reply and one thumb, so nothing is paired. A reply marked 👍 says sorry when something went
wrong, gives the fix for that problem in a sentence and offers a next step; a reply marked 👎 is one of the bot's bad
habits, about as long: a curt order, a push to the FAQ, a reply about something else, or a vague promise or blame. About two replies in three
are marked good, as in real feedback, so the two sides are not balanced (the studio weighs them). Same seeds ->
byte-identical files.
"""
import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
N_TRAIN, N_TEST = 300, 80
SEEDS = {"train": 2468, "test": 97531}
GOOD_SHARE = 0.65

ALL = ["phone", "tablet", "laptop", "smart TV", "watch", "speaker", "router", "e-reader", "camera", "console",
       "desktop", "headphones", "printer", "doorbell"]
ONLINE = [d for d in ALL if d not in ("router", "headphones")]
APPS = ["phone", "tablet", "laptop", "smart TV", "watch", "desktop", "console", "e-reader"]
PORTABLE = ["phone", "tablet", "laptop", "watch", "speaker", "e-reader", "camera", "headphones"]
# topic: (ways of asking, with {device} / {day} where they fit; the fix in one sentence; the devices it fits)
TOPICS = {
    "wifi": (["My wifi keeps dropping on my {device}.", "The internet stopped working on my {device} on {day}.",
              "Why is my connection so slow on the {device}?", "I can't connect my {device} to the router."],
             "restart the router by unplugging it for 30 seconds, then forget the network on your {device} and join it "
             "again", ONLINE),
    "password": (["I forgot my password.", "The app says my password is wrong on the {device}.",
                  "How do I change my password?", "I'm locked out of my account since {day}."],
                 "tap 'Forgot password' on the sign-in screen and we will email you a link that works for an hour", APPS),
    "bill": (["Why is my bill higher this month?", "I was charged twice on {day}.",
              "Can I get a copy of my last invoice?", "When is my payment due?"],
             "open Billing in the app to see each charge, and any double charge is refunded within five days", APPS),
    "update": (["The app crashes since the update on my {device}.", "The update won't install on my {device}.",
                "After Tuesday's update the {device} app is blank.", "Should I install the new update?"],
               "delete the app, install it again from the store and sign in, which keeps all your settings", APPS),
    "cancel": (["How do I cancel my subscription?", "I want to stop my plan before {day}.",
                "Can I pause my account instead of cancelling?", "Cancel my plan please."],
               "go to Account, then Plan, then Cancel, and you keep access until the end of the month", APPS),
    "delivery": (["Where is the {device} I ordered?", "My {device} was supposed to arrive on {day}.",
                  "The tracking for my {device} hasn't moved.", "Can I change the delivery address for my {device}?"],
                 "open Orders to see the tracking link, and if it has not moved in three days we send a new one", ALL),
    "battery": (["The battery on my {device} drains fast.", "My {device} won't charge.",
                 "The {device} gets hot while charging.", "How long should the {device} battery last?"],
                "turn on battery saver in Settings and use the original charger, and we replace batteries that fail "
                "within two years", PORTABLE),
    "sync": (["My contacts don't sync to the {device}.", "Photos from my {device} are missing online.",
              "Sync stopped on {day}.", "How do I sync the {device} with my laptop?"],
             "turn Sync off and on again under Settings, then keep the app open for a minute while it catches up", APPS),
}
OPENINGS = ["", "Hi, ", "Hello. ", "Quick question: "]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
SORRY = ["Sorry about that!", "Sorry for the trouble!", "I'm sorry that happened!", "Sorry to hear that!"]
NEXT = ["If it still doesn't work, reply here and I'll open a ticket for you.",
        "Let me know if that fixes it, and I'll follow up if not.",
        "If that doesn't help, reply here and a person will call you today."]
BAD = {  # the bot's bad habits, about as long as a good reply so that length alone does not tell them apart
    "curt": ["Restart it. If that does not work, reinstall it. If that does not work either, there is nothing more we "
             "can do from here.",
             "Try again later. These things usually sort themselves out, and we cannot look into every single "
             "message we get."],
    "faq": ["Thanks for your message. Everything about this is explained in the FAQ on our website, section 4, so "
            "please read it there before contacting us again.",
            "This question is covered in our help centre. Please search for it there, as we do not answer questions "
            "that are already in the help centre."],
    "off_topic": ["Thank you for choosing us! Did you know that our new family plan starts at 10 pounds a month and "
                  "includes a free smart TV box for the first year?",
                  "Great news: you can now change the colours of the app in Settings, and our summer sale has ten "
                  "percent off every accessory until Sunday."],
    "promise": ["We are aware that some customers have this problem and our team will probably look into it at some "
                "point, so please be patient and try again next week.",
                "This usually happens when customers change settings they do not understand, so please put "
                "everything back the way it was and try again."],
}


def questions() -> list[tuple[str, str, dict]]:
    """Every (topic, question, its fill) the templates make, in a fixed order."""
    out = []
    for topic, (asks, _fix, devices) in TOPICS.items():
        for ask in asks:
            for device in devices if "{device}" in ask else [""]:
                for day in DAYS if "{day}" in ask else [""]:
                    fill = {"device": device, "day": day}
                    out.append((topic, ask.format(**fill), fill))
    return out


def reply(rng: random.Random, topic: str, ask: str, fill: dict) -> dict:
    opening = rng.choice(OPENINGS)
    if opening == "Hi, " and not ask.startswith(("I ", "I'm")):
        ask = ask[0].lower() + ask[1:]
    if rng.random() < GOOD_SHARE:
        fix = TOPICS[topic][1].format(**fill)
        completion, label = f"{rng.choice(SORRY)} Please {fix}. {rng.choice(NEXT)}", "👍"
    else:
        completion, label = rng.choice(BAD[rng.choice(list(BAD))]), "👎"
    return {"prompt": opening + ask, "completion": completion, "label": label}


def main():
    out = HERE / "support_feedback"
    out.mkdir(exist_ok=True)
    pool = questions()
    random.Random(SEEDS["train"]).shuffle(pool)
    # Held-out questions are never trained on (not even with other opening words).
    parts = {"test": pool[:N_TEST], "train": pool[N_TEST:N_TEST + N_TRAIN]}
    for name in ("train", "test"):
        rng = random.Random(SEEDS[name])
        rows = [reply(rng, *q) for q in parts[name]]
        (out / f"{name}.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                                           encoding="utf-8")
        good = sum(r["label"] == "👍" for r in rows)
        print(f"{name}: {len(rows)} answers, {good} marked good, {len(rows) - good} bad (of {len(pool)} questions)")


if __name__ == "__main__":
    main()
