"""The catalogue: every language complete with the right placeholders, English fallback key by key, numbers and
dates written the language's way, messages kept as keys plus values on disk, the CLI in the chosen language."""
from __future__ import annotations

import json

import pytest

from engine import i18n, runs
from engine.i18n import msg, render, t

OTHER_LANGUAGES = [lang for lang in i18n.LANGUAGES if lang != i18n.DEFAULT]


@pytest.mark.parametrize("lang", OTHER_LANGUAGES)
def test_every_language_has_every_msgid_with_the_same_placeholders_and_nothing_unused(lang):
    found = i18n.problems(lang)
    # Each line names the msgid and where the code uses it, e.g.
    # "msgid 'Start training' used in pages/train.py:26 has no Français translation"; fix: python -m engine.i18n update
    assert not found, "\n".join(found)


def write_po(path, entries: dict[str, str]) -> None:
    lines = ['msgid ""', 'msgstr ""', '"Content-Type: text/plain; charset=utf-8\\n"', ""]
    for msgid, text in entries.items():
        lines += [f"msgid {json.dumps(msgid, ensure_ascii=False)}", f"msgstr {json.dumps(text, ensure_ascii=False)}", ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")


@pytest.fixture
def fake_catalogue(tmp_path, monkeypatch):
    """A French file holding only what a test writes, with the code's real msgids."""
    monkeypatch.setattr(i18n, "LOCALES", tmp_path)
    i18n.catalogue.cache_clear()
    yield i18n.po_path("fr")
    i18n.catalogue.cache_clear()


def test_the_check_names_missing_unused_and_wrong_placeholder_entries(fake_catalogue):
    write_po(fake_catalogue, {"Start training": "Lancer l'entraînement",
                              "Step {step} of {total}": "Étape {etape} sur {total}",
                              "A sentence the code no longer uses": "Une phrase"})
    found = "\n".join(i18n.problems("fr"))
    assert "msgid 'Stop' used in pages/train.py" in found and "has no Français translation" in found
    assert "'Step {step} of {total}'" in found and "['etape', 'total']" in found and "['step', 'total']" in found
    assert "'A sentence the code no longer uses'" in found and "not used by the code any more" in found
    assert "msgid 'Start training'" not in found


def test_a_missing_translation_falls_back_to_english_for_that_key_only(fake_catalogue):
    write_po(fake_catalogue, {"Start training": "Lancer l'entraînement"})
    with i18n.using("fr"):
        assert t("Start training") == "Lancer l'entraînement"
        assert t("Stop") == "Stop"
        assert t("Step {step} of {total}", step=3, total=40) == "Step 3 of 40"


def test_a_broken_translation_never_hides_the_message(fake_catalogue):
    write_po(fake_catalogue, {"Step {step} of {total}": "Étape {etape} sur {total}"})
    with i18n.using("fr"):
        assert t("Step {step} of {total}", step=3, total=40) == "Step 3 of 40"


def test_numbers_percentages_and_dates_follow_the_language():
    space = lambda text: text.replace("\u202f", " ").replace("\xa0", " ")  # noqa: E731 (French uses narrow spaces)
    with i18n.using("fr"):
        assert space(i18n.number(1234.5, 1)) == "1 234,5"
        assert space(i18n.percent(0.12)) == "12 %"
        assert space(t("{gb:.1f} GB", gb=1234.56)) == "1 234,6 Go"
        assert space(t("Everyday questions answered acceptably: **{before:.0%}** before, **{after:.0%}** after "
                       "fine-tuning.", before=0.5, after=0.75)).startswith("Questions de tous les jours bien "
                                                                            "traitées : **50 %** avant, **75 %**")
        assert "nov." in i18n.date(1_795_000_000)
    assert i18n.number(1234.5, 1) == "1,234.5" and i18n.percent(0.12) == "12%"
    assert "Nov" in i18n.date(1_795_000_000)


def test_the_language_comes_from_the_browser_or_the_environment(monkeypatch):
    assert i18n.pick("fr-FR") == "fr" and i18n.pick("fr_CA.UTF-8") == "fr"
    assert i18n.pick("de-DE") == "en" and i18n.pick(None) == "en"
    monkeypatch.setenv("STUDIO_LANG", "fr")
    assert i18n.from_environment() == "fr"
    monkeypatch.delenv("STUDIO_LANG")
    monkeypatch.setenv("LC_ALL", "")
    monkeypatch.setenv("LANG", "fr_FR.UTF-8")
    assert i18n.from_environment() == "fr"


def test_a_message_is_english_text_and_renders_later_in_any_language():
    nested = msg("{file}: {usable} usable examples out of {rows} rows.", file="a.csv", usable=1200, rows=1300)
    assert nested == "a.csv: 1,200 usable examples out of 1,300 rows."  # a str: logs and old code keep working
    with i18n.using("fr"):
        assert render(nested).replace("\u202f", " ") == "a.csv : 1 200 exemples utilisables sur 1 300 lignes."
    again = i18n.Message.from_dict(json.loads(json.dumps(nested.to_dict())))
    assert again.msgid == nested.msgid and again.params == nested.params


def test_a_run_status_is_stored_as_key_and_values_and_old_english_statuses_still_read(tmp_path):
    from engine.settings import RunConfig

    run = runs.create_run(RunConfig(name="i18n"), root=tmp_path)
    run.set_status("failed", message=msg("The device ran out of memory. Lower the batch size or the max length, "
                                         "use LoRA instead of full fine-tuning, or pick a smaller model."))
    stored = json.loads((run.path / "status.json").read_text())
    assert stored["message"].startswith("The device ran out of memory")  # English for people and older studios
    assert stored["message_key"]["msgid"].startswith("The device ran out of memory")
    with i18n.using("fr"):
        level, text = runs.describe_state(run.status())
        assert level == "error" and render(text).startswith("Échec : L'appareil a manqué de mémoire.")
    # A run written before messages had keys: its English sentence is translated when the catalogue knows it.
    (run.path / "status.json").write_text(json.dumps({"state": "stopped", "message": "Training."}))
    with i18n.using("fr"):
        assert render(runs.status_message(run.status())) == "Entraînement en cours."
        assert render(runs.describe_state(run.status())[1]).startswith("Arrêté par vous.")


def test_engine_errors_carry_their_message_to_the_page(tmp_path):
    from engine import data

    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(data.DataError) as err:
        data.load_data(empty)
    assert str(err.value).startswith("empty.csv is empty.")
    with i18n.using("fr"):
        assert render(err.value) == ("empty.csv est vide. Choisissez un fichier avec une ligne d'en-tête et au moins "
                                     "un exemple.")


def test_the_cli_speaks_the_language_of_studio_lang(monkeypatch, capsys, tmp_path):
    from engine import cli

    monkeypatch.setenv("STUDIO_HOME", str(tmp_path))
    monkeypatch.setenv("STUDIO_LANG", "fr")
    try:
        assert cli.main(["runs"]) == 0
        assert "Aucun entraînement pour l'instant." in capsys.readouterr().out
        assert cli.main(["train", "missing.yaml"]) == 2
        assert capsys.readouterr().err.startswith("erreur : ")
        with pytest.raises(SystemExit):
            cli.main(["train", "--help"])
        help_text = " ".join(capsys.readouterr().out.split())
        assert "Combien de points de sauvegarde récents garder sur le disque." in help_text
    finally:
        i18n.set_language("en")  # main() set it for this thread
