"""The rules that the SQL reports and the forms both apply, each written once.

A rule is data here; its Python check (forms, computes) and its SQL
expression (the consumption view, searches) are both made from that data in
this module, so the two cannot drift apart.  Nothing here reads a setting:
callers pass the tolerance they got from the SCADA settings reader.

It sits below the models and the reports (it imports const only)."""

import math
from collections import namedtuple
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytz

from .const import KG_DIGITS, SETTING_DEFAULTS


def exact_kg(value):
    """A kg figure exactly as the database keeps it (KG_DIGITS decimals, numeric)."""
    return Decimal("%.*f" % (KG_DIGITS[1], value or 0.0))


class ToleranceRule(namedtuple("ToleranceRule", "setting unit inclusive warning_share")):
    """How far a silo's actual consumption may be from its plan.

    setting: the SCADA setting that holds the limit; unit: "percent" (of the
    planned kg; consumption that was not planned is then always outside) or
    "kg"; inclusive: a deviation exactly at the limit is within;
    warning_share: the share of the limit beyond which a deviation that is
    within is shown as a warning.  Python and SQL compare the same exact
    numbers (no division, kg as stored), so they agree at the limit."""

    __slots__ = ()

    def limit(self, value):
        """The setting's value as an exact number; not a finite number: the default."""
        if isinstance(value, Decimal):
            return value
        value = float(value)
        return Decimal(repr(value if math.isfinite(value) else float(SETTING_DEFAULTS[self.setting])))

    def is_within(self, planned, actual, limit):
        """Python: actual (kg) is within the limit of planned (kg)."""
        planned, actual, limit = exact_kg(planned), exact_kg(actual), self.limit(limit)
        deviation = abs(actual - planned)
        if self.unit == "percent":
            if not planned:
                return not actual
            deviation, limit = deviation * 100, limit * abs(planned)
        return deviation <= limit if self.inclusive else deviation < limit

    def level(self, planned, actual, limit):
        """'within', 'warning' beyond warning_share of the limit, 'outside' beyond the limit."""
        limit = self.limit(limit)
        if not self.is_within(planned, actual, limit):
            return "outside"
        if not self.is_within(planned, actual, limit * Decimal(repr(self.warning_share))):
            return "warning"
        return "within"

    def sql_is_within(self, planned, actual, limit):
        """SQL: the same test on the SQL expressions planned and actual (kg,
        numeric) and limit (used once: it may be a %s placeholder for
        self.limit(value))."""
        values = {
            "planned": planned,
            "actual": actual,
            "limit": limit,
            "op": "<=" if self.inclusive else "<",
            "deviation": "abs((%s) - (%s))" % (actual, planned),
        }
        if self.unit == "percent":
            return (
                "CASE WHEN (%(planned)s) <> 0 THEN %(deviation)s * 100 %(op)s (%(limit)s) * abs(%(planned)s)"
                " ELSE (%(actual)s) = 0 END" % values
            )
        return "%(deviation)s %(op)s (%(limit)s)" % values


# Within up to the tolerance of the settings, inclusive; a warning beyond half of it.
TOLERANCE = ToleranceRule(
    setting="health_tolerance_percent", unit="percent", inclusive=True, warning_share=0.5
)


class GradeRule(namedtuple("GradeRule", "warning critical")):
    """A batch's material accuracy: a deviation from plan graded "normal" up
    to the warning limit (% of the planned kg, inclusive), "warning" up to
    the critical limit (inclusive), "critical" beyond it; consumption that
    was not planned is always critical.  warning and critical are
    ToleranceRules (the same exact comparison, Python and SQL)."""

    __slots__ = ()

    grades = ("normal", "warning", "critical")

    def grade(self, planned, actual, warning_limit, critical_limit):
        """Python: the grade of actual (kg) against planned (kg)."""
        if self.warning.is_within(planned, actual, warning_limit):
            return "normal"
        if self.critical.is_within(planned, actual, critical_limit):
            return "warning"
        return "critical"

    def worst(self, grades):
        """The worst of these grades ("normal" when there is none)."""
        return max(grades, key=self.grades.index, default="normal")

    def sql_grade(self, planned, actual, warning_limit, critical_limit):
        """SQL: the same grade of the SQL expressions (kg, numeric; each limit
        used once, so it may be a %s placeholder for the rule's limit())."""
        return "CASE WHEN %s THEN 'normal' WHEN %s THEN 'warning' ELSE 'critical' END" % (
            self.warning.sql_is_within(planned, actual, warning_limit),
            self.critical.sql_is_within(planned, actual, critical_limit),
        )


# Normal up to 2 %, warning up to 5 %, critical beyond (settings; a silo's own limits override them).
GRADE = GradeRule(
    warning=ToleranceRule(
        setting="accuracy_warning_percent", unit="percent", inclusive=True, warning_share=1.0
    ),
    critical=ToleranceRule(
        setting="accuracy_critical_percent", unit="percent", inclusive=True, warning_share=1.0
    ),
)


def yield_percent(finished, consumed):
    """Finished kg against consumed kg, in % (0 when nothing was consumed)."""
    return finished * 100.0 / consumed if consumed else 0.0


# -- the plant's time zone and its days ---------------------------------------
# Which time zone: the company's, else the administrator's, else this one.
PLANT_TZ_FALLBACK = "UTC"
# How a day is cut: a plant's day starts at this local time (midnight) and
# ends where the next one starts.
DAY_START = timedelta(0)


