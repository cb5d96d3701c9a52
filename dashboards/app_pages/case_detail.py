"""Case drill-down: one case's full timeline, signals, evaluations and the window's video flags."""

import streamlit as st

from dashboards import case_view
from dashboards import common as c
from dashboards.i18n import t

st.title(t("case.title"))
path = c.require_snapshot()
if "case_id_input" not in st.session_state:
    st.session_state["case_id_input"] = st.query_params.get("case", "")
case_id = st.text_input(t("case.input"), key="case_id_input").strip()
if case_id:
    if st.query_params.get("case") != case_id:
        st.query_params["case"] = case_id
    case_view.render(path, case_id, key="cd")
else:
    st.info(t("case.hint"))
