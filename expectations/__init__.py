"""postsale data validation: Great Expectations suites as code, run in-database, per layer."""
