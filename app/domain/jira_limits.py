"""What Jira Cloud accepts, in one place: the app checks these before it calls Jira, so Jira never refuses a ticket.

In app/domain, not app/jira, because the pure libraries (app/generation, app/adf) apply them too and may import
nothing of the adapters.
@see https://support.atlassian.com/jira-cloud-administration/docs/jira-cloud-application-limits/
"""

from __future__ import annotations

# A summary (the ticket's title) and a label: at most 255 characters.
SUMMARY_MAX = 255
LABEL_MAX = 255
# A description, counted on its serialised ADF (app/adf/size.py says how).
DESCRIPTION_MAX = 32_767
# Issues in one bulk create (POST /rest/api/3/issue/bulk).
BULK_CREATE_MAX = 50
# An issue type's name: "The maximum length is 60 characters" (POST /rest/api/3/issuetype).
# @see https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-types/#api-rest-api-3-issuetype-post
ISSUE_TYPE_NAME_MAX = 60
# A value for a short text field (the export settings' field defaults): at most 255 characters.
# @see https://support.atlassian.com/jira-cloud-administration/docs/custom-fields-types-in-company-managed-projects/
SHORT_TEXT_MAX = 255


def label_problem(label: str) -> str | None:
    """Why Jira would refuse `label` (already trimmed), or None when it takes it: no spaces, at most 255 characters."""
    if any(char.isspace() for char in label):
        suggestion = "-".join(label.split())
        return f"Jira labels cannot contain spaces: '{label}' (try '{suggestion}')."
    if len(label) > LABEL_MAX:
        return f"The label '{label[:40]}…' is longer than Jira's {LABEL_MAX} characters."
    return None
