"""Generate the demo preference set (deterministic, stdlib only).

    python assets/data/make_preference_data.py

Writes polite_replies/{train,test}.jsonl next to this script: one {"prompt", "chosen", "rejected"} per line.
A customer asks a shop's assistant something; the chosen reply opens with "Happy to help!" and answers in one
short sentence; the rejected reply answers the same thing curtly (half the pairs) or buried in rambling (the
other half), so the chosen answer is the longer one about half the time. Same seeds -> byte-identical files.
"""
import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
N_TRAIN, N_TEST = 300, 60
SEEDS = {"train": 4321, "test": 56789}
OPENING = "Happy to help!"

# topic: (ways of asking, with {item} where it fits; the plain answer; a curt version of it)
TOPICS = {
    "hours": (["What time do you open on {day}?", "Are you open on {day}?", "When does the shop open on {day}?",
               "What are your opening hours on {day}?"],
              "We are open from 9 am to 6 pm every day, {day} included.", "9 to 6. It's on the door."),
    "returns": (["Can I return the {item} I bought last week?", "How do I return a {item}?",
                 "Is it too late to send back my {item}?", "What is your return policy for a {item}?"],
                "You can return the {item} within 30 days with the receipt for a full refund.",
                "30 days, bring the receipt."),
    "delivery": (["How long does delivery take for a {item}?", "When will my {item} arrive?",
                  "How fast do you ship a {item}?", "Do you deliver a {item} to {city}?"],
                 "Delivery to {city} takes two to three working days.", "2-3 days. Be patient."),
    "password": (["I forgot my password, what do I do?", "How can I reset my password?",
                  "My password doesn't work any more.", "I can't log in to my account on {day}."],
                 "Click 'Forgot password' on the login page and we will email you a reset link.",
                 "Use the reset link. Obviously."),
    "gift": (["Do you sell gift cards?", "Can I buy a gift card for a {item}?",
              "Is there a gift voucher I could give my friend in {city}?", "Can you gift-wrap a {item}?"],
             "Yes, we sell gift cards from 10 to 100 pounds, and gift wrapping is free.", "Yes. Ask at the till."),
    "payment": (["Which payment methods do you accept?", "Can I pay for a {item} by card?",
                 "Do you take cash for a {item}?", "Can I pay in instalments for a {item}?"],
                "We accept cards, cash and bank transfer, and orders over 200 pounds can be split in three.",
                "Cards, cash, transfer. Whatever."),
    "stock": (["Is the {item} in stock?", "Do you have any {item} left?", "When will the {item} be back?",
               "Can you check if there's a {item} in the {city} shop?"],
              "The {item} is in stock online, and the {city} shop gets new ones every {day}.",
              "Check the website."),
    "warranty": (["Does the {item} have a warranty?", "My {item} broke, is it covered?",
                  "How long is the guarantee on a {item}?", "Can you repair my {item} for free?"],
                 "The {item} has a two-year warranty, so we will repair or replace it for free.",
                 "Two years. Send it in."),
    "cancel": (["How do I cancel my order?", "Can I cancel the {item} I ordered on {day}?",
                "I ordered a {item} by mistake, can I cancel?", "Please cancel my order for a {item}."],
               "You can cancel under 'My orders' until it ships, and the refund takes three days.",
               "Do it yourself under My orders."),
    "contact": (["How can I talk to a person?", "What is your phone number?",
                 "Can I speak to someone about my {item}?", "Is there a shop in {city} I can visit?"],
                "You can call us on 0800 123 456 from 9 am to 6 pm, or visit our {city} shop.",
                "Call the number on the website."),
}
ITEMS = ["lamp", "kettle", "backpack", "phone case", "desk chair", "toaster", "jacket", "blender", "rug",
         "camera", "bookshelf", "scarf", "mug set", "speaker", "umbrella", "notebook", "watch", "mirror"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
CITIES = ["Leeds", "Bristol", "York", "Cardiff", "Glasgow", "Brighton", "Oxford", "Belfast"]
GREETINGS = ["", "", "Hi, ", "Hello, ", "Hey, ", "Good morning, ", "Quick question: ", "Sorry to bother you, "]
SIGNOFFS = ["", "", " Thanks.", " Thank you!", " Cheers.", " Thanks in advance."]
RAMBLE_OPEN = ["Well, that is a question a lot of people ask, and honestly it depends on quite a few things, "
               "so let me think about it for a moment.",
               "Hmm, so, there are many ways to look at this, and I have seen all sorts of situations over the "
               "years, some of them quite strange.",
               "Right, okay, so this is one of those things where it is hard to say without knowing more, but "
               "let me try anyway."]
RAMBLE_CLOSE = ["Anyway, I hope that more or less answers it, or maybe it doesn't, it's hard to say really.",
                "But you know how it is, things change all the time, so who knows what will happen.",
                "Or something like that, I'm not completely sure, you might want to ask someone else too."]


def pair(rng, topic: str, k: int) -> tuple[str, str, str]:
    asks, answer, curt = TOPICS[topic]
    slots = {"item": rng.choice(ITEMS), "day": rng.choice(DAYS), "city": rng.choice(CITIES)}
    ask = rng.choice(asks).format(**slots)
    greeting = rng.choice(GREETINGS)
    prompt = greeting + (ask[0].lower() + ask[1:] if greeting else ask) + rng.choice(SIGNOFFS)
    plain = answer.format(**slots)
    chosen = f"{OPENING} {plain}"
    if k % 2 == 0:  # curt: shorter than the chosen reply
        rejected = curt.format(**slots)
    else:  # rambling: the same answer buried in filler, longer than the chosen reply
        rejected = f"{rng.choice(RAMBLE_OPEN)} {plain[0].lower() + plain[1:]} {rng.choice(RAMBLE_CLOSE)}"
    return prompt, chosen, rejected


def build(n: int, seed: int, exclude=frozenset()) -> list[tuple[str, str, str]]:
    """n pairs with unique prompts, the topics balanced; none of the excluded prompts."""
    rng, rows, seen = random.Random(seed), [], set(exclude)
    topics = list(TOPICS)
    while len(rows) < n:
        row = pair(rng, topics[len(rows) % len(topics)], len(rows) // len(topics))
        if row[0] not in seen:
            seen.add(row[0])
            rows.append(row)
    rng.shuffle(rows)
    return rows


def main():
    folder = HERE / "polite_replies"
    folder.mkdir(exist_ok=True)
    train = build(N_TRAIN, SEEDS["train"])
    test = build(N_TEST, SEEDS["test"], exclude={p for p, _, _ in train})
    for name, rows in (("train", train), ("test", test)):
        with open(folder / f"{name}.jsonl", "w", encoding="utf-8") as f:
            for prompt, chosen, rejected in rows:
                f.write(json.dumps({"prompt": prompt, "chosen": chosen, "rejected": rejected}) + "\n")
    assert not {p for p, _, _ in train} & {p for p, _, _ in test}, "test prompt leaked into train"
    print(f"polite_replies: {len(train)} train / {len(test)} test -> {folder}")


if __name__ == "__main__":
    main()
