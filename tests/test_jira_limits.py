"""Jira's limits are stated once (app/domain/jira_limits.py) and every layer that checks them uses the same rule."""

from __future__ import annotations

import pytest

from app.adf import MAX_DESCRIPTION
from app.domain.jira_limits import BULK_CREATE_MAX, DESCRIPTION_MAX, LABEL_MAX, SUMMARY_MAX, label_problem
from app.generation import naming
from app.pipeline import configuration, review
from app.pipeline.export import issues

pytestmark = [pytest.mark.unit, pytest.mark.web]


def test_the_layers_apply_the_one_statement_of_each_limit() -> None:
    assert (review.MAX_TITLE, naming.MAX_TITLE, review.MAX_LABEL) == (SUMMARY_MAX, SUMMARY_MAX, LABEL_MAX)
    assert (MAX_DESCRIPTION, issues.BULK_SIZE) == (DESCRIPTION_MAX, BULK_CREATE_MAX)


@pytest.mark.parametrize("label", ["drupal build", "tab\there", "x" * (LABEL_MAX + 1)])
def test_review_and_the_configure_page_refuse_a_label_with_the_same_words(label: str) -> None:
    problem = label_problem(label)
    assert problem is not None
    with pytest.raises(review.InvalidEditError) as edited:
        review.clean_labels([label])
    with pytest.raises(configuration.SettingsValidationError) as configured:
        configuration._labels([label])
    assert edited.value.message == configured.value.message == problem


def test_a_label_jira_takes_has_no_problem() -> None:
    assert label_problem("x" * LABEL_MAX) is None and review.clean_labels(["sprint-1", "sprint-1"]) == ["sprint-1"]
