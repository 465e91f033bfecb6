"""Generate the bench suite: seven fine-tuning tasks, each a training file and 30 held-out rows phrased
differently from the training rows (other templates and wordings, some names and products never seen in training),
in the file forms people have (CSV, Alpaca JSON, ShareGPT JSON, JSONL).

    python bench/suite/make_suite.py

Deterministic (seeded, standard library only): the same script writes byte-identical files. bench/suite/README.md
says what each task is and how its held-out rows differ.
"""
from __future__ import annotations

import csv
import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
N_TEST = 30

# ---------------------------------------------------------------- shared pieces

FIRST = ["Anna", "Ben", "Chloe", "Daniel", "Elena", "Farid", "Grace", "Hugo", "Isla", "Jamal", "Kate", "Liam", "Mei",
         "Noah", "Olga", "Priya", "Rosa", "Sam", "Tom", "Yusuf", "Zara", "Omar", "Lucy", "Marek"]
LAST = ["Smith", "Patel", "Jones", "Nowak", "Garcia", "Khan", "Brown", "Murphy", "Chen", "Walker", "Silva", "Evans",
        "Ali", "Taylor", "Wright", "Hughes", "Reid", "Costa"]
# Names only the held-out rows use (half of their names come from here).
FIRST_NEW = ["Aoife", "Bogdan", "Carmen", "Dmitri", "Esther", "Fionn", "Gita", "Hamza", "Ingrid", "Joaquin", "Kwame",
             "Leila"]
LAST_NEW = ["Okafor", "Lindqvist", "Moreau", "Takahashi", "Oyelaran", "Fitzgerald", "Kowalczyk", "Haddad", "Brennan",
            "Esposito"]
CITIES = ["Leeds", "Bristol", "Manchester", "Glasgow", "Cardiff", "York", "Norwich", "Brighton", "Leicester", "Belfast"]
CITIES_NEW = ["Inverness", "Exeter", "Swansea", "Dundee", "Carlisle", "Lincoln"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
NUMBER_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]


def pick(rng: random.Random, seen: list, new: list, split: str):
    """A training row draws from the seen pool; a held-out row from the new pool half the time."""
    return rng.choice(new) if split == "test" and rng.random() < 0.5 else rng.choice(seen)


def typo(rng: random.Random, text: str) -> str:
    """One slip of the keyboard in a word of five letters or more: two letters swapped, or one dropped."""
    words = text.split(" ")
    spots = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not spots:
        return text
    i = rng.choice(spots)
    w = words[i]
    j = rng.randrange(1, len(w) - 2)
    words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2:] if rng.random() < 0.6 else w[:j] + w[j + 1:]
    return " ".join(words)


def greeted(greeting: str, text: str) -> str:
    """'Hi, ' + 'The app...' as people write it: 'Hi, the app...' (but 'Hi, I...')."""
    if greeting.endswith(", ") and not (text.startswith("I ") or text.startswith("I'")):
        text = text[0].lower() + text[1:]
    return greeting + text


def casual(rng: random.Random, text: str, p_typo: float = 0.1, p_lower: float = 0.12) -> str:
    """A message as people type it: now and then all lower case without the full stop, now and then a typo."""
    if rng.random() < p_lower:
        text = text.lower().rstrip(".!")
    if rng.random() < p_typo:
        text = typo(rng, text)
    return text


def collect(n: int, make, taken=(), key=lambda row: row[0]) -> list:
    """n rows from make(i) (i: the row's index, for balancing classes), no prompt twice and none in `taken`."""
    rows, seen = [], set(taken)
    tries = 0
    while len(rows) < n:
        tries += 1
        if tries > 200 * n:
            raise RuntimeError(f"only {len(rows)} distinct rows out of {n}: add templates or names")
        row = make(len(rows))
        if key(row) not in seen:
            seen.add(key(row))
            rows.append(row)
    return rows


