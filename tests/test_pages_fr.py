"""Every page rendered in French with AppTest, its visible text scanned for English left over: any sentence of
the English catalogue, any label equal to an English msgid, and any text that reads as English (function words
such as "the", "your", "with") outside technical names and data."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from engine import evaluate, i18n, runs

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["home", "dataset", "model", "settings", "train", "runs", "evaluate", "chat", "compare", "export"]
# Names that stay as they are in every language (technical terms, products, formats).
TECHNICAL = ["LoRA", "QLoRA", "GGUF", "Ollama", "llama.cpp", "LM Studio", "Hugging Face", "Hub", "SmolLM2", "PEFT",
             "safetensors", "transformers", "Modelfile", "YAML", "CSV", "TSV", "JSONL", "JSON", "Parquet", "Excel",
             "token", "tokens", "batch", "CPU", "GPU", "RAM", "F16", "F32", "Q8_0", "DDP", "DeepSpeed", "FSDP",
             "Langue · Language", "English", "Français"]
ENGLISH_WORDS = {"the", "and", "your", "with", "is", "are", "of", "to", "this", "that", "from", "for", "you", "it",
                 "has", "have", "not", "will", "can", "when", "which", "what", "there", "been", "be", "was"}


def french_page(page: str, config=None, run_id: str | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "studio.py"), default_timeout=300)
    at.session_state["lang"] = "fr"
    if config is not None:
        at.session_state["config"] = config
    if run_id:
        at.session_state["run_id"] = run_id
    at.run()
    at.switch_page(f"pages/{page}.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def visible_texts(at: AppTest) -> list[str]:
    """What a person reads: titles, prose, alerts, labels, help texts, options, metrics and table headers (not
    the data itself: table cells, chat messages, the example rendered as the model sees it, code blocks)."""
    texts = []
    shown_data = data_rows_in_full(at)
    for kind in ("title", "header", "subheader", "caption", "info", "warning", "error", "success", "markdown"):
        texts += [e.value for e in getattr(at, kind) if "<span" not in str(e.value) and id(e) not in shown_data]
    for kind in ("button", "selectbox", "radio", "number_input", "text_input", "text_area", "checkbox", "slider",
                 "toggle", "multiselect", "expander", "tabs", "metric", "chat_input", "download_button", "page_link"):
        for e in at.get(kind):
            proto = getattr(e, "proto", None)
            for field in ("label", "help", "placeholder", "value" if kind == "metric" else ""):
                value = getattr(proto, field, None) if field and proto is not None else None
                if isinstance(value, str) and value:
                    texts.append(value)
            if kind in ("radio", "selectbox") and e.options and id(e) not in shown_data:
                texts += [str(o) for o in e.options]
    for frame in at.dataframe:
        texts += [str(c) for c in frame.value.columns]
    return texts


def data_rows_in_full(at: AppTest) -> set[int]:
    """The elements of the Evaluate page's "see a row in full" boxes (pages.common.show_in_full): the data's own
    text, as in the table cells (the box's label and the table's columns are checked elsewhere)."""
    found: set[int] = set()

    def walk(block, inside: bool) -> None:
        for child in getattr(block, "children", {}).values():
            marked = inside or "-in_full_" in str(getattr(getattr(child, "proto", None), "id", ""))
            if marked:
                found.add(id(child))
            walk(child, marked)

    walk(at.main, False)
    return found


def english_left(texts: list[str], data_columns=()) -> list[str]:
    french = i18n.catalogue("fr")
    english = {msgid for msgid, text in french.items() if text != msgid and msgid not in TECHNICAL}
    texts = [text for text in texts if text not in data_columns]  # the user's own column names are data
    found = []
    for text in texts:
        plain = text.strip()
        if plain in english:
            found.append(f"label in English: {plain!r}")
            continue
        for msgid in english:  # a sentence of the English catalogue inside a longer text
            for part in re.split(r"\{[^}]*\}", msgid):
                part = re.sub(r"[*`_]", "", part).strip(" .,:;()")
                if len(part.split()) >= 4 and part in re.sub(r"[*`_]", "", plain):
                    found.append(f"English sentence {part!r} (msgid {msgid!r}) in {plain[:80]!r}")
        prose = re.sub(r"`[^`]*`|\S+\.(py|yaml|csv|jsonl|gguf|md)\b|https?://\S+", " ", plain)
        for name in TECHNICAL:
            prose = prose.replace(name, " ")
        words = set(re.findall(r"[A-Za-z]+", prose.lower())) & ENGLISH_WORDS
        if len(words) >= 2:
            found.append(f"reads as English ({sorted(words)}): {plain[:120]!r}")
    return found


@pytest.fixture(scope="module")
def evaluated_run(finished_tiny_run):
    if runs.load_results(finished_tiny_run) is None:
        evaluate.evaluate_run(finished_tiny_run, rows=4)
    if len(runs.list_runs()) < 2:  # Compare needs two runs
        runs.create_run(finished_tiny_run.config(), run_id=f"{finished_tiny_run.id}-copy")
    return finished_tiny_run


@pytest.mark.parametrize("page", PAGES)
def test_no_page_shows_english_when_french_is_chosen(page, evaluated_run):
    from tests.test_pages import ticket_config

    at = french_page(page, ticket_config(), evaluated_run.id)
    texts = visible_texts(at)
    assert len(texts) > 3, texts
    columns = Path(ticket_config().data.train_file).read_text().splitlines()[0].split(",")
    assert not english_left(texts, columns), "\n".join(english_left(texts, columns))


def test_the_scan_would_catch_english(evaluated_run):
    """The scan itself: an English label, sentence or unwrapped text is reported."""
    assert english_left(["Start training"]) and english_left(["Stop"])
    assert english_left(["Bonjour. Stops after the current step and saves a checkpoint."])
    assert english_left(["Upload your file with the answers"])  # never in the catalogue, still English
    assert not english_left(["Lancer l'entraînement", "Télécharger l'adaptateur LoRA (zip)"])


def test_the_language_choice_is_in_the_sidebar_and_defaults_to_english():
    """The sidebar offers the languages and keeps the choice in session state; every page follows it."""
    at = AppTest.from_file(str(ROOT / "studio.py"), default_timeout=120)
    at.run()
    choice = at.sidebar.selectbox[0]
    assert choice.value == "en" and choice.options == ["English", "Français"]
    assert at.title[0].value == "Fine-tuning studio" and at.session_state["lang"] == "en"
    choice.select("fr").run()
    assert at.title[0].value == "Studio d'affinage" and at.session_state["lang"] == "fr"
    at.switch_page("pages/train.py").run()
    assert at.title[0].value == "4. Entraîner"
    at.switch_page("pages/export.py").run()  # remembered for the browser session, page after page
    assert at.title[0].value == "Exporter"


def test_the_report_is_written_in_the_language_of_the_session(evaluated_run):
    from engine import report

    with i18n.using("fr"):
        page = report.build(evaluated_run)
    assert "<html lang='fr'>" in page
    for text in ("Ce que nous avons appris au modèle", "Avant et après", "Comment il a été entraîné",
                 "taux d'apprentissage", "perte d'entraînement"):
        assert text in page, text
    assert "What we taught the model" not in page and "Before and after" not in page


@pytest.fixture(scope="module")
def evaluated_dpo_run(finished_dpo_run):

    if runs.load_results(finished_dpo_run) is None:
        evaluate.evaluate_run(finished_dpo_run, rows=4)
    return finished_dpo_run


@pytest.mark.parametrize("page", ["dataset", "model", "settings", "train", "evaluate"])
def test_no_dpo_view_shows_english_when_french_is_chosen(page, evaluated_dpo_run):
    """Preference tuning in French: the demo pairs on the Dataset page (pair statistics, findings, preview), DPO on
    the Model page, its settings form, the preference charts and metrics of a DPO run, and its evaluation on
    held-out pairs."""
    from tests.test_pages_dpo import PAIRS, pairs_config

    at = french_page(page, pairs_config(), evaluated_dpo_run.id)
    texts = visible_texts(at)
    if page == "dataset":  # the demo pairs are chosen (the config's file), loaded and counted
        assert "polite_replies" in [s.value for s in at.selectbox]
        assert any("300" in text and "prompt / réponse préférée" in text for text in texts), texts
    if page == "evaluate":
        assert runs.load_results(evaluated_dpo_run)["kind"] == "preference"
        assert "Scores" in [h.value for h in at.subheader]
        assert any("Précision de préférence" in text or "précision de préférence" in text for text in texts), texts
    assert len(texts) > 3, texts
    columns = list(json.loads((PAIRS / "train.jsonl").read_text(encoding="utf-8").splitlines()[0]))
    assert not english_left(texts, columns), "\n".join(english_left(texts, columns))
