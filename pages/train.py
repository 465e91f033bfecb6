import streamlit as st

from engine import jobs, preflight, runs
from pages.common import config, data_stats, explain, live_run, manager

st.title("4. Train")
cfg = config()
job = manager().current()

# Which run to show: the one going now, else the one asked for in the link, else this tab's last one.
wanted = st.query_params.get("run") or st.session_state.get("run_id")
run_id = job.run.id if job else wanted

if job is None:
    if not cfg.data.train_file:
        st.info("Choose a dataset first.")
        st.page_link("pages/dataset.py", label="1. Dataset", icon=":material/description:")
    else:
        st.markdown(f"Ready: **{cfg.data.train_file.rsplit('/', 1)[-1]}** on **{cfg.model.name}** with "
                    f"{cfg.method.method.upper()}, preset **{cfg.training.preset}**.")
        name = st.text_input("Name of this run", cfg.name or cfg.data.train_file.rsplit("/", 1)[-1].split(".")[0],
                             help="Letters, digits, '-' and '_'; other characters are replaced.")
        if st.button("Start training", type="primary", icon=":material/play_arrow:"):
            try:
                cfg.name = name
                cfg.validate()
                _, train_rows, _, s = data_stats(cfg)
                check = preflight.preflight(cfg, len(train_rows), s)
                if not check["disk_ok"]:
                    raise RuntimeError(f"Not enough free disk for checkpoints ({check['disk_needed_gb']:.1f} GB "
                                       f"needed, {check['disk_free_gb']:.1f} GB free).")
                run = runs.create_run(cfg)
                manager().start(run)
                st.session_state["run_id"] = run.id
                st.query_params["run"] = run.id
                st.rerun()
            except jobs.JobBusy as busy:
                st.warning(str(busy))
                st.page_link("pages/train.py", label=f"Open run {busy.run_id}", query_params={"run": busy.run_id})
            except Exception as err:
                explain(err)
else:
    st.markdown(f"Run **{job.run.id}** is training. Other tabs see it too; one run trains at a time.")
    if st.button("Stop", icon=":material/stop:", help="Stops after the current step and saves a checkpoint you can resume."):
        manager().stop(job.run.id)
        st.toast("Stopping after this step…")

if run_id:
    try:
        run = runs.get_run(run_id)
    except (FileNotFoundError, ValueError):
        st.warning(f"There is no run called {run_id!r}.")
        st.stop()
    st.subheader(f"Run {run.id}")
    status = run.status()
    if job is None and run.can_resume():
        if st.button("Resume from the last checkpoint", icon=":material/resume:"):
            try:
                manager().start(run, resume=True)
                st.rerun()
            except Exception as err:
                explain(err)
    live_run(run.id)
    if status["state"] == "finished":
        st.page_link("pages/runs.py", label="See all runs", icon=":material/folder_open:")
