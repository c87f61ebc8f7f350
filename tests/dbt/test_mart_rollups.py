"""The roll-up marts give the numbers the detail marts' old 'all' rows gave: sums add up over the
detail rows and the ratios are recomputed from the sums; medians and modes come from the stage
episodes below fct_journey_metrics, never from its rows. (Checked once row for row against the
build before the split; these keep the rules.)"""

from __future__ import annotations

from tests.dbt.conftest import query


def _rows(url: str, sql: str) -> list[tuple]:
    return sorted(query(url, sql), key=repr)


def test_revenue_retention_by_month_adds_up_the_detail(built_warehouse):
    by_month = _rows(
        built_warehouse,
        "select calendar_month, starting_customers, retained_customers, starting_arr_usd, churned_arr_usd,"
        " contraction_arr_usd, expansion_arr_usd, ending_arr_usd, gross_revenue_retention, net_revenue_retention"
        " from marts.fct_revenue_retention_by_month",
    )
    recomputed = _rows(
        built_warehouse,
        """
        select calendar_month, sum(starting_customers), sum(retained_customers), sum(starting_arr_usd),
            sum(churned_arr_usd), sum(contraction_arr_usd), sum(expansion_arr_usd), sum(ending_arr_usd),
            round(least(1.0, (sum(starting_arr_usd) - sum(churned_arr_usd) - sum(contraction_arr_usd))
                / nullif(sum(starting_arr_usd), 0)), 4),
            round((sum(starting_arr_usd) - sum(churned_arr_usd) - sum(contraction_arr_usd) + sum(expansion_arr_usd))
                / nullif(sum(starting_arr_usd), 0), 4)
        from marts.fct_revenue_retention group by calendar_month
        """,
    )
    assert by_month and by_month == recomputed
    # The detail sums are exact: the customers' ARR is 12 x MRR in cents.
    (scale,) = query(built_warehouse, "select max(scale(starting_arr_usd)) from marts.fct_revenue_retention")[0]
    assert scale <= 2


def test_journey_metrics_by_stage_come_from_the_episodes(built_warehouse):
    by_stage = _rows(
        built_warehouse,
        "select stage, episodes, completed_episodes, velocity_median_days, top_regression_trigger"
        " from marts.fct_journey_metrics_by_stage",
    )
    from_episodes = _rows(
        built_warehouse,
        """
        select t.stage, count(*), count(*) filter (where t.exit_type in ('progressed', 'completed')),
            (percentile_cont(0.5) within group (order by t.days_in_stage) filter (
                where t.exit_type in ('progressed', 'completed') and t.is_entry_observed))::numeric,
            mode() within group (order by t.regression_trigger) filter (where t.is_regression)
        from marts.fct_journey_transitions as t
        inner join intermediate.int_account_lifecycles_derived as l on t.company_id = l.company_id
        group by t.stage
        """,
    )
    assert by_stage and by_stage == from_episodes
    episodes = query(
        built_warehouse,
        "select (select sum(episodes) from marts.fct_journey_metrics),"
        " (select sum(episodes) from marts.fct_journey_metrics_by_stage)",
    )[0]
    assert episodes[0] == episodes[1]


def test_adoption_funnel_by_cohort_adds_up_the_segments(built_warehouse):
    by_cohort = _rows(
        built_warehouse,
        "select cohort_month, step_name, users_reached from marts.fct_adoption_funnel_by_cohort",
    )
    summed = _rows(
        built_warehouse,
        "select cohort_month, step_name, sum(users_reached) from marts.fct_adoption_funnel group by 1, 2",
    )
    assert by_cohort and by_cohort == summed


def test_playbook_success_by_playbook_adds_up_the_months(built_warehouse):
    by_playbook = _rows(
        built_warehouse, "select playbook, triggered, succeeded from marts.fct_playbook_success_by_playbook"
    )
    summed = _rows(
        built_warehouse,
        "select playbook, sum(triggered), sum(succeeded) from marts.fct_playbook_success group by playbook",
    )
    assert by_playbook and by_playbook == summed


def test_detail_marts_hold_no_roll_up_rows(built_warehouse):
    (all_rows,) = query(
        built_warehouse,
        """
        select (select count(*) from marts.fct_revenue_retention where segment = 'all')
            + (select count(*) from marts.fct_journey_metrics where segment = 'all')
            + (select count(*) from marts.fct_adoption_funnel where segment = 'all')
        """,
    )[0]
    assert all_rows == 0
