import streamlit as st

from engine import jobs, preflight, runs
from engine.i18n import render, t
from engine.settings import PRESET_TEXT
from pages.common import config, data_stats, explain, manager, method_name
from pages.live import live_run

st.title(t("4. Train"))
jobs.warm_up()  # the training libraries load in the background while the person gets to Start
cfg = config()
job = manager().current()

# Which run to show: the one going now, else the one asked for in the link, else this tab's last one.
wanted = st.query_params.get("run") or st.session_state.get("run_id")
run_id = job.run.id if job else wanted

if job is None:
    if not cfg.data.train_file:
        st.info(t("Choose a dataset first."))
        st.page_link("pages/dataset.py", label=t("1. Dataset"), icon=":material/description:")
    else:
        st.markdown(t("Ready: **{file}** on **{model}** with {method}, preset **{preset}**.",
                      file=cfg.data.train_file.rsplit('/', 1)[-1], model=cfg.model.name,
                      method=method_name(cfg), preset=t(PRESET_TEXT[cfg.training.preset][0])))
        name = st.text_input(t("Name of this run"), cfg.name or cfg.data.train_file.rsplit("/", 1)[-1].split(".")[0],
                             help=t("Letters, digits, '-' and '_'; other characters are replaced."))
        if st.button(t("Start training"), type="primary", icon=":material/play_arrow:"):
            try:
                cfg.name = name
                cfg.validate()
                _, train_rows, _, s = data_stats(cfg)
                check = preflight.preflight(cfg, len(train_rows), s)
                if not check["disk_ok"]:
                    st.error(t("Not enough free disk for checkpoints ({needed:.1f} GB needed, {free:.1f} GB free).",
                               needed=check["disk_needed_gb"], free=check["disk_free_gb"]))
                    st.stop()
                run = runs.create_run(cfg)
                manager().start(run)
                st.session_state["run_id"] = run.id
                st.query_params["run"] = run.id
                st.rerun()
            except jobs.JobBusy as busy:
                st.warning(render(busy))
                st.page_link("pages/train.py", label=t("Open run {run}", run=busy.run_id),
                             query_params={"run": busy.run_id})
            except Exception as err:
                explain(err)
else:
    st.markdown(t("Run **{run}** is training. Other tabs see it too; one run trains at a time.", run=job.run.id))
    if st.button(t("Stop"), icon=":material/stop:",
                 help=t("Stops after the current step and saves a checkpoint you can resume.")):
        manager().stop(job.run.id)
        st.toast(t("Stopping after this step…"))

if run_id:
    try:
        run = runs.get_run(run_id)
    except (FileNotFoundError, ValueError):
        st.warning(t("There is no run called {run}.", run=repr(run_id)))
        st.stop()
    st.subheader(t("Run {run}", run=run.id))
    status = run.status()
    if job is None and run.can_resume():
        if st.button(t("Resume from the last checkpoint"), icon=":material/resume:"):
            try:
                manager().start(run, resume=True)
                st.rerun()
            except Exception as err:
                explain(err)
    live_run(run.id)
    if status["state"] == "finished":
        st.page_link("pages/runs.py", label=t("See all runs"), icon=":material/folder_open:")
