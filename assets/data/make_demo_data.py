"""Generate the two small demo datasets (deterministic, stdlib only).

    python assets/data/make_demo_data.py

Writes ticket_routing/{train,test}.csv and order_extraction/{train,test}.jsonl
next to this script. Same seeds -> byte-identical files.
"""
import csv
import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
N_TRAIN, N_TEST = 300, 60
SEEDS = {"train": 1234, "test": 98765}

# ---------------------------------------------------------------- tickets
INSTRUCTION = "Route this customer ticket to the right team and set its priority."
NAMES = ["Anna", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hugo", "Ines",
         "Jamal", "Kate", "Liam", "Mei", "Noah", "Olga", "Priya", "Raj", "Sofia", "Tom", "Yusuf"]
PRODUCTS = ["Pro plan", "Basic plan", "family bundle", "annual subscription", "premium tier",
            "starter kit", "gift card", "smart speaker", "fitness tracker", "desk lamp"]
GOODS = ["starter kit", "smart speaker", "fitness tracker", "desk lamp", "headphones", "coffee machine"]
APPS = ["the mobile app", "the iPhone app", "the Android app", "the desktop app", "the web dashboard"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "the 3rd", "the 12th", "the 21st"]
CARRIERS = ["DHL", "UPS", "Royal Mail", "FedEx", "the courier"]

TOPICS = {
    "billing": [
        "I was charged twice for my {product} on {day}.",
        "Can I get a refund for the {product}? It was ${amount}.",
        "My invoice for {day} shows ${amount} but I expected less.",
        "There is a charge of ${amount} on my card that I don't recognise.",
        "Please send me a corrected invoice for order #{order}.",
        "I cancelled the {product} but you still charged me ${amount}.",
        "The refund for order #{order} never reached my bank.",
        "Why did my {product} price go up to ${amount} on this invoice?",
    ],
    "shipping": [
        "My parcel for order #{order} hasn't arrived yet.",
        "The tracking number for order #{order} shows no updates since {day}.",
        "{carrier} says my parcel was delivered but I never got it.",
        "Can you change the delivery address for order #{order}?",
        "The delivery of my {goods} was supposed to come on {day}.",
        "My parcel arrived damaged and the box was open.",
        "Tracking says the parcel is stuck at the {carrier} depot.",
        "When will order #{order} be out for delivery?",
    ],
    "technical": [
        "{app} crashes every time I open it.",
        "I get error code {code} when I try to sync.",
        "{app} freezes on the loading screen after the update.",
        "There is a bug: the save button does nothing in {app}.",
        "{app} shows a blank page and then an error.",
        "Notifications stopped working in {app} since {day}.",
        "I found a bug where {app} logs the wrong dates.",
        "{app} keeps crashing with error {code}.",
    ],
    "account": [
        "I forgot my password and the reset link doesn't come.",
        "Please delete my account and all my data.",
        "How do I change the email on my account to a new one?",
        "I can't log in, it says my password is wrong.",
        "Someone else may have logged in to my account.",
        "I want to change my login email address.",
        "My account is locked after too many login attempts.",
        "Can you help me reset my password? I'm locked out.",
    ],
}
PRIORITY_CUES = {
    "high": ["This is urgent.", "Please fix this immediately!", "I need this sorted today.",
             "This is the third time I'm writing about this!", "URGENT, please respond asap.",
             "Absolutely unacceptable. I want this resolved immediately.",
             "I'm furious, this needs to be fixed today."],
    "low": ["No rush, whenever you get a chance.", "Just curious, no hurry at all.",
            "Whenever you have time is fine.", "No rush on this one.",
            "Not important, just curious.", "Take your time, whenever suits you."],
    "normal": ["", "Could you take a look?", "Can you help?", "Please advise.",
               "Let me know what to do.", "Thanks for checking."],
}
GREETINGS = ["", "", "Hi!", "Hello.", "Hi there!", "Hello support team.", "Hey!", "Good morning."]
SIGNOFFS = ["", "", "Thanks,", "Thank you,", "Regards,", "Cheers,", "Best,"]
TYPOS = {"never": "nevr", "because": "becuase", "please": "pls", "Please": "Pls",
         "received": "recieved", "doesn't": "doesnt", "I'm": "Im", "arrived": "arived"}


def typo(text, rng):
    words = text.split(" ")
    spots = [i for i, w in enumerate(words) if w.strip(".,!?") in TYPOS]
    if spots:
        i = rng.choice(spots)
        w = words[i].strip(".,!?")
        words[i] = words[i].replace(w, TYPOS[w])
    return " ".join(words)


def ticket(rng, team, priority):
    core = rng.choice(TOPICS[team]).format(
        product=rng.choice(PRODUCTS), goods=rng.choice(GOODS), app=rng.choice(APPS),
        day=rng.choice(DAYS), carrier=rng.choice(CARRIERS), amount=rng.choice([9.99, 14.5, 29, 49.99, 120, 240]),
        order=rng.randint(10000, 99999), code=rng.choice(["E42", "500", "0x1F", "403", "E7"]))
    core = core[0].upper() + core[1:]
    cue = rng.choice(PRIORITY_CUES[priority])
    parts = [cue, core] if cue and rng.random() < 0.3 else [core, cue]
    sign = rng.choice(SIGNOFFS)
    parts = [rng.choice(GREETINGS), *parts, f"{sign} {rng.choice(NAMES)}" if sign else ""]
    text = " ".join(p for p in parts if p)
    if rng.random() < 0.15:
        text = typo(text, rng)
    return text, f"team: {team} | priority: {priority}"


