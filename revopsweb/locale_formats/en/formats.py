"""Django's display formats for English, set to the app's one format per kind
(revopsweb/formats.py), so a date or datetime a template prints without a filter
({{ handover.quarter_end }}) reads like the ones printed through ``day`` and
``moment``. Input formats stay Django's."""

DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i T"
SHORT_DATETIME_FORMAT = "Y-m-d H:i T"
YEAR_MONTH_FORMAT = "M Y"
