"""Who is at this browser: a name typed once, a secret in the page address, teacher mode.

On a first visit the browser gets a random secret, put in the page address (``?me=...``)
so a reload or a bookmark keeps it; the server only ever stores the owner id derived from
it (mnist_core/classroom/identity.py). Where the operator has configured Streamlit's
``st.login`` (an ``[auth]`` section in ``.streamlit/secrets.toml``), the signed-in account
is the identity instead. The teacher signs in with ``MNIST_TEACHER_PASSWORD`` in the
sidebar, or through the one-time link the server prints when its first page opens; either
gives the browser a teacher session kept in a cookie (never in the address, which a projector
shows the room), so teacher mode survives a reload and a new tab until *Sign out*.
app.py calls ``identity_sidebar`` on every run, and pages ask ``current_actor``.
"""

from __future__ import annotations

import json
import sys
import weakref
from collections.abc import Mapping
from pathlib import Path

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from mnist_core.classroom import identity
from mnist_core.classroom.identity import Actor
from mnist_core.classroom.jobs import JobManager
from mnist_core.classroom.names import NameBook
from mnist_core.common.wording import count

from .plain_text import name_text, plain
from .state import job_manager

SECRET_PARAM = "me"  # the page address's key for the browser secret
NAME_PARAM = "name"
_SECRET = "identity_secret"
_NAME = "identity_name"
_TEACHER = "identity_teacher_session"  # this session's teacher session token (identity.TeacherGate)
_NAME_REFUSED = "identity_name_refused"  # why the name just typed (or linked) was not taken, shown once
_COOKIE_CHANGE = "identity_cookie_change"  # the teacher cookie to write (a token) or clear (""), once drawn


@st.cache_resource(show_spinner=False)
def _salt_for(runs_dir: str) -> bytes:
    """The server's salt (not cached when it cannot be had: the next page asks again)."""
    owned = 0
    if not (Path(runs_dir) / identity.SALT_FILE).exists():  # a copied folder's runs would lose their owners
        owned = sum(bool(run.status.get("owner")) for run in job_manager().store.list())
    return identity.server_salt(runs_dir, owned_runs=owned)


def _salt(manager: JobManager) -> bytes:
    """The salt; without one, the page says why (on every page, to everyone) and nothing else runs."""
    try:
        return _salt_for(str(manager.store.root.resolve()))
    except identity.SaltProblem as exc:
        st.error(f"This server cannot tell students apart yet: {exc}", icon=":material/key_off:")
        st.stop()


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
    typed = identity.clean_name(st.query_params.get(NAME_PARAM) or st.session_state.get(_NAME), "")
    refusal = _name_book().claim(owner, typed, identity.default_name(owner)) if typed else None
    if refusal:  # a taken or reserved name (a copied link, say): this browser keeps its default name
        st.session_state[_NAME_REFUSED] = refusal
        st.session_state.pop(_NAME, None)
        st.query_params.pop(NAME_PARAM, None)
        typed = ""
    if typed and st.query_params.get(NAME_PARAM) != typed:
        st.query_params[NAME_PARAM] = typed
    return owner, typed or identity.default_name(owner)


@st.cache_resource(show_spinner=False)
def _name_book_for(runs_dir: str) -> NameBook:
    """The server's names, seeded once with those already on its runs (so a restart gives nobody's away)."""
    runs = job_manager().store.list()
    return NameBook((run.status.get("owner", ""), run.status.get("owner_name", "")) for run in runs
                    if not run.status.get("by_teacher"))


def _name_book() -> NameBook:
    return _name_book_for(str(job_manager().store.root.resolve()))


def _teacher_session(manager: JobManager) -> bool:
    """Is this browser in a teacher session? Taken from the session, else its cookie, else a one-time link."""
    gate = manager.teacher
    link = st.query_params.get(identity.LINK_PARAM)
    if link is not None:
        st.query_params.pop(identity.LINK_PARAM, None)  # spent either way: off the address before anyone sees it
        if gate.redeem_link(link):
            _begin_teacher_session(gate)
            print(_sign_in_link(gate), file=sys.stderr, flush=True)  # the next link, for another browser
    token = st.session_state.get(_TEACHER)
    if token is None:
        token = _cookie(identity.TEACHER_COOKIE)
    if gate.session_valid(token):
        st.session_state[_TEACHER] = token
        return True
    st.session_state.pop(_TEACHER, None)
    return False


def _cookie(name: str) -> str | None:
    """A cookie the browser sent when the session began; None where there is none (or no browser: a script
    run outside a server, as AppTest's, has no runtime to ask)."""
    try:
        value = st.context.cookies.get(name)
    except RuntimeError:
        return None
    return value if isinstance(value, str) else None