def sql_plant_tz(company_id):
    """SQL: the plant's time zone of the company whose id is the SQL
    expression company_id.  The one spelling of that rule: the consumption
    view uses it per row, the models run it for a company.  Its own aliases
    are tz_*, so company_id may name a column of any outer alias."""
    return (
        "COALESCE("
        "(SELECT NULLIF(tz_partner.tz, '') FROM res_company tz_company"
        " JOIN res_partner tz_partner ON tz_partner.id = tz_company.partner_id"
        " WHERE tz_company.id = %(company)s), "
        "(SELECT NULLIF(tz_partner.tz, '') FROM ir_model_data tz_data"
        " JOIN res_users tz_user ON tz_user.id = tz_data.res_id"
        " JOIN res_partner tz_partner ON tz_partner.id = tz_user.partner_id"
        " WHERE tz_data.module = 'base' AND tz_data.name = 'user_admin' AND tz_data.model = 'res.users'), "
        "'%(fallback)s')" % {"company": company_id, "fallback": PLANT_TZ_FALLBACK}
    )


def sql_plant_day(utc_timestamp, tz):
    """SQL: the plant's day (a date) of the naive UTC timestamp expression, in the time zone expression tz."""
    return "(((%s) AT TIME ZONE 'UTC' AT TIME ZONE (%s)) - interval '%d seconds')::date" % (
        utc_timestamp,
        tz,
        DAY_START.total_seconds(),
    )


def plant_day(utc_value, tz_name):
    """Python: the plant's day of a naive UTC datetime, in the time zone tz_name."""
    local = pytz.utc.localize(utc_value).astimezone(pytz.timezone(tz_name)).replace(tzinfo=None)
    return (local - DAY_START).date()


def plant_day_start(day, tz_name):
    """The first naive UTC instant whose plant_day is day (where a local
    time is missing or twice there at a clock change, the first that is)."""
    tz = pytz.timezone(tz_name)
    local = datetime.combine(day, time.min) + DAY_START
    starts = sorted(
        tz.localize(local, is_dst=dst).astimezone(pytz.utc).replace(tzinfo=None) for dst in (True, False)
    )
    return next((start for start in starts if plant_day(start, tz_name) == day), starts[-1])


def plant_day_bounds(first, last, tz_name):
    """The plant's days first..last as naive UTC datetimes [start, end)."""
    return plant_day_start(first, tz_name), plant_day_start(last + timedelta(days=1), tz_name)


# -- the plant's shifts ----------------------------------------------------------
# A shift runs from its start (local time, a setting) to the next shift's
# start, and belongs to the plant's day it starts on; the last shift of a
# day may run past midnight into the next.


def shift_starts(text):
    """The shifts' local start times of the setting ("06:00,14:00,22:00"),
    sorted, as timedeltas after midnight; ValueError says what is wrong."""
    starts = set()
    for item in (text or "").split(","):
        item = item.strip()
        hours, _sep, minutes = item.partition(":")
        if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
            raise ValueError("%r is not a time of day written HH:MM" % item)
        if int(hours) > 23 or int(minutes) > 59:
            raise ValueError("%r is not a time of day (00:00 to 23:59)" % item)
        starts.add(timedelta(hours=int(hours), minutes=int(minutes)))
    return sorted(starts)


def _local_to_utc(local, tz_name):
    """A naive local time of tz_name as naive UTC (at a clock change, the earlier instant)."""
    tz = pytz.timezone(tz_name)
    return min(
        tz.localize(local, is_dst=dst).astimezone(pytz.utc).replace(tzinfo=None) for dst in (True, False)
    )


def shift_bounds(day, index, tz_name, starts):
    """Shift number index (0-based) of the plant's day as naive UTC datetimes [start, end)."""
    midnight = datetime.combine(day, time.min)
    following = starts[index + 1] if index + 1 < len(starts) else starts[0] + timedelta(days=1)
    return _local_to_utc(midnight + starts[index], tz_name), _local_to_utc(midnight + following, tz_name)


def plant_shift(utc_value, tz_name, starts):
    """(day, index) of the shift that a naive UTC datetime falls in."""
    local = pytz.utc.localize(utc_value).astimezone(pytz.timezone(tz_name)).replace(tzinfo=None)
    since_midnight = local - datetime.combine(local.date(), time.min)
    started = [index for index, start in enumerate(starts) if start <= since_midnight]
    if started:
        return local.date(), started[-1]
    return local.date() - timedelta(days=1), len(starts) - 1  # before the day's first shift


# -- time on a line -----------------------------------------------------------
# Odoo never logs a work centre blocked and working at once (blocking it ends
# its running work orders, mrp.workorder.end_all): the bridge's time logs keep
# that, so two failures at once, or a batch dosing through a failure, count
# the line's time once.
def merged_intervals(intervals):
    """(start, end) pairs as the sorted, disjoint time they cover together."""
    merged = []
    for start, end in sorted(interval for interval in intervals if interval[0] < interval[1]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def uncovered_intervals(start, end, covered):
    """The parts of [start, end) that none of the `covered` intervals holds."""
    free = []
    for covered_start, covered_end in merged_intervals(covered):
        if covered_end <= start or covered_start >= end:
            continue
        if covered_start > start:
            free.append((start, covered_start))
        start = max(start, covered_end)
    if start < end:
        free.append((start, end))
    return free
