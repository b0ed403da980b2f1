"""The dashboard's router: every page is listed here, in the order of the lesson."""

import streamlit as st

st.set_page_config(page_title="MNIST in under 10k parameters", page_icon="🔢", layout="wide")

pages = {
    "The lesson": [
        st.Page("pages/home.py", title="Home", icon="🏠", default=True),
        st.Page("pages/step_1.py", title="Step 1 · Skeleton", icon="1️⃣"),
        st.Page("pages/step_2.py", title="Step 2 · BatchNorm", icon="2️⃣"),
        st.Page("pages/step_3.py", title="Step 3 · Augmentation", icon="3️⃣"),
        st.Page("pages/step_4.py", title="Step 4 · LR schedule", icon="4️⃣"),
    ],
    "Tools": [
        st.Page("pages/compare_runs.py", title="Compare runs", icon="📊"),
        # st.Page("pages/receptive_field.py", ...) and st.Page("pages/draw_digit.py", ...) go here
    ],
}
st.navigation(pages).run()
