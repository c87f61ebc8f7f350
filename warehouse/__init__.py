"""The bottom layer every other package stands on: where the warehouse is and how to reach it.

``paths`` (the repository, the dbt project, local state), ``postgres`` (the URL rule, database
creation, session options), ``embedded`` (the PostgreSQL server started under ``.local/pg``
when no ``WAREHOUSE_URL`` is given) and ``dbt`` (dbt run in-process against the warehouse).
Nothing here imports another postsale package, Airflow or the simulator.
"""