def _begin_teacher_session(gate: identity.TeacherGate) -> None:
    token = gate.new_session()
    st.session_state[_TEACHER] = token
    st.session_state[_COOKIE_CHANGE] = token


def _sign_in_link(gate: identity.TeacherGate) -> str:
    """The line the server prints: a one-time teacher sign-in link (a new token each time)."""
    address = st.get_option("server.address") or "localhost"
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    scheme = "https" if st.get_option("server.sslCertFile") else "http"
    where = f"{scheme}://{address}:{st.get_option('server.port')}/{base + '/' if base else ''}"
    return f"Teacher sign-in link (works once, in one browser): {where}?{identity.LINK_PARAM}={gate.new_link_token()}"


@st.cache_resource(show_spinner=False)
def _link_printed_for(manager_id: int) -> bool:
    """Print the first sign-in link once per job manager (that is, once per server and runs folder)."""
    manager = job_manager()
    if manager.teacher.configured:
        print(_sign_in_link(manager.teacher), file=sys.stderr, flush=True)
    return True


def print_sign_in_link() -> None:
    """On every run: the server prints a teacher sign-in link when its first page opens."""
    _link_printed_for(id(job_manager()))


def _write_cookie_change() -> None:
    """Set or clear the teacher cookie in this browser (a script; nothing shows on the page)."""
    if _COOKIE_CHANGE not in st.session_state:
        return
    token = st.session_state.pop(_COOKIE_CHANGE)
    age = int(identity.TEACHER_SESSION_S) if token else 0
    cookie = json.dumps(f"{identity.TEACHER_COOKIE}={token}; path=/; max-age={age}; SameSite=Strict")
    st.html(f"<script>document.cookie = {cookie} + (location.protocol === 'https:' ? '; Secure' : '');</script>",
            unsafe_allow_javascript=True)


def current_actor() -> Actor:
    """Whoever is at this browser, as the job manager knows them."""
    manager = job_manager()
    salt = _salt(manager)
    signed_in = login_identity(st.user, salt) if login_configured() else None
    owner, name = signed_in or _browser_identity(salt)
    return Actor(owner, name, is_teacher=_teacher_session(manager))


def _save_name() -> None:
    name = identity.clean_name(st.session_state.get("identity_name_input"), "")
    secret = st.session_state.get(_SECRET)
    owner = identity.owner_id(secret, _salt(job_manager())) if identity.valid_secret(secret) else ""
    refusal = _name_book().claim(owner, name, identity.default_name(owner)) if name and owner else None
    if refusal:
        st.session_state[_NAME_REFUSED] = refusal
        st.session_state["identity_name_input"] = st.session_state.get(_NAME, "")  # the box shows the name kept
        return
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
    print_sign_in_link()
    actor = current_actor()
    manager = job_manager()
    with st.sidebar:
        _write_cookie_change()
    with st.sidebar.container(border=True):
        if login_configured():
            if st.user.get("is_logged_in"):
                st.markdown(f"Signed in as **{name_text(actor.name, 'a signed-in user')}**")
                st.button("Sign out", on_click=st.logout, key="identity_logout")
            else:
                st.button("Sign in", on_click=st.login, key="identity_login", type="primary")
                st.caption("Or carry on without signing in: this browser's address keeps who you are.")
        if not st.user.get("is_logged_in"):
            typed = st.session_state.get(_NAME) or identity.clean_name(st.query_params.get(NAME_PARAM), "")
            st.text_input("Your name", value=typed, key="identity_name_input",
                          placeholder=actor.name, on_change=_save_name, max_chars=40,
                          help="Shown next to your runs; one name per person on this server. This page's address "
                               "remembers you: bookmark it to come back to your runs, and do not share it "
                               "(whoever has it can stop your runs).")
            if _NAME_REFUSED in st.session_state:
                st.error(plain(st.session_state.pop(_NAME_REFUSED)), icon=":material/badge:")
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
            ok, why = manager.teacher.check(password, browser=actor.owner_id)
            if ok:
                _begin_teacher_session(manager.teacher)
                st.rerun()
            st.error(why)


def _teacher_tools(manager: JobManager, actor: Actor) -> None:
    st.success("Teacher mode: you can stop or delete any run.", icon=":material/school:")
    waiting = sum(job.phase == "queued" for job in manager.active_jobs())
    if st.button(f"Clear the queue ({waiting} waiting)", disabled=not waiting, key="identity_clear_queue"):
        cleared = manager.clear_queue(actor)
        st.toast(f"{count(cleared, 'waiting run')} cancelled")
    if st.button("Sign out", key="identity_teacher_leave", icon=":material/logout:",
                 help="Ends teacher mode in every tab of this browser."):
        manager.teacher.end_session(st.session_state.pop(_TEACHER, None))
        st.session_state[_COOKIE_CHANGE] = ""
        st.rerun()
