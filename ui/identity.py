"""Who is at this browser: a name typed once, a secret in the page address, teacher mode.

On a first visit the browser gets a random secret, put in the page address (``?me=...``)
so a reload or a bookmark keeps it; the server only ever stores the owner id derived from
it (mnist_core/classroom/identity.py). Where the operator has configured Streamlit's
``st.login`` (an ``[auth]`` section in ``.streamlit/secrets.toml``), the signed-in account
is the identity instead. The teacher signs in with ``MNIST_TEACHER_PASSWORD`` in the
sidebar. app.py calls ``identity_sidebar`` on every run, and pages ask ``current_actor``.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from mnist_core.classroom import identity
from mnist_core.classroom.identity import Actor
from mnist_core.classroom.jobs import JobManager
from mnist_core.common.wording import count

from .state import job_manager

SECRET_PARAM = "me"  # the page address's key for the browser secret
NAME_PARAM = "name"
_SECRET = "identity_secret"
_NAME = "identity_name"
_TEACHER = "identity_teacher_of"  # the owner id that signed in as teacher in this session


@st.cache_resource(show_spinner=False)
def _salt_for(runs_dir: str) -> bytes:
    return identity.server_salt(runs_dir)


def _salt(manager: JobManager) -> bytes:
    return _salt_for(str(manager.store.root.resolve()))


def login_identity(user_info: Mapping, salt: bytes) -> tuple[str, str] | None:
    """(owner id, name) of an ``st.user`` that is signed in through the operator's provider, else None."""
    if not user_info.get("is_logged_in"):
        return None
    subject = user_info.get("sub") or user_info.get("email")
    if not subject:
        return None
    name = identity.clean_name(user_info.get("name") or user_info.get("email"), "Signed-in user")
    return identity.owner_id(str(subject), salt, kind="login"), name


def login_configured() -> bool:
    """True when the operator set up ``st.login`` (Streamlit then always reports ``is_logged_in``)."""
    return "is_logged_in" in st.user


def _browser_identity(salt: bytes) -> tuple[str, str]:
    """(owner id, name) from the secret in the address, making a secret on the first visit."""
    secret = st.query_params.get(SECRET_PARAM)
    if not identity.valid_secret(secret):
        secret = st.session_state.get(_SECRET)  # the address lost it (a page switch): this session still knows
    if not identity.valid_secret(secret):
        secret = identity.new_secret()
    st.session_state[_SECRET] = secret
    if st.query_params.get(SECRET_PARAM) != secret:
        st.query_params[SECRET_PARAM] = secret
    owner = identity.owner_id(secret, salt)
    typed = st.query_params.get(NAME_PARAM) or st.session_state.get(_NAME)
    if typed and st.query_params.get(NAME_PARAM) != typed:
        st.query_params[NAME_PARAM] = typed
    return owner, identity.clean_name(typed, identity.default_name(owner))


def current_actor() -> Actor:
    """Whoever is at this browser, as the job manager knows them."""
    salt = _salt(job_manager())
    signed_in = login_identity(st.user, salt) if login_configured() else None
    owner, name = signed_in or _browser_identity(salt)
    return Actor(owner, name, is_teacher=st.session_state.get(_TEACHER) == owner)


def _save_name() -> None:
    name = identity.clean_name(st.session_state.get("identity_name_input"), "")
    st.session_state[_NAME] = name
    if name:
        st.query_params[NAME_PARAM] = name
    else:
        st.query_params.pop(NAME_PARAM, None)


# Per-run objects of the runs that drew the box: Streamlit makes a new coordinator for every run.
_DRAWN_IN: weakref.WeakSet = weakref.WeakSet()


def _drawn_this_run() -> bool:
    """True the second time it is asked in one script run."""
    ctx = get_script_run_ctx()
    marker = getattr(ctx, "parallel_coordinator", None)
    if marker is None:
        return False
    if marker in _DRAWN_IN:
        return True
    _DRAWN_IN.add(marker)
    return False


def identity_sidebar() -> Actor:
    """The sidebar's 'You' box: name, sign-in, teacher mode, drawn once per script run. Returns the actor.

    app.py draws it on every run; a page run on its own (AppTest after its first run, which
    runs page files without the router) draws it from ``through_the_router``.
    """
    if _drawn_this_run():
        return current_actor()
    actor = current_actor()
    manager = job_manager()
    with st.sidebar.container(border=True):
        if login_configured():
            if st.user.get("is_logged_in"):
                st.markdown(f"Signed in as **{actor.name}**")
                st.button("Sign out", on_click=st.logout, key="identity_logout")
            else:
                st.button("Sign in", on_click=st.login, key="identity_login", type="primary")
                st.caption("Or carry on without signing in: this browser's address keeps who you are.")
        if not st.user.get("is_logged_in"):
            typed = st.session_state.get(_NAME) or identity.clean_name(st.query_params.get(NAME_PARAM), "")
            st.text_input("Your name", value=typed, key="identity_name_input",
                          placeholder=actor.name, on_change=_save_name, max_chars=40,
                          help="Shown next to your runs. This page's address remembers you: bookmark it to come "
                               "back to your runs, and do not share it (whoever has it can stop your runs).")
        if actor.is_teacher:
            _teacher_tools(manager, actor)
        else:
            _teacher_sign_in(manager, actor)
    return actor


def _teacher_sign_in(manager: JobManager, actor: Actor) -> None:
    if not manager.teacher.configured:
        return
    with st.expander("Teacher"), st.form("identity_teacher_form", border=False):
        password = st.text_input("Teacher password", type="password", key="identity_teacher_password")
        if st.form_submit_button("Sign in as teacher", key="identity_teacher_sign_in"):
            ok, why = manager.teacher.check(password)
            if ok:
                st.session_state[_TEACHER] = actor.owner_id
                st.rerun()
            st.error(why)


def _teacher_tools(manager: JobManager, actor: Actor) -> None:
    st.success("Teacher mode: you can stop or delete any run.", icon=":material/school:")
    waiting = sum(job.phase == "queued" for job in manager.active_jobs())
    if st.button(f"Clear the queue ({waiting} waiting)", disabled=not waiting, key="identity_clear_queue"):
        cleared = manager.clear_queue(actor)
        st.toast(f"{count(cleared, 'waiting run')} cancelled")
    if st.button("Leave teacher mode", key="identity_teacher_leave"):
        st.session_state.pop(_TEACHER, None)
        st.rerun()
