"""Home: what this is, lessons and presets as cards, and a blank start."""

import streamlit as st

from playground import lessons as playground_lessons
from playground import presets
from playground.data import DATASETS, builtin
from ui import keys, state
from ui.text import plain
from ui.views import lessons

st.title("Neural-network playground")
st.markdown("Build a network layer by layer, train it live on real PyTorch, and watch it learn — then take "
            "the code home. Follow a lesson, open a preset, or start from scratch.")



def cards(n: int, per_row: int):
    """Card containers in rows of `per_row`: the cards of a row share their height, their buttons the bottom."""
    for row in range(0, n, per_row):
        cols = st.columns(per_row)
        for i in range(row, min(row + per_row, n)):
            yield cols[i - row].container(border=True, height="stretch", vertical_alignment="distribute")


st.header("Lessons")
st.caption("One idea a lesson, in course order. Each opens a setup to play with; its claim can be checked live on "
           "the Lessons page.")
course = playground_lessons.course()
for card, lesson in zip(cards(len(course), 4), course, strict=True):
    with card:
        st.markdown(f"**{lesson.order} · {lesson.title}**")
        st.caption(lesson.claim)
        if st.button("Start", key=keys.LESSON(lesson.name), width="stretch", icon=":material/school:"):
            st.switch_page(lessons.start(lesson.name))

st.header("Applications")
with st.container(border=True, horizontal=True, vertical_alignment="center", key=keys.HOME("applications")):
    st.markdown("Diagnosis, fraud, markets, speech, games and driving in miniature: train each in under a minute "
                "and use it — move a threshold, play tic-tac-toe against the net.", width="stretch")
    st.page_link("pages/applications.py", label="Open Applications", icon=":material/apps:", width="content")

st.header("Presets")
specs = {name: presets.get(name) for name in presets.names()}
for card, (name, spec) in zip(cards(len(specs), 3), specs.items(), strict=True):
    with card:
        st.markdown(f"**{plain(spec.name)}**")
        st.caption(plain(spec.description or spec.data.name, 300))
        if st.button("Open", key=keys.HOME(name), width="stretch"):
            state.set_spec(spec.to_dict())
            lessons.end()
            st.switch_page("pages/train.py")

st.header("Start from scratch")
left, right = st.columns([2, 1], vertical_alignment="bottom")
data = left.selectbox("Dataset", builtin(), index=builtin().index("spiral"), key=keys.HOME("scratch-data"),
                      format_func=lambda n: f"{n} — {DATASETS.get(n).description}")
if right.button("Start with no layers", key=keys.HOME("scratch"), icon=":material/add:", width="stretch"):
    state.set_spec(presets.blank(data))
    lessons.end()
    st.switch_page("pages/build.py")
