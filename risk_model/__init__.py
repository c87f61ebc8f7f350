"""Fitted renewal risk: an L2 logistic regression on the warehouse's own past renewals.

dbt builds the point-in-time features (``intermediate.int_renewal_features_derived``); this
package fits a model version on the labelled rows and stores it with its training window and
metrics in ``audit`` (``store``); dbt applies the newest version (``int_renewal_risks_scored``).
"""
