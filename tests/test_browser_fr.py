"""The walk once in French, in a real browser whose language is French: the studio opens in French by itself,
the sidebar switches language, then upload, train (quick preset cut to 4 steps), evaluate on 2 rows with short answers and the
stakeholder report, opened offline. Screenshots go to tests/artifacts/screenshots/fr-*.png.

The server, the screenshots and the waits come from tests/browser.py; only the words differ.
"""
from __future__ import annotations

import pytest

from browser import (MARKS, ROOT, SHOTS, evaluate, go, open_report, open_tab, screenshot_on_failure,  # noqa: F401
                     see, set_number, settle, studio)
from browser import shot as english_shot

pytestmark = MARKS


@pytest.fixture(scope="module")
def page(studio):  # noqa: F811 (the server fixture imported above)
    with open_tab(studio, locale="fr-FR") as tab:
        yield tab


def shot(tab, name: str) -> None:
    english_shot(tab, f"fr-{name}")


def choose_language(tab, name: str) -> None:
    tab.locator("[data-testid=stSidebar] [data-testid=stSelectbox]").click()
    tab.get_by_role("option", name=name).click()
    settle(tab)


def test_the_walk_in_french_in_a_real_browser(page, studio_home):
    tab = page
    # A French browser gets the French studio without asking; the sidebar switches it both ways.
    tab.wait_for_selector("h1:has-text(\"Studio d'affinage\")")
    settle(tab)
    choose_language(tab, "English")
    tab.wait_for_selector("h1:has-text('Fine-tuning studio')")
    choose_language(tab, "Français")
    tab.wait_for_selector("h1:has-text(\"Studio d'affinage\")")
    see(tab.get_by_text("L'affinage est-il le bon outil pour vous ?"))
    shot(tab, "1-home")

    go(tab, "1. Jeu de données")
    tab.get_by_text("Mon propre fichier").click()
    settle(tab)
    tab.locator("input[type=file]").first.set_input_files(str(ROOT / "assets/data/ticket_routing/train.csv"))
    tab.wait_for_selector("text=300 exemples utilisables sur 300 lignes")
    tab.wait_for_selector(".js-plotly-plot .main-svg")  # the charts drawn, for the screenshot
    settle(tab)
    see(tab.get_by_text("Un exemple, exactement comme le modèle le voit"))
    shot(tab, "2-dataset")

    go(tab, "2. Modèle")
    tab.wait_for_selector("text=LORA : Ça passe")

    go(tab, "3. Réglages")
    tab.wait_for_selector("text=Vérification avant le départ")
    set_number(tab, "Nombre d'étapes", 4)  # lean: the English walk covers stop, resume, chat and GGUF
    set_number(tab, "Tokens générés max", 16)  # short answers: evaluation generates 3 x rows + 2 x 12 everyday
    shot(tab, "4-settings")

    go(tab, "4. Entraîner")
    tab.get_by_role("button", name="Lancer l'entraînement").click()
    tab.wait_for_selector("text=Terminé. Vous pouvez maintenant évaluer le modèle", timeout=600_000)
    settle(tab)
    names = tab.evaluate("() => [...document.querySelectorAll('.js-plotly-plot')].map(p => p.data[0].name)")
    assert "perte d'entraînement" in names
    shot(tab, "7-train-finished")

    evaluate(tab, "Évaluer", "Exemples mis de côté à traiter", 2, "Côte à côte")
    see(tab.get_by_text("A-t-il oublié ce qu'il savait ?"))
    shot(tab, "9-evaluate")

    go(tab, "Exporter")
    tab.get_by_role("button", name="Créer le rapport").click()
    tab.wait_for_selector("text=Télécharger le rapport (HTML)", timeout=300_000)
    with tab.expect_download() as download:
        tab.get_by_role("button", name="Télécharger le rapport (HTML)").click()
    saved = SHOTS.parent / "rapport.html"
    download.value.save_as(saved)
    shot(tab, "11-export")

    report = open_report(tab, saved, locale="fr-FR")
    see(report.get_by_text("Ce que nous avons appris au modèle"))
    see(report.get_by_text("Avant et après"))
    assert report.locator("html").get_attribute("lang") == "fr"
    text = report.inner_text("body")
    assert "taux d'apprentissage" in text and "What we taught" not in text
    report.screenshot(path=str(SHOTS / "fr-12-report.png"), full_page=True)
    report.close()