def write_csv(path: Path, header: list[str], rows: list) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_json(path: Path, rows: list) -> None:
    path.write_text(json.dumps(rows, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_jsonl(path: Path, rows: list) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def money(rng: random.Random, low: int, high: int) -> str:
    n = rng.randint(low, high)
    return rng.choice([f"£{n}", f"£{n}", f"{n} pounds", f"£{n}.{rng.randint(1, 99):02d}"])


# ---------------------------------------------------------------- intent_labels: bank messages -> intent label

INTENTS = {
    "lost_card": (
        ["I lost my {card} card{when}.", "My {card} card has been stolen, please block it.",
         "I can't find my {card} card anywhere. Can you freeze it?", "How do I report a lost card?",
         "Someone stole my wallet with my {card} card in it.",
         "Please cancel my {card} card, I think I dropped it in {city}.",
         "I need a replacement card because mine is lost.", "My card went missing{when}, what should I do?"],
        ["Left my {card} card in a taxi{when} and now it's gone. Need it stopped.",
         "pickpocketed on the bus in {city}, my bank card is gone",
         "The card you sent me has vanished - could you put a block on it and post a new one?",
         "No sign of my {card} card since I got back from {city}. Is there a way to stop anyone using it?"]),
    "check_balance": (
        ["What is my current balance?", "How much money do I have in my {acct} account?",
         "Can you tell me the balance of my {acct} account?", "I want to check my balance.",
         "How much is left in my account?", "What's the balance on my {acct} account right now?",
         "Can I see my available balance before I pay {merchant}?", "Please show me the balance of my {acct} account."],
        ["Am I in the red at the moment? Need to know what's in my {acct} account.",
         "roughly how much cash have I got sitting in my {acct} account",
         "Before payday I'd like to know the amount left on my {acct} account.",
         "Could you let me know what funds are in my {acct} account today?"]),
    "transfer_money": (
        ["I want to send {amount} to my {relative}.", "How do I transfer {amount} to another account?",
         "Please move {amount} from my savings to my current account.", "Can I make a bank transfer to {name} today?",
         "Send {amount} to {name} please.", "I need to pay {amount} to my landlord by bank transfer.",
         "How long does a transfer to an account in {country} take?", "Set up a payment of {amount} to {name}."],
        ["Could you wire {amount} over to {name}'s account for me?",
         "my {relative} needs {amount} quickly, how do I get it into their account",
         "Want to shift {amount} between my two accounts.",
         "What's the quickest way to get {amount} to a friend who banks in {country}?"]),
    "dispute_charge": (
        ["There is a payment to {merchant} on my statement that I did not make.",
         "I was charged {amount} twice by {merchant}.", "I don't recognise a {amount} charge from {merchant}.",
         "{merchant} took {amount} from my account without asking.", "I want to dispute a transaction of {amount}.",
         "I got charged for something I never bought.", "Why is there a charge of {amount} I didn't authorise?",
         "Please reverse the {amount} payment to {merchant}, it wasn't me."],
        ["No idea what this {amount} debit from {merchant} is, it wasn't me",
         "{merchant} billed me {amount} for a subscription I cancelled months ago and I want the money back.",
         "Strange transaction yesterday, {amount} to {merchant}. Can I challenge it?",
         "A company called {merchant} keeps taking money and I never signed up to anything"]),
    "change_address": (
        ["I moved house, how do I update my address?", "Please change my address to {street}, {city}.",
         "I need to update my home address.", "My new address is {street}, {city}.",
         "How can I change the address on my account?",
         "We are moving to {city} next month, where do I change my address?", "Update my postal address please.",
         "My statements go to my old address. Can you fix that?"],
        ["Just relocated to {city}, your letters still go to my previous flat",
         "New place is at {street}, {city} - please put that on file.",
         "Need my post sent to a different home from now on.",
         "I've left {city} for good, so the details you hold for where I live are out of date."]),
    "loan_enquiry": (
        ["Can I borrow {big} for a new car?", "What interest rate do you charge on personal loans?",
         "I'd like to apply for a loan of {big}.", "How much could I borrow?",
         "Am I eligible for a loan to redo my kitchen?", "I want a loan of {big} over {years} years.",
         "What are the monthly payments on a {big} loan?", "Do you offer loans for students?"],
        ["Looking for finance of around {big} to cover a wedding, what are my options?",
         "thinking of taking out credit for {big}, what would the APR be",
         "Could the bank lend me some money to buy a van for my business?",
         "If I needed {big} spread over {years} years, would you consider me?"]),
    "open_account": (
        ["I want to open a new account.", "How do I open a savings account?",
         "Can I open a joint account with my {relative}?", "What do I need to open a current account?",
         "I would like to open an account for my son.", "Can I open an account online?",
         "I'm new to {city} and want to open a bank account.", "Please help me set up a {acct} account."],
        ["Thinking of becoming a customer - what's the process to get started with you?",
         "Sign me up for an ISA please",
         "My daughter turns 16 next week, can she get her own account with you?",
         "Just arrived in {city} for work and I need somewhere to have my salary paid. Can I join your bank?"]),
    "close_account": (
        ["I want to close my account.", "Please close my {acct} account.", "How do I cancel my account with you?",
         "I'm moving to another bank, close my account please.", "Close my account.",
         "I no longer need my {acct} account, can you shut it?", "What happens to my money if I close my account?",
         "I'd like to end everything with you and close my accounts."],
        ["Switching to a different bank, so I want to terminate my {acct} account.",
         "Please shut down everything I have with you, I'm done",
         "Time to say goodbye, how do I get my {acct} account removed?",
         "I'd rather not bank with you any more. What's needed to wind up my {acct} account?"]),
}
GREET = ["", "", "", "Hi, ", "Hello, ", "Good morning. ", "hey ", "Hi there! "]
SIGN = ["", "", "", " Thanks.", " Thank you!", " Cheers", " Please help."]
GREET_NEW = ["", "Dear bank, ", "Evening all, ", "Quick one: ", "Hiya, "]
SIGN_NEW = ["", " Many thanks.", " Appreciate it.", " Regards, {first}", " Ta"]
STREETS = ["High Street", "Mill Lane", "Park Road", "Church Street", "Victoria Road"]
MERCHANTS = ["Amazon", "Tesco", "Uber", "Netflix", "a petrol station", "Spotify", "Deliveroo", "eBay"]
MERCHANTS_NEW = ["Zapmart", "Glowgym", "StreamBox Plus", "Parkwise"]


def intent_row(rng: random.Random, label: str, split: str) -> tuple[str, str]:
    templates = INTENTS[label][0 if split == "train" else 1]
    slots = dict(card=rng.choice(["debit", "credit", "Visa", "Mastercard", "business"]),
                 when=rng.choice(["", " yesterday", " at the weekend", " last night", " this morning"]),
                 city=pick(rng, CITIES, CITIES_NEW, split),
                 acct=rng.choice(["current", "savings", "joint", "business"]),
                 merchant=pick(rng, MERCHANTS, MERCHANTS_NEW, split), amount=money(rng, 5, 2500),
                 big=f"£{rng.choice([2, 3, 5, 8, 10, 12, 15, 20, 25])},000",
                 relative=rng.choice(["mum", "dad", "sister", "brother", "partner", "son", "daughter"]),
                 name=f"{pick(rng, FIRST, FIRST_NEW, split)} {pick(rng, LAST, LAST_NEW, split)}",
                 first=pick(rng, FIRST, FIRST_NEW, split),
                 street=f"{rng.randint(1, 180)} {rng.choice(STREETS)}",
                 country=rng.choice(["Spain", "France", "Poland", "India", "the US", "Nigeria"]),
                 years=rng.choice([2, 3, 4, 5, 7]))
    greet, sign = (GREET, SIGN) if split == "train" else (GREET_NEW, SIGN_NEW)
    text, sign = rng.choice(templates).format(**slots), rng.choice(sign).format(**slots)
    if sign and text[-1] not in ".!?":
        text += "."
    text = greeted(rng.choice(greet), text) + sign
    return casual(rng, text), label


def make_intents(rng: random.Random) -> None:
    labels = list(INTENTS)
    train = collect(2000, lambda i: intent_row(rng, labels[i % len(labels)], "train"))
    rng.shuffle(train)
    test = collect(N_TEST, lambda i: intent_row(rng, labels[i % len(labels)], "test"), taken=[t for t, _ in train])
    rng.shuffle(test)
    folder = HERE / "intent_labels"
    folder.mkdir(exist_ok=True)
    # `question,answer`: two columns the studio reads without being told which is which.
    write_csv(folder / "train.csv", ["question", "answer"], train)
    write_csv(folder / "test.csv", ["question", "answer"], test)


# ---------------------------------------------------------------- contact_json: signature or message -> JSON

COMPANY_FIRST = ["Acme", "Brightway", "Northwind", "Bluefin", "Harbour", "Redwood", "Silverline", "Kestrel", "Oakfield",
                 "Pinnacle", "Greenleaf", "Ironbridge"]
COMPANY_FIRST_NEW = ["Quillon", "Marlowe", "Saltmarsh", "Copperkettle", "Tidewater", "Vantage"]
COMPANY_KIND = ["Ltd", "Logistics", "Consulting", "Design", "Foods", "Group", "Partners", "Studio"]
TITLES = ["Sales Manager", "Account Executive", "Office Manager", "Head of Marketing", "Project Lead", "Director",
          "Customer Success Manager", "Buyer"]
CONTACT_ASK = [
    "Extract the contact details from this text as JSON with the keys name, company, phone and email. Use null for "
    "anything missing.",
    "Pull the contact details out of this message as JSON (name, company, phone, email; null when absent).",
    "Read the signature and return name, company, phone and email as JSON, null where missing."]
CONTACT_ASK_NEW = ["Give me this person's contact info as JSON: name, company, phone, email (null if not there)."]
BODIES = ["Thanks for the quick reply. I'll send the signed contract over on Monday.",
          "Attached is the quote we discussed. Let me know if anything needs changing.",
          "Sorry for the delay, the samples went out this morning.",
          "Happy to jump on a call next week to go through the figures."]


def phone(rng: random.Random, split: str) -> str:
    forms = ["+44 20 7946 0{a:03d}", "020 7946 0{a:03d}", "07700 900{a:03d}", "0161 496 0{a:03d}",
             "+1 555 01{b:02d} {c:04d}"]
    if split == "test":
        forms += ["+44 (0)113 496 0{a:03d}", "01632 960{a:03d}"]
    return rng.choice(forms).format(a=rng.randint(0, 999), b=rng.randint(0, 99), c=rng.randint(0, 9999))


def new_contact(rng: random.Random, split: str) -> dict:
    first, last = pick(rng, FIRST, FIRST_NEW, split), pick(rng, LAST, LAST_NEW, split)
    word = pick(rng, COMPANY_FIRST, COMPANY_FIRST_NEW, split)
    company = f"{word} {rng.choice(COMPANY_KIND)}" if rng.random() < 0.78 else None
    domain = (word.lower() + rng.choice([".com", ".co.uk", ".io"]) if company else
              rng.choice(["gmail.com", "outlook.com", "yahoo.co.uk"]))
    email = rng.choice([f"{first}.{last}", f"{first[0]}{last}", first]).lower() + "@" + domain
    c = {"name": f"{first} {last}", "first": first, "company": company,
         "phone": phone(rng, split) if rng.random() < 0.75 else None,
         "email": email if rng.random() < 0.8 else None, "title": rng.choice(TITLES)}
    if not (c["phone"] or c["email"]):
        c["email"] = email
    return c


def reach(c: dict, with_phone: str, with_email: str, joint: str = " or ") -> str:
    parts = ([with_phone.format(**c)] if c["phone"] else []) + ([with_email.format(**c)] if c["email"] else [])
    return joint.join(parts)


def layout_signature(rng, c):
    lines = [rng.choice(["Best regards,", "Kind regards,", "Thanks,", "Cheers,"]), c["name"]]
    if c["company"]:
        lines.append(f"{c['title']}, {c['company']}" if rng.random() < 0.6 else c["company"])
    if c["phone"]:
        lines.append(rng.choice(["Tel: ", "Phone: ", "T: ", ""]) + c["phone"])
    if c["email"]:
        lines.append(rng.choice(["Email: ", "E: ", ""]) + c["email"])
    return "\n".join(lines)


def layout_pipes(rng, c):
    head = " | ".join([c["name"], c["title"]] + ([c["company"]] if c["company"] else []))
    return head + "\n" + reach(c, "M: {phone}", "E: {email}", " | ")


def layout_inline(rng, c):
    who = f"Hi, it's {c['name']}" + (f" from {c['company']}" if c["company"] else "") + ". "
    return who + "You can " + reach(c, "call me on {phone}", "email me at {email}") + "."


def layout_body(rng, c):
    lines = [rng.choice(BODIES), "", rng.choice(["Best,", "Regards,", "Thanks again,"]), c["name"]]
    lines += [v for v in (c["company"], c["phone"], c["email"]) if v]
    return "\n".join(lines)


def layout_contact_line(rng, c):
    text = f"Contact: {c['name']}" + (f", {c['company']}" if c["company"] else "") + "."
    return text + (f" Phone {c['phone']}." if c["phone"] else "") + (f" Email {c['email']}." if c["email"] else "")


# Held-out layouts: none of these is used in training.
def layout_dashes(rng, c):
    role = f"{c['title']} at {c['company']}" if c["company"] else c["title"]
    return "\n".join(["-- ", f"{c['name']} ({role})"] + ([f"Direct line: {c['phone']}"] if c["phone"] else []) +
                     ([c["email"]] if c["email"] else []))


def layout_out_of_office(rng, c):
    text = rng.choice(["I'm away until Monday. ", "Out of office. ", "I have passed your request on. "])
    text += f"Please get back to {c['name']}" + (f" at {c['company']}" if c["company"] else "")
    return text + " " + reach(c, "on {phone}", "by email at {email}") + "."


def layout_card(rng, c):
    rows = [("Name", c["name"]), ("Organisation", c["company"]), ("Mobile", c["phone"]), ("Mail", c["email"])]
    return "\n".join(f"{k}: {v}" for k, v in rows if v)


def layout_thanks(rng, c):
    text = "Thanks again! " + reach(c, "Ring me any time on {phone}", "drop a line to {email}") + "."
    return text + f" - {c['name']}" + (f", {c['company']}" if c["company"] else "")


LAYOUTS = [layout_signature, layout_pipes, layout_inline, layout_body, layout_contact_line]
LAYOUTS_NEW = [layout_dashes, layout_out_of_office, layout_card, layout_thanks]


def contact_row(rng: random.Random, split: str) -> dict:
    c = new_contact(rng, split)
    layout = rng.choice(LAYOUTS if split == "train" else LAYOUTS_NEW)
    ask = rng.choice(CONTACT_ASK if split == "train" else CONTACT_ASK + CONTACT_ASK_NEW)
    answer = json.dumps({k: c[k] for k in ("name", "company", "phone", "email")}, ensure_ascii=False)
    return {"instruction": ask, "input": layout(rng, c), "output": answer}


def make_contacts(rng: random.Random) -> None:
    train = collect(400, lambda i: contact_row(rng, "train"), key=lambda r: r["input"])
    test = collect(N_TEST, lambda i: contact_row(rng, "test"), taken=[r["input"] for r in train],
                   key=lambda r: r["input"])
    folder = HERE / "contact_json"
    folder.mkdir(exist_ok=True)
    write_json(folder / "train.json", train)
    write_json(folder / "test.json", test)


# ---------------------------------------------------------------- formal_rewrite: casual -> formal message

REASONS = [("traffic is mad", "heavy traffic"), ("train's delayed", "a delayed train"),
           ("car wont start", "car trouble"), ("kid's off sick", "a family matter"),
           ("bus never showed", "a cancelled bus")]
DOCS = ["report", "presentation", "budget", "contract", "timesheet", "proposal"]
DEADLINES = ["Friday", "tomorrow", "Monday morning", "the end of the week", "5 pm today"]
ITEMS = ["chair", "laptop", "order", "printer", "parcel"]
# name: (casual training wordings, casual held-out wordings, the formal rewrite in the house style)
REWRITES = {
    "late": (["running {mins} mins late, {reason_c}, sorry!!", "hey, gonna be like {mins} min late. {reason_c}",
              "sorry sorry, {reason_c}, I'll be {mins} mins late", "{reason_c} so I'll be {mins} mins late ugh"],
             ["Heads up - {reason_c}, expect me {mins} minutes after we said",
              "wont make it on time, {mins} mins behind. {reason_c}"],
             "I apologise, but I will be about {mins} minutes late because of {reason_f}. Thank you for your "
             "patience."),
    "miss_meeting": (["cant make the meeting on {day}, can we move it?", "sorry, {day}'s meeting is a no for me",
                      "not gonna make it {day}, pick another time?", "{day} meeting - can't come, sorry"],
                     ["the {day} catch-up doesn't work for me anymore, other time?",
                      "count me out for {day}, can we find a new slot"],
                     "Unfortunately, I will not be able to attend the meeting on {day}. Could we please find another "
                     "time?"),
    "need_doc": (["send me the {doc} by {deadline} ok?", "need the {doc} by {deadline}, thx",
                  "yo where's the {doc}? need it {deadline} latest", "can u get me the {doc} by {deadline}"],
                 ["{doc} please, {deadline} at the latest!!", "gotta have that {doc} in my inbox by {deadline}"],
                 "Could you please send me the {doc} by {deadline}? Thank you in advance."),
    "thanks": (["thx for the help with the {doc}!!", "cheers for sorting the {doc}, legend",
                "thanks a lot for the {doc} help", "you saved me with the {doc}, ta"],
               ["owe you one for the {doc}", "massive thanks, the {doc} looks great now"],
               "Thank you very much for your help with the {doc}. I really appreciate it."),
    "day_off": (["can I take {day} off?", "any chance I get {day} off?", "need {day} off, ok?",
                 "gonna need {day} off if thats alright"],
                ["would love a day off on {day}, that cool?", "mind if I skip work {day}?"],
                "Would it be possible for me to take {day} off? I will make sure my work is covered."),
    "invoice": (["send me invoice {num} again pls", "can't find invoice {num}, resend?",
                 "need a copy of invoice {num}", "invoice {num} - can u send it over"],
                ["lost invoice {num} somewhere, another copy?", "could do with invoice {num} one more time"],
                "Could you please send me a copy of invoice {num}? Many thanks."),
    "no_delivery": (["my {item} still hasn't come, it's been {weeks} weeks!!",
                     "{weeks} weeks and no {item}, what's going on", "where is my {item}?? {weeks} weeks now",
                     "still waiting on the {item} after {weeks} weeks"],
                    ["{weeks} weeks on and the {item} is nowhere to be seen",
                     "been {weeks} weeks, {item} still missing"],
                    "I am writing because my {item} has still not arrived after {weeks} weeks. I would be grateful "
                    "if you could look into this."),
    "reschedule": (["can we move our call from {day} to {day2}?", "{day} call -> {day2} instead?",
                    "swap our {day} call to {day2}?", "call on {day} doesn't work, {day2}?"],
                   ["could our chat shift from {day} over to {day2}", "bump the {day} call to {day2} pls"],
                   "Would it be possible to move our call from {day} to {day2}? I apologise for any inconvenience."),
    "feedback": (["what do u think of the {doc}?", "any thoughts on the {doc}?", "pls look at my {doc} and tell me",
                  "can u check the {doc} when u have time"],
                 ["give the {doc} a once-over when free?", "thoughts on my {doc}? be honest"],
                 "I would be grateful for your feedback on the {doc} when you have a moment."),
    "got_it": (["got the {doc}, thx", "{doc} received 👍", "yep got the {doc}", "the {doc} came through, cheers"],
               ["{doc} landed in my inbox, ta", "all good, have the {doc} now"],
               "I confirm that I have received the {doc}. Thank you for sending it."),
}
# Two situations only the held-out rows have: the house style must carry over to them.
REWRITES_NEW = {
    "broken": ([], ["the {device} on floor {floor} is broken AGAIN", "{device} on {floor} is dead, someone fix pls"],
               "I would like to let you know that the {device} on floor {floor} is not working. Could someone "
               "please take a look at it?"),
    "decline": ([], ["cant come to the {event}, sorry", "gonna skip the {event}, thanks tho"],
                "Thank you for the invitation to the {event}. Unfortunately, I will not be able to attend."),
}
REWRITE_ASK = ["Rewrite this message in a formal, polite style:", "Make this message formal and polite:",
               "Rewrite in a formal tone:"]
REWRITE_ASK_NEW = ["Please turn this into a polite, professional message:"]


def rewrite_row(rng: random.Random, split: str) -> dict:
    table = REWRITES if split == "train" else {**REWRITES, **REWRITES_NEW}
    name = rng.choice(list(table)) if split == "train" or rng.random() < 0.75 else rng.choice(list(REWRITES_NEW))
    train_forms, test_forms, formal = table[name]
    reason = rng.choice(REASONS)
    day, day2 = rng.sample(WEEKDAYS[:5], 2)
    slots = dict(mins=rng.choice([5, 10, 15, 20, 30]), reason_c=reason[0], reason_f=reason[1], day=day, day2=day2,
                 doc=rng.choice(DOCS), deadline=rng.choice(DEADLINES),
                 num=f"{rng.choice('ABK')}-{rng.randint(1000, 9999)}",
                 item=rng.choice(ITEMS), weeks=rng.choice([2, 3, 4, 5, 6]),
                 device=rng.choice(["printer", "coffee machine", "projector", "lift"]), floor=rng.randint(1, 6),
                 event=rng.choice(["summer party", "team dinner", "leaving drinks", "awards night"]))
    message = casual(rng, rng.choice(train_forms if split == "train" else test_forms).format(**slots), p_lower=0)
    ask = rng.choice(REWRITE_ASK if split == "train" else REWRITE_ASK + REWRITE_ASK_NEW)
    return {"prompt": f"{ask}\n\n{message}", "completion": formal.format(**slots)}


def make_rewrites(rng: random.Random) -> None:
    train = collect(300, lambda i: rewrite_row(rng, "train"), key=lambda r: r["prompt"])
    test = collect(N_TEST, lambda i: rewrite_row(rng, "test"), taken=[r["prompt"] for r in train],
                   key=lambda r: r["prompt"])
    folder = HERE / "formal_rewrite"
    folder.mkdir(exist_ok=True)
    write_jsonl(folder / "train.jsonl", train)
    write_jsonl(folder / "test.jsonl", test)


# ---------------------------------------------------------------- text_qa: fact sheet + question -> answer span

SYLLABLES = ["bra", "ven", "tor", "mil", "cas", "dro", "lin", "ser", "ka", "mo", "rel", "tan", "vi", "gor", "pel",
             "sha", "nor", "fen", "da", "lu"]
SYLLABLES_NEW = ["quo", "zim", "jha", "yel", "wra", "oz", "plin", "eth"]


def coined(rng: random.Random, split: str, parts: int = 2) -> str:
    """A made-up name: training rows from one set of syllables, held-out rows often with one never seen."""
    pieces = [rng.choice(SYLLABLES) for _ in range(parts)]
    if split == "test" and rng.random() < 0.6:
        pieces[rng.randrange(parts)] = rng.choice(SYLLABLES_NEW)
    return "".join(pieces).capitalize()


def person(rng: random.Random, split: str) -> str:
    return f"{pick(rng, FIRST, FIRST_NEW, split)} {pick(rng, LAST, LAST_NEW, split)}"


def town_name(rng: random.Random, split: str) -> str:
    return coined(rng, split) + rng.choice(["ford", "bury", "wick", "ton", "mere", "field"])


# Each fact: (training sentences, held-out sentence, training questions, held-out questions, the answer's slot).
COMPANY_FACTS = {
    "founded": (["{name} was founded in {year}.", "The company started trading in {year}."],
                ["Records show the business opened its doors in {year}."],
                ["When was {name} founded?", "In which year was {name} founded?"],
                ["What year did {name} begin?", "Since what year has {name} existed?"], "year"),
    "founder": (["Its founder, {founder}, still sits on the board.",
                 "{founder} set up the business with a small loan."],
                ["The entrepreneur {founder} launched it after leaving university."],
                ["Who founded {name}?", "Who set up {name}?"],
                ["Which person started {name}?", "Whose idea was {name}?"], "founder"),
    "hq": (["Its head office is in {town}.", "The firm is based in {town}."],
           ["Its headquarters sit on the edge of {town}."],
           ["Where is {name} based?", "Where is the head office of {name}?"],
           ["In what town is {name} headquartered?", "Where does {name} have its main office?"], "town"),
    "staff": (["Today it employs {staff} people.", "It has a staff of {staff}."],
              ["Around {staff} workers are on the payroll."],
              ["How many people does {name} employ?", "How many staff does {name} have?"],
              ["What is the size of the workforce at {name}?", "How big is the team at {name}?"], "staff"),
    "product": (["It is best known for its {product}.", "Most of its income comes from {product}."],
                ["Customers mainly buy its {product}."],
                ["What is {name} best known for?", "What does {name} make most of its money from?"],
                ["Which product is {name} famous for?", "What do people usually buy from {name}?"], "product"),
    "ceo": (["The current chief executive is {ceo}, who joined in {ceo_year}.",
             "{ceo} has run the company since {ceo_year}."],
            ["{ceo} took over as boss in {ceo_year}."],
            ["Who is the chief executive of {name}?", "Who runs {name}?"],
            ["Who is in charge of {name} now?", "Who is the boss of {name}?"], "ceo"),
}
TOWN_FACTS = {
    "population": (["{name} has a population of {population}.", "About {population} people live in {name}."],
                   ["The last census counted {population} residents."],
                   ["What is the population of {name}?", "How many people live in {name}?"],
                   ["How many residents does {name} have?", "What was the census count for {name}?"], "population"),
    "river": (["The River {river} runs through the centre.", "It lies on the banks of the River {river}."],
              ["Boats on the River {river} pass right by the old mill."],
              ["Which river runs through {name}?", "What river is {name} on?"],
              ["Which river flows past the mill in {name}?", "What is the name of the river at {name}?"], "river_name"),
    "mayor": (["The mayor is {mayor}.", "{mayor} was elected mayor in {mayor_year}."],
              ["Voters chose {mayor} as mayor in {mayor_year}."],
              ["Who is the mayor of {name}?", "Who was elected mayor of {name}?"],
              ["Who leads {name} as its mayor?", "Which person won the mayoral vote in {name}?"], "mayor"),
    "festival": (["Every {month} the town holds a {festival} festival.",
                  "Its {festival} festival takes place each {month}."],
                 ["Visitors pour in each {month} for the {festival} festival."],
                 ["In which month is the festival in {name}?", "When is the {festival} festival in {name}?"],
                 ["What month should I visit {name} for its festival?",
                  "During which month does {name} hold the {festival} festival?"],
                 "month"),
    "twin": (["{name} is twinned with {twin}.", "Its twin town is {twin}."],
             ["It has had a partnership with {twin} since {twin_year}."],
             ["What town is {name} twinned with?", "What is the twin town of {name}?"],
             ["Which town is the partner of {name}?", "Which place has a partnership with {name}?"], "twin"),
    "charter": (["It received its market charter in {charter}.", "Its market was granted a charter in {charter}."],
                ["Its market dates back to a charter of {charter}."],
                ["When did {name} receive its market charter?",
                 "In which year was the market charter of {name} granted?"],
                ["How old is the market of {name}: what year is its charter?",
                 "What year does the market in {name} date from?"],
                "charter"),
}
PRODUCT_FACTS = {
    "maker": (["The {name} is made by {maker}.", "{maker} designed the {name}."],
              ["It comes from the workshop of {maker}."],
              ["Who makes the {name}?", "Which company designed the {name}?"],
              ["Which firm is behind the {name}?", "Who produces the {name}?"], "maker"),
    "launch": (["It went on sale on {date}.", "It was launched on {date}."],
               ["Shops first stocked it on {date}."],
               ["When did the {name} go on sale?", "When was the {name} launched?"],
               ["On what date could you first buy the {name}?", "What is the release date of the {name}?"], "date"),
    "price": (["It costs {price}.", "The price is {price}."],
              ["It retails at {price}."],
              ["How much does the {name} cost?", "What is the price of the {name}?"],
              ["What will the {name} set me back?", "How much is the {name} in shops?"], "price"),
    "weight": (["It weighs {weight}.", "At {weight}, it is light enough to carry all day."],
               ["The scales put it at {weight}."],
               ["How much does the {name} weigh?", "What is the weight of the {name}?"],
               ["How heavy is the {name}?", "What does the {name} weigh on the scales?"], "weight"),
    "battery": (["The battery lasts {battery}.", "One charge gives {battery} of use."],
                ["You get roughly {battery} between charges."],
                ["How long does the battery of the {name} last?", "How much use does one charge of the {name} give?"],
                ["How long can the {name} run before it needs charging?", "What is the battery life of the {name}?"],
                "battery"),
    "warranty": (["It comes with a warranty of {warranty}.", "The warranty lasts {warranty}."],
                 ["Buyers are covered for {warranty}."],
                 ["How long is the warranty on the {name}?", "What warranty comes with the {name}?"],
                 ["For how long are buyers of the {name} covered?", "How long is the {name} guaranteed for?"],
                 "warranty"),
}
INTROS = {"company": ["{name} is a {kind} company.", "{name} makes {kind} goods."],
          "town": ["{name} is a market town in the north.", "{name} is a small town on the coast."],
          "product": ["The {name} is a {kind}.", "The {name} is a popular {kind}."]}
INTROS_NEW = {"company": ["Here is a short profile of {name}, a {kind} business."],
              "town": ["A visitor's note on {name}."],
              "product": ["Fact sheet: the {name}, a {kind}."]}


SECTORS = [("Robotics", "engineering", ["garden robots", "warehouse robots"]),
           ("Foods", "food", ["oat biscuits", "tinned soup", "frozen pizzas"]),
           ("Textiles", "clothing", ["wool jumpers", "rain coats"]),
           ("Software", "software", ["payroll software", "booking apps"]),
           ("Bikes", "outdoor", ["electric bikes", "folding bikes"])]


def sheet_slots(rng: random.Random, kind: str, split: str) -> dict:
    year = rng.randint(1950, 2015)
    if kind == "company":
        suffix, kind, products = rng.choice(SECTORS)
        return dict(name=f"{coined(rng, split)} {suffix}", kind=kind, year=str(year),
                    founder=person(rng, split), town=town_name(rng, split), staff=f"{rng.randint(12, 9000):,}",
                    product=rng.choice(products),
                    ceo=person(rng, split), ceo_year=str(rng.randint(year + 1, 2023)))
    if kind == "town":
        river = coined(rng, split, 1 + rng.randint(0, 1))
        return dict(name=town_name(rng, split), population=f"{rng.randint(1500, 90000):,}", river=river,
                    river_name=f"River {river}", mayor=person(rng, split), mayor_year=str(rng.randint(2010, 2024)),
                    month=rng.choice(MONTHS),
                    festival=rng.choice(["jazz", "cheese", "kite", "lantern", "folk", "apple"]),
                    twin=town_name(rng, split), twin_year=str(rng.randint(1960, 2010)),
                    charter=str(rng.randint(1150, 1600)))
    maker = f"{coined(rng, split)} {rng.choice(['Audio', 'Labs', 'Electronics', 'Devices'])}"
    return dict(name=f"{coined(rng, split)} {rng.choice(['X', 'S', 'Pro ', 'Air ', 'Mini '])}{rng.randint(2, 9)}",
                kind=rng.choice(["pair of wireless earbuds", "fitness watch", "e-reader", "portable speaker"]),
                maker=maker, date=f"{rng.randint(1, 28)} {rng.choice(MONTHS)} {rng.randint(2015, 2024)}",
                price=f"£{rng.randint(19, 499)}", weight=f"{rng.randint(40, 900)} grams",
                battery=f"{rng.randint(5, 60)} hours", warranty=f"{rng.randint(1, 5)} years")


def qa_row(rng: random.Random, index: int, split: str) -> dict:
    kind = ["company", "town", "product"][index % 3]
    facts = {"company": COMPANY_FACTS, "town": TOWN_FACTS, "product": PRODUCT_FACTS}[kind]
    slots = sheet_slots(rng, kind, split)
    asked = rng.choice(list(facts))
    order = list(facts)
    rng.shuffle(order)
    held = split == "test"
    sentences = [rng.choice((INTROS_NEW if held else INTROS)[kind])]
    sentences += [rng.choice(facts[f][1] if held else facts[f][0]) for f in order]
    question = rng.choice(facts[asked][3] if held else facts[asked][2])
    slot = facts[asked][4]
    return {"instruction": question.format(**slots), "input": " ".join(sentences).format(**slots),
            "output": slots[slot]}


def make_qa(rng: random.Random) -> None:
    train = collect(600, lambda i: qa_row(rng, i, "train"), key=lambda r: (r["instruction"], r["input"]))
    test = collect(N_TEST, lambda i: qa_row(rng, i, "test"), taken=[(r["instruction"], r["input"]) for r in train],
                   key=lambda r: (r["instruction"], r["input"]))
    folder = HERE / "text_qa"
    folder.mkdir(exist_ok=True)
    write_json(folder / "train.json", train)
    write_json(folder / "test.json", test)


# ---------------------------------------------------------------- product_copy: attributes -> shop description

# type: (adjective, materials, features, what the features are for, what it is ideal for)
PRODUCT_TYPES = {
    "backpack": ("roomy", ["recycled polyester", "waxed canvas", "ripstop nylon"],
                 ["a padded laptop sleeve", "two side pockets for bottles", "a hidden back pocket",
                  "padded shoulder straps", "a water-resistant base", "a strap for trolley handles"],
                 "everything stays organised on the move", "ideal for commutes, city breaks and weekend walks"),
    "desk lamp": ("slim", ["brushed aluminium", "matt steel", "oak and steel"],
                  ["three brightness levels", "a warm and a cool light setting", "a USB charging port in the base",
                   "a swivel head", "a touch switch", "an auto-off timer"],
                  "you get the right light for every task", "ideal for home offices and late-night reading"),
    "kettle": ("quiet", ["stainless steel", "glass and steel", "matt ceramic"],
               ["a rapid-boil element", "a limescale filter", "a clear water window", "an automatic shut-off",
                "a 1.7 litre capacity", "a keep-warm setting"],
               "your tea is ready in moments", "ideal for busy kitchens and shared offices"),
    "pair of wireless headphones": ("comfortable", ["soft-touch plastic", "aluminium and leather", "recycled plastic"],
                                    ["active noise cancelling", "a 30-hour battery", "fold-flat ear cups",
                                     "a built-in microphone", "fast USB-C charging", "a padded travel case"],
                                    "your music sounds clear wherever you are",
                                    "ideal for long flights, noisy trains and focused work"),
    "rain jacket": ("lightweight", ["recycled nylon", "waterproof polyester", "waxed cotton"],
                    ["taped seams", "a packable hood", "two zipped pockets", "adjustable cuffs", "a breathable lining",
                     "reflective trims"],
                    "you stay dry when the weather turns", "ideal for city cycling and coastal walks"),
    "travel mug": ("leak-proof", ["double-walled steel", "bamboo fibre", "borosilicate glass"],
                   ["a one-hand lid", "a non-slip base", "a 350 ml capacity", "a removable tea strainer",
                    "a carry loop", "a dishwasher-safe body"],
                   "your drink stays hot for hours", "ideal for early starts and long commutes"),
    "office chair": ("supportive", ["breathable mesh", "recycled fabric", "vegan leather"],
                     ["adjustable lumbar support", "4D armrests", "a tilt lock", "smooth-rolling castors",
                      "a height-adjustable seat", "a headrest"],
                     "you sit comfortably through long days", "ideal for home offices and shared desks"),
    "water bottle": ("durable", ["insulated steel", "BPA-free plastic", "recycled aluminium"],
                     ["a 750 ml capacity", "a flip-up straw", "a wide mouth for ice", "a carry handle",
                      "a leak-proof cap", "a powder-coated finish"],
                     "you stay hydrated all day", "ideal for gyms, hikes and school runs"),
}
# Product types only the held-out rows have.
PRODUCT_TYPES_NEW = {
    "yoga mat": ("grippy", ["natural rubber", "cork and rubber", "TPE foam"],
                 ["a 6 mm cushion", "alignment lines", "a carry strap", "a sweat-resistant surface",
                  "a non-slip underside", "a washable cover"],
                 "every pose feels steady", "ideal for home workouts and studio classes"),
    "standing desk": ("sturdy", ["solid birch", "bamboo and steel", "powder-coated steel"],
                      ["an electric height motor", "four memory presets", "a cable tray", "anti-collision sensors",
                       "a quiet dual motor", "a scratch-resistant top"],
                      "you can switch between sitting and standing in seconds",
                      "ideal for home offices and small studios"),
    "bluetooth speaker": ("compact", ["fabric and rubber", "recycled plastic", "anodised aluminium"],
                          ["a 20-hour battery", "a waterproof shell", "a built-in microphone", "stereo pairing",
                           "a carry strap", "deep bass"],
                          "your playlists sound full wherever you go", "ideal for picnics, beaches and kitchens"),
    "camping lantern": ("bright", ["tough ABS plastic", "aluminium and glass", "recycled plastic"],
                        ["three light modes", "a hanging hook", "a USB-C port", "a dimmer dial", "a red night light",
                         "a 40-hour battery"],
                        "your campsite stays lit after dark", "ideal for tents, sheds and power cuts"),
}
BRANDS = ["Trailhead", "Lumo", "Brewster", "Sonik", "Nimbus", "Cask", "Ergon", "Aqua", "Harlow", "Kinto"]
BRANDS_NEW = ["Zephyr", "Fjord", "Pebble", "Orbit", "Tundra"]
MODELS = ["22", "Arc", "Mini", "Pro", "Classic", "Go", "Plus", "One", "Edge", "Lite"]
COLOURS = ["forest green", "charcoal", "sand", "navy", "stone grey", "berry red", "ochre", "white"]
COPY_ASK = ["Write a product description for our online shop from these details.",
            "Write the shop description for this product."]
COPY_ASK_NEW = ["Turn these product details into our usual shop copy."]


def product_copy(p: dict) -> str:
    adj, _, _, benefit, use = p["table"][p["type"]]
    article = "an" if adj[0] in "aeiou" else "a"
    text = (f"Meet the {p['name']}, {article} {adj} {p['type']} made from {p['material']} and built for years of "
            f"everyday use. It comes with "
            f"{p['features'][0]}, {p['features'][1]} and {p['features'][2]}, so {benefit}. Available in {p['colour']} "
            f"for £{p['price']}, it is {use}.")
    if p["guarantee"]:
        text += f" Every {p['name']} is covered by our {p['guarantee']}-year guarantee."
    return text


def copy_row(rng: random.Random, split: str) -> dict:
    table = PRODUCT_TYPES if split == "train" or rng.random() < 0.35 else PRODUCT_TYPES_NEW
    kind = rng.choice(list(table))
    _, materials, features, _, _ = table[kind]
    p = {"table": table, "type": kind, "name": f"{pick(rng, BRANDS, BRANDS_NEW, split)} {rng.choice(MODELS)}",
         "material": rng.choice(materials), "features": rng.sample(features, 3), "colour": rng.choice(COLOURS),
         "price": rng.choice([19, 24, 29, 35, 39, 45, 49, 59, 65, 79, 89, 99, 129, 149, 199, 249]),
         "guarantee": rng.choice([0, 0, 1, 2, 3, 5])}
    fields = [("Name", p["name"]), ("Type", kind), ("Material", p["material"]), ("Colour", p["colour"]),
              ("Features", "; ".join(p["features"])), ("Price", f"£{p['price']}")]
    if p["guarantee"]:
        fields.append(("Guarantee", f"{p['guarantee']} year" + ("s" if p["guarantee"] > 1 else "")))
    if split == "train":
        details = "\n".join(f"{k}: {v}" for k, v in fields)
    else:  # held out: the attributes in another order and another layout
        rng.shuffle(fields)
        details = ("\n".join(f"- {k.lower()}: {v}" for k, v in fields) if rng.random() < 0.5 else
                   "; ".join(f"{k.lower()}={', '.join(p['features']) if k == 'Features' else v}" for k, v in fields))
    ask = rng.choice(COPY_ASK if split == "train" else COPY_ASK + COPY_ASK_NEW)
    return {"instruction": ask, "input": details, "output": product_copy(p)}


def make_copy(rng: random.Random) -> None:
    train = collect(200, lambda i: copy_row(rng, "train"), key=lambda r: r["input"])
    test = collect(N_TEST, lambda i: copy_row(rng, "test"), taken=[r["input"] for r in train], key=lambda r: r["input"])
    for row in train + test:
        words = len(row["output"].split())
        assert 50 <= words <= 90, (words, row["output"])
    folder = HERE / "product_copy"
    folder.mkdir(exist_ok=True)
    write_json(folder / "train.json", train)
    write_json(folder / "test.json", test)


# ---------------------------------------------------------------- booking_chat: multi-turn booking assistant

VENUES = ["The Olive Tree", "Luigi's", "The Red Lion", "Saffron House", "Blue Harbour Grill", "The Copper Pot",
          "Sakura", "Casa Verde"]
VENUES_NEW = ["The Gilded Fox", "Maple & Rye", "Little Lisbon", "The Salt Cellar"]
HOTELS = ["Harbour Hotel", "The Grand", "Parkside Inn", "Riverside Lodge", "Hotel Aurora", "The Crown"]
HOTELS_NEW = ["Seaview Towers", "The Mill House", "Hotel Bellamy"]
ASKS = {"people": "How many people is the table for?", "day": "Which day would you like to come?",
        "time": "What time would you like the table?", "room": "Which room would you like: single, double or family?",
        "date": "What date will you arrive?", "nights": "How many nights will you stay?",
        "name": "Under what name should I make the booking?"}
CONFIRM = {"table": "Booked: a table for {people} at {venue} on {day} at {time}, under the name {name}. Reply CHANGE "
                    "to change it or CANCEL to cancel.",
           "room": "Booked: a {room} room at {hotel} for {nights} nights from {date}, under the name {name}. Reply "
                   "CHANGE to change it or CANCEL to cancel."}
# How a user gives a detail: in the first message (a phrase) or as an answer; (training forms, held-out forms).
OPENERS = {"table": (["Hi, I'd like to book a table at {venue}", "Can I book a table at {venue}",
                      "Hello! Table at {venue} please", "I want to reserve a table at {venue}"],
                     ["Evening! Any chance of a table at {venue}", "We'd love to eat at {venue}",
                      "Could you sort us a table at {venue}"]),
           "room": (["Hi, I need a room at {hotel}", "Can I book a room at {hotel}", "I'd like to stay at {hotel}"],
                    ["Looking for somewhere to sleep at {hotel}", "Please reserve me a room at {hotel}"])}
PHRASES = {"people": ([" for {people_w}", " for {people_w} people"], [", there'll be {people_w} of us"]),
           "day": ([" on {day}", " this {day}"], [" this coming {day}"]),
           "time": ([" at {time_u}"], [", ideally {time_u}"]),
           "room": ([", a {room} room", " - {room} room please"], [", we need a {room}"]),
           "date": ([" from {date}", " arriving {date}"], [", checking in {date}"]),
           "nights": ([" for {nights_w} nights"], [", staying {nights_w} nights"]),
           "name": ([" under the name {name}"], [", booking name {name}"])}
ANSWERS = {"people": (["{people_w}", "For {people_w}.", "{people_w} people please", "There will be {people_w} of us."],
                      ["We're a group of {people_w}.", "Just {people_w} of us."]),
           "day": (["{day}", "On {day}.", "This {day} please."], ["Let's say {day}.", "{day} works best for us."]),
           "time": (["{time_u}", "At {time_u}.", "{time_u} please"],
                    ["Around {time_u} if possible.", "Make it {time_u}."]),
           "room": (["{room}", "A {room} room please.", "{room}, thanks"],
                    ["We'll take the {room}.", "{room} would be lovely"]),
           "date": (["{date}", "Arriving {date}.", "On {date}."], ["We get in on {date}.", "Check-in {date} please"]),
           "nights": (["{nights_w}", "{nights_w} nights.", "Just {nights_w} nights"],
                      ["We'll stay {nights_w} nights.", "{nights_w} nights in total"]),
           "name": (["{name}", "It's {name}.", "Under {name} please.", "The name is {name}."],
                    ["Put it under {name}.", "{name}, thanks!"])}
SLOTS = {"table": ["people", "day", "time", "name"], "room": ["room", "date", "nights", "name"]}


def booking_slots(rng: random.Random, split: str) -> dict:
    people, nights = rng.randint(2, 8), rng.randint(2, 7)
    hour, minute = rng.randint(5, 9), rng.choice([0, 15, 30, 45])
    time = f"{hour}:{minute:02d} pm"
    spoken = [time, f"{hour}:{minute:02d}pm", f"{hour}.{minute:02d}pm"] + ([f"{hour}pm"] if minute == 0 else [])
    name = person(rng, split) if rng.random() < 0.5 else pick(rng, LAST, LAST_NEW, split)
    return dict(people=people, people_w=rng.choice([str(people), NUMBER_WORDS[people]]), day=rng.choice(WEEKDAYS),
                time=time, time_u=rng.choice(spoken), name=name, venue=pick(rng, VENUES, VENUES_NEW, split),
                hotel=pick(rng, HOTELS, HOTELS_NEW, split), room=rng.choice(["single", "double", "family"]),
                date=f"{rng.randint(1, 28)} {rng.choice(MONTHS)}", nights=nights,
                nights_w=rng.choice([str(nights), NUMBER_WORDS[nights]]))


def booking_row(rng: random.Random, split: str) -> dict:
    side = 0 if split == "train" else 1
    kind = rng.choice(["table", "room"])
    slots = booking_slots(rng, split)
    needed = SLOTS[kind]
    missing = rng.sample(needed, rng.choice([1, 2]))
    missing.sort(key=needed.index)
    first = rng.choice(OPENERS[kind][side]) + "".join(rng.choice(PHRASES[s][side]) for s in needed if s not in missing)
    end = "?" if first.startswith(("Can", "Could", "Any", "Evening! Any")) else rng.choice([".", "", "!", " please."])
    turns = [("human", casual(rng, first.format(**slots) + end, p_lower=0.1))]
    for i, slot in enumerate(missing):
        turns.append(("gpt", ("Happy to help. " if i == 0 else "Thanks. ") + ASKS[slot]))
        turns.append(("human", rng.choice(ANSWERS[slot][side]).format(**slots)))
    turns.append(("gpt", CONFIRM[kind].format(**slots)))
    return {"conversations": [{"from": who, "value": text} for who, text in turns]}


def make_bookings(rng: random.Random) -> None:
    prompt = lambda r: tuple(t["value"] for t in r["conversations"][:-1])  # noqa: E731
    train = collect(150, lambda i: booking_row(rng, "train"), key=prompt)
    test = collect(N_TEST, lambda i: booking_row(rng, "test"), taken=[prompt(r) for r in train], key=prompt)
    folder = HERE / "booking_chat"
    folder.mkdir(exist_ok=True)
    write_json(folder / "train.json", train)
    write_json(folder / "test.json", test)


# ---------------------------------------------------------------- urgent_tickets_small: 36 rows -> category + urgency

TICKET_ASK = ("Classify this support message. Reply with JSON: the category (billing, login, delivery or bug) and "
              "whether it is urgent.\n\n")
# category: (training messages, held-out messages); {thing} is a product or feature.
TICKETS = {
    "billing": (["I was charged twice for my {thing}.", "My invoice for the {thing} is wrong.",
                 "Please refund the {thing} payment."],
                ["Why has my bank statement got two payments for the {thing}?",
                 "The amount billed for the {thing} doesn't match the price on your site."]),
    "login": (["I can't log in to my account on the {thing}.",
               "The password reset email for the {thing} never arrives.", "My account on the {thing} is locked."],
              ["The {thing} never shows up so I'm stuck at the sign-in page.",
               "Every time I try the {thing} it says my details are not recognised."]),
    "delivery": (["My {thing} hasn't arrived.", "The courier lost my {thing}.",
                  "Tracking for my {thing} hasn't moved in days."],
                 ["Still waiting on the {thing}, the courier site says nothing.",
                  "The {thing} was meant to be here on Tuesday and there's no sign of it."]),
    "bug": (["The {thing} crashes when I open settings.", "The export button in the {thing} does nothing.",
             "The {thing} shows an error when saving."],
            ["The {thing} freezes my phone every time.", "Since the update the {thing} just shows a spinning wheel."]),
}
THINGS = {"billing": (["Pro plan", "monthly subscription", "family bundle"], ["annual licence", "gift card top-up"]),
          "login": (["mobile app", "web portal", "desktop app"], ["two-factor code", "single sign-on page"]),
          "delivery": (["parcel", "new laptop", "order of desk chairs"],
                       ["pallet of printer paper", "replacement charger"]),
          "bug": (["mobile app", "web dashboard", "invoice editor"], ["smartwatch sync", "calendar widget"])}
URGENT = ([" This is urgent.", " Please fix it immediately.", " I need this sorted today.",
           " We can't work until this is fixed!"],
          [" ASAP please!", " Need this fixed right away.", " Our whole team is blocked.", " Deadline is in an hour."])
CALM = (["", " No rush.", " When you get a chance.", " Just letting you know."],
        [" Whenever convenient.", " Not urgent at all.", " Low priority, thanks.", " Just a heads-up."])


def ticket_row(rng: random.Random, index: int, split: str) -> tuple[str, str]:
    side = 0 if split == "train" else 1
    category = list(TICKETS)[index % 4]
    urgent = (index // 4) % 2 == 0
    text = rng.choice(TICKETS[category][side]).format(thing=rng.choice(THINGS[category][side]))
    text = greeted(rng.choice(["", "Hi. ", "Hello, "]), text) + rng.choice((URGENT if urgent else CALM)[side])
    answer = json.dumps({"category": category, "urgent": urgent})
    return TICKET_ASK + casual(rng, text, p_lower=0.08), answer


def make_tickets(rng: random.Random) -> None:
    train = collect(36, lambda i: ticket_row(rng, i, "train"))
    rng.shuffle(train)
    test = collect(N_TEST, lambda i: ticket_row(rng, i, "test"), taken=[p for p, _ in train])
    rng.shuffle(test)
    folder = HERE / "urgent_tickets_small"
    folder.mkdir(exist_ok=True)
    # prompt/completion in a CSV: the JSON answers need quoting, as a spreadsheet export writes them.
    write_csv(folder / "train.csv", ["prompt", "completion"], train)
    write_csv(folder / "test.csv", ["prompt", "completion"], test)


MAKERS = {"intent_labels": make_intents, "contact_json": make_contacts, "formal_rewrite": make_rewrites,
          "text_qa": make_qa, "product_copy": make_copy, "booking_chat": make_bookings,
          "urgent_tickets_small": make_tickets}

if __name__ == "__main__":
    for seed, (task, make) in enumerate(MAKERS.items(), start=2024):
        make(random.Random(seed))  # one seeded generator per task
        print("wrote", task)