# ---------------------------------------------------------------- orders
ITEMS = {"mug": "mugs", "t-shirt": "t-shirts", "notebook": "notebooks", "backpack": "backpacks",
         "lamp": "lamps", "umbrella": "umbrellas", "scarf": "scarves", "box": "boxes",
         "water bottle": "water bottles", "cushion": "cushions", "pen": "pens", "hoodie": "hoodies",
         "candle": "candles", "towel": "towels", "phone case": "phone cases", "sock": "socks"}
COLOURS = ["red", "blue", "green", "black", "white", "yellow", "purple", "orange",
           "pink", "grey", "navy", "brown"]
CITIES = ["Leeds", "London", "Manchester", "Bristol", "Glasgow", "Cardiff", "Dublin", "Paris",
          "Berlin", "Madrid", "Lisbon", "Oslo", "Toronto", "Boston", "Sydney", "Edinburgh"]
NUMBER_WORDS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                "ten", "eleven", "twelve"]
ORDER_TEMPLATES = [
    "I'd like {q} {c} {i} sent to {city}.",
    "Please ship {q} {c} {i} to {city}.",
    "Can I order {q} {c} {i}? Deliver to {city}.",
    "Send {q} {c} {i} to my address in {city}, thanks.",
    "To {city} please: {q} {c} {i}.",
    "We need {q} {i} in {c}, shipping to {city}.",
    "Hi, {q} {c} {i} for delivery in {city} please.",
    "My office in {city} wants {q} {c} {i}.",
    "Could you send {q} of your {c} {i} to {city}?",
    "Order for {city}: {q} {i}, colour {c}.",
    "I'm in {city} and want to buy {q} {c} {i}.",
    "Put me down for {q} {c} {i}, delivered to {city}.",
]


def order(rng):
    item, colour, city = rng.choice(list(ITEMS)), rng.choice(COLOURS), rng.choice(CITIES)
    n = rng.randint(1, 12)
    tpl = rng.choice(ORDER_TEMPLATES)
    if "{q} of your" in tpl:  # "3 of your blue mugs" needs the plural
        noun = ITEMS[item]
    else:
        noun = item if n == 1 else ITEMS[item]
    q = NUMBER_WORDS[n - 1] if rng.random() < 0.5 else str(n)
    if n == 1 and "{q} of your" not in tpl and rng.random() < 0.5:
        nxt = colour if "{q} {c}" in tpl else noun  # word right after the article
        q = "an" if nxt[0] in "aeiou" else "a"
    prompt = "Extract the order as JSON: " + tpl.format(q=q, c=colour, i=noun, city=city)
    answer = json.dumps({"item": item, "colour": colour, "quantity": n, "city": city})
    return prompt, answer


# ---------------------------------------------------------------- splits
def build(make, n, seed, exclude=frozenset()):
    """n unique (prompt, answer) pairs; make(rng, k) gets the row index for balancing."""
    rng, rows, seen = random.Random(seed), [], set(exclude)
    while len(rows) < n:
        prompt, answer = make(rng, len(rows))
        if prompt not in seen:
            seen.add(prompt)
            rows.append((prompt, answer))
    rng.shuffle(rows)
    return rows


CELLS = [(t, p) for t in TOPICS for p in ("low", "normal", "high")]  # 12 balanced cells


def make_ticket(rng, k):
    return ticket(rng, *CELLS[k % len(CELLS)])


def make_order(rng, k):
    return order(rng)


def main():
    tdir, odir = HERE / "ticket_routing", HERE / "order_extraction"
    tdir.mkdir(exist_ok=True)
    odir.mkdir(exist_ok=True)

    t_train = build(make_ticket, N_TRAIN, SEEDS["train"])
    t_test = build(make_ticket, N_TEST, SEEDS["test"], exclude={p for p, _ in t_train})
    for name, rows in (("train", t_train), ("test", t_test)):
        with open(tdir / f"{name}.csv", "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["instruction", "input", "output"])
            w.writerows([INSTRUCTION, p, a] for p, a in rows)

    o_train = build(make_order, N_TRAIN, SEEDS["train"] + 1)
    o_test = build(make_order, N_TEST, SEEDS["test"] + 1, exclude={p for p, _ in o_train})
    for name, rows in (("train", o_train), ("test", o_test)):
        with open(odir / f"{name}.jsonl", "w", encoding="utf-8") as f:
            for p, a in rows:
                msg = [{"role": "user", "content": p}, {"role": "assistant", "content": a}]
                f.write(json.dumps({"messages": msg}) + "\n")

    for train, test in ((t_train, t_test), (o_train, o_test)):
        assert not {p for p, _ in train} & {p for p, _ in test}, "test prompt leaked into train"
        assert len({p for p, _ in train}) == N_TRAIN and len({p for p, _ in test}) == N_TEST
    print(f"ticket_routing: {len(t_train)} train / {len(t_test)} test -> {tdir}")
    print(f"order_extraction: {len(o_train)} train / {len(o_test)} test -> {odir}")


if __name__ == "__main__":
    main()
