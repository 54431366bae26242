"""'Check the claim': a lesson's experiment run live as jobs in the shared pool, polled while it runs, then
the measured numbers next to each condition of the claim and the verdict."""

from __future__ import annotations

import math

import streamlit as st

from playground import lessons
from playground.lessons import Check
from ui import keys, server, state
from ui.text import plain

POLL = 1.0  # seconds between redraws while the experiment runs


def running(check: Check | None) -> bool:
    """Whether `check` still has variants waiting or training."""
    return check is not None and check.result() is None


def start(lesson: lessons.Lesson, seed: int) -> None:
    """Start checking `lesson`'s claim with `seed` (a check of it already running is stopped first)."""
    s = state.get()
    old = s.checks.get(lesson.name)
    if old is not None and running(old):
        old.stop()
    check = Check(lesson, seed, server.pool(), owner=state.owner().id)
    check.advance()
    s.checks[lesson.name] = check


def fmt(v) -> str:
    """A measured number for the table: 3 significant digits, small ones in e-notation."""
    if not isinstance(v, (int, float)) or (isinstance(v, float) and not math.isfinite(v)):
        return "—"
    return f"{v:.3g}" if v == 0 or abs(v) >= 1e-3 else f"{v:.2e}"


def show(lesson: lessons.Lesson) -> None:
    """The claim, the seed and the button; while it runs each variant's progress; then the verdict."""
    s = state.get()
    with st.container(border=True, key=keys.LESSON("claim")):
        st.markdown(f"**Claim:** {lesson.claim}")
        seed_col, button_col = st.columns([1, 2], vertical_alignment="bottom")
        seed = seed_col.number_input("Seed", 0, 2**31 - 1, 0, step=1, key=keys.LESSON("seed", lesson.name),
                                     help="Seed of every run and of the data. The claim was measured on seeds "
                                          + ", ".join(map(str, lesson.experiment.seeds)) + "; try others.")
        if button_col.button("Check the claim", key=keys.LESSON("check"), type="primary", icon=":material/science:",
                             width="stretch"):
            start(lesson, int(seed))
        check = s.checks.get(lesson.name)
        every = POLL if running(check) else None

        @st.fragment(run_every=every)
        def live() -> None:
            if check is None:
                st.caption(f"Runs {len(lesson.experiment.variants)} trainings in the background and measures "
                           "the numbers the claim is about.")
                return
            result = check.result()
            if result is None:
                progress(check)
                return
            verdict(result)
            if every is not None:  # it ended while polling: redraw the page once without the timer
                st.rerun()
        live()


def progress(check: Check) -> None:
    """One bar a variant: its state and epochs done."""
    for p in check.progress():
        done = p["epoch"] / max(1, p["epochs"])
        st.progress(min(1.0, done), text=f"{plain(p['label'])}: {p['state']}, epoch {p['epoch']}/{p['epochs']}")
    if st.button("Stop the check", key=keys.LESSON("stop"), icon=":material/stop:"):
        check.stop()
        st.rerun()


def verdict(result: dict) -> None:
    """The measured numbers, each condition with its numbers, and whether the claim holds."""
    if result["holds"]:
        st.success(f"**Holds** (seed {result['seed']}, {result['seconds']:.0f} s)", icon=":material/check_circle:")
    else:
        st.error(f"**Does not hold** (seed {result['seed']})", icon=":material/cancel:")
    for where, why in (result.get("errors") or {}).items():
        st.warning(f"{plain(where)}: {plain(why, 300)}")
    labels, measured = result["labels"], result["measured"]
    rows = [{"measured": labels[k], "value": fmt(v)} for k, v in measured.items()]
    st.dataframe(rows, hide_index=True, width="stretch", key=keys.LESSON("measured"))
    for c in result["checks"]:
        left, op, right = c["condition"].split(" ", 2)
        right_text = f"{labels[right]} ({fmt(c['right'])})" if right in labels else fmt(c["right"])
        icon = ":material/check:" if c["holds"] else ":material/close:"
        st.markdown(f"{icon} {labels[left]} ({fmt(c['left'])}) {op} {right_text}")
