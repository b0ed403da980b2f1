"""Process-wide resources every session shares, cached with ``st.cache_resource``."""

from __future__ import annotations

import streamlit as st

from mnist_core.engine.device import describe_device, pick_device
from mnist_core.engine.jobs import JobManager
from mnist_core.engine.runs import RunStore, default_runs_dir


@st.cache_resource(show_spinner=False)
def _job_manager_for(runs_dir: str) -> JobManager:
    return JobManager(RunStore(runs_dir))


def job_manager() -> JobManager:
    """The one job queue of this server (one per runs folder, so tests can use their own)."""
    return _job_manager_for(str(default_runs_dir().resolve()))


def run_store() -> RunStore:
    return job_manager().store


@st.cache_resource(show_spinner=False)
def training_device() -> str:
    return describe_device(pick_device())
