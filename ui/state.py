"""Process-wide resources every session shares, cached with ``st.cache_resource``."""

from __future__ import annotations

import streamlit as st

from mnist_core.classroom.assignments import ClassBook
from mnist_core.classroom.jobs import JobManager
from mnist_core.classroom.live_feed import LiveFeed
from mnist_core.engine.device import describe_device, pick_device
from mnist_core.runs.store import RunStore, default_runs_dir

from .live_card import feed_folder


@st.cache_resource(show_spinner=False)
def _job_manager_for(folder: str) -> JobManager:
    manager = JobManager(RunStore(folder))
    LiveFeed(feed_folder(folder), manager).start()  # what the browsers' live cards read
    return manager


def runs_dir() -> str:
    return str(default_runs_dir().resolve())


def job_manager() -> JobManager:
    """The one job queue of this server (one per runs folder, so tests can use their own)."""
    return _job_manager_for(runs_dir())


def run_store() -> RunStore:
    return job_manager().store


def class_book() -> ClassBook:
    """The class list and the teacher's assignments, kept in this server's runs folder."""
    return ClassBook(runs_dir())


@st.cache_resource(show_spinner=False)
def training_device() -> str:
    return describe_device(pick_device())
