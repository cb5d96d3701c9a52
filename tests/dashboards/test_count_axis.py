"""Count charts have whole-number axes (issue 19: "0.5, 1.5" on a chart of counts)."""

from __future__ import annotations

import plotly.graph_objects as go

from dashboards.common import count_axis


def test_a_small_count_axis_steps_by_one():
    fig = count_axis(go.Figure([go.Bar(x=["a", "b"], y=[1, 2]), go.Bar(x=["a", "b"], y=[3, 0])]))
    assert fig.layout.yaxis.dtick == 1 and fig.layout.yaxis.tickformat == ",d"
    assert fig.layout.yaxis.rangemode == "tozero"


def test_a_large_count_axis_keeps_plotlys_steps_as_whole_numbers():
    fig = count_axis(go.Figure(go.Bar(x=[4, 9], y=["w1", "w2"], orientation="h")), "x")
    assert fig.layout.xaxis.dtick == 1  # 9 at most: one per step
    fig = count_axis(go.Figure([go.Bar(x=["m"], y=[6]), go.Bar(x=["m"], y=[6])]))  # stacked to 12
    assert fig.layout.yaxis.dtick is None and fig.layout.yaxis.tickformat == ",d"
