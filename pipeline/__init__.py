"""What Airflow and the command line call: task bodies (``tasks``), the DAGs' shared pieces
(``orchestration``: task defaults, Assets, cosmos groups, the Airflow Connection lookup),
credentials (``connections``), failure alerts (``alerts``), the run summary (``report``) and the
``postsale`` command (``cli``). Only ``orchestration`` imports Airflow.
"""
