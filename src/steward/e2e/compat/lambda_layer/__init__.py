"""Powertools' ``tests.e2e.utils.lambda_layer``: build a layer folder locally."""
