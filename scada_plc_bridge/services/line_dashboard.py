"""The supervisor's dashboard: a line's figures over a window of time (the
plant's day, a shift), and the records behind each figure.

Everything is read from what the bridge stores already: the history
(counts, kg, cycle time, yield and grades, figured at archive time), the
queue (batches running, queued, held now), the equipment failures (downtime,
an open failure counted until now, two of one equipment at once counted once)
and the time logs the bridge writes on the line's work centre
(scada.line.performance).  OEE is Odoo's own:

- availability = run time / (run time + availability losses)
- performance  = productive time / (productive + performance losses)
- quality      = good run time / run time, the run being productive
  + performance + quality losses (the cancelled and failed batches)
- OEE = availability x performance x quality = productive / all logged
  time, which is Odoo's work-centre OEE over the same rows (time logs are
  counted by their start, as Odoo counts them).

The window's figures are a handful of indexed queries, whatever the size of
the history (benchmarks/bench_reports.py)."""

import datetime

from odoo import _, api, fields, models
from odoo.tools.misc import format_datetime, formatLang

from ..const import KG_DIGITS
from ..rules import merged_intervals, plant_day, plant_day_bounds, plant_shift, shift_bounds

# Batches in the queue now, as the dashboard counts them.
QUEUE_FIGURES = {
    "queued": ("queued", "sent"),
    "running": ("running", "finished"),
    "held": ("needs_review", "push_failed", "plc_failure"),
}
# Odoo's loss types (mrp.workcenter.productivity.loss.loss_type).
LOSS_TYPES = ("productive", "performance", "quality", "availability")
# Equipment listed on a card by downtime; the rest are one click away.
TOP_EQUIPMENT = 3


def minutes_of(interval):
    """The minutes of a (start, end) pair of datetimes."""
    start, end = interval
    return max(0.0, (end - start).total_seconds() / 60.0)


def share(part, whole):
    """part / whole in %, None when there is no whole (shown as "-")."""
    return part * 100.0 / whole if whole else None


class ScadaLineDashboard(models.AbstractModel):
    _name = "scada.line.dashboard"
    _description = "SCADA line dashboard: a line's figures per day and shift"

    # -- windows ------------------------------------------------------------
    @api.model
    def _windows(self, plc, now=None):
        """{"today": ..., "shift": ...}: (label, start, end) in naive UTC, the
        plant's day and the shift running now."""
        now = now or fields.Datetime.now()
        tz = self.env["scada.batch.data"]._plant_tz(plc.company_id)
        starts = self.env["scada.settings"]._shift_starts()
        day = plant_day(now, tz)
        shift_day, index = plant_shift(now, tz, starts)
        return {
            "today": (_("Today"),) + plant_day_bounds(day, day, tz),
            "shift": (self._shift_label(index, starts),) + shift_bounds(shift_day, index, tz, starts),
        }

    @api.model
    def _shift_label(self, index, starts):
        following = starts[(index + 1) % len(starts)]

        def clock(delta):
            minutes = int(delta.total_seconds() // 60)
            return "%02d:%02d" % (minutes // 60, minutes % 60)

        return _("Shift %(number)d (%(start)s-%(end)s)") % {
            "number": index + 1,
            "start": clock(starts[index]),
            "end": clock(following),
        }

    @api.model
    def _shifts(self, plc, first, last):
        """The shifts of the plant's days first..last: [(day, label, start, end)]."""
        tz = self.env["scada.batch.data"]._plant_tz(plc.company_id)
        starts = self.env["scada.settings"]._shift_starts()
        shifts, day = [], first
        while day <= last:
            shifts.extend(
                (day, self._shift_label(index, starts)) + shift_bounds(day, index, tz, starts)
                for index in range(len(starts))
            )
            day += datetime.timedelta(days=1)
        return shifts

    # -- figures ------------------------------------------------------------
    @api.model
    def _history_domain(self, plc, start, end):
        return [("plc_id", "=", plc.id), ("date_archived", ">=", start), ("date_archived", "<", end)]

    @api.model
    def _failure_domain(self, plc, start, end):
        """Failures of the line that were open at some time of the window."""
        return [
            ("plc_id", "=", plc.id),
            ("date_start", "<", end),
            "|",
            ("state", "=", "open"),
            ("date_resolved", ">", start),
        ]

    @api.model
    def _productivity_domain(self, workcenter, start, end):
        return [
            ("workcenter_id", "=", workcenter.id),
            ("date_start", ">=", start),
            ("date_start", "<", end),
            ("date_end", "!=", False),
        ]

    @api.model
    def _batch_figures(self, plc, start, end):
        cr = self.env.cr
        self.env["mo.history"].flush()
        cr.execute(
            """
            SELECT status,
                   count(*),
                   COALESCE(sum(actual_weight_quantity_finished_goods), 0),
                   COALESCE(sum(planned_quantity), 0),
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY cycle_minutes)
                       FILTER (WHERE cycle_minutes > 0),
                   avg(yield_percent) FILTER (WHERE yield_percent > 0),
                   avg(deviation_percent),
                   count(*) FILTER (WHERE accuracy_grade = 'normal'),
                   count(*) FILTER (WHERE accuracy_grade = 'warning'),
                   count(*) FILTER (WHERE accuracy_grade = 'critical')
              FROM mo_history
             WHERE plc_id = %s AND date_archived >= %s AND date_archived < %s
             GROUP BY status
            """,
            [plc.id, start, end],
        )
        figures = dict.fromkeys(("done", "cancelled", "normal", "warning", "critical"), 0)
        figures.update(kg_produced=0.0, kg_planned=0.0, cycle_median=None, yield_avg=None, deviation_avg=None)
        for status, count, produced, planned, median, yield_avg, deviation, *grades in cr.fetchall():
            if status != "completed":
                figures["cancelled"] += count
                continue
            figures.update(
                done=count,
                kg_produced=produced,
                kg_planned=planned,
                cycle_median=median,
                yield_avg=yield_avg,
                deviation_avg=deviation,
                **dict(zip(("normal", "warning", "critical"), grades)),
            )
        return figures

    @api.model
    def _queue_figures(self, plc):
        groups = self.env["mo.batch"].read_group([("plc_id", "=", plc.id)], ["state"], ["state"])
        counts = {group["state"]: group["state_count"] for group in groups}
        return {
            figure: sum(counts.get(state, 0) for state in states) for figure, states in QUEUE_FIGURES.items()
        }

    @api.model
    def _failure_spans(self, failures, start, end, now):
        """The failures' time within [start, end), an open one until now."""
        return [
            (
                max(failure.date_start, start),
                min(failure.date_resolved if failure.state == "resolved" else now, end),
            )
            for failure in failures
        ]

    @api.model
    def _downtime(self, plc, start, end, now):
        """[(equipment record, name, minutes down within the window)], longest
        first; two failures of one equipment at once count their time once."""
        by_equipment = {}
        for failure in self.env["scada.equipment.failure"].search(self._failure_domain(plc, start, end)):
            key = failure.equipment_id.id or failure.equipment_code or ""
            by_equipment.setdefault(key, []).append(failure)
        down = []
        for failures in by_equipment.values():
            first = failures[0]
            name = first.equipment_id.display_name or first.equipment_code or _("unknown equipment")
            spans = merged_intervals(self._failure_spans(failures, start, end, now))
            down.append((first.equipment_id, name, sum(map(minutes_of, spans))))
        return sorted(down, key=lambda item: -item[2])

    @api.model
    def _time_figures(self, plc, start, end):
        """Minutes per loss type of the line's work centre (an open failure's
        logged as far as the poller's last heartbeat) and OEE with its three
        factors: the rows Odoo's own OEE of the work centre reads."""
        minutes = dict.fromkeys(LOSS_TYPES, 0.0)
        workcenter = self.env["scada.line.performance"]._workcenter(plc)
        if workcenter:
            groups = (
                self.env["mrp.workcenter.productivity"]
                .sudo()
                .read_group(self._productivity_domain(workcenter, start, end), ["duration"], ["loss_type"])
            )
            for group in groups:
                minutes[group["loss_type"]] = group["duration"] or 0.0
        good = minutes["productive"] + minutes["performance"]
        run = good + minutes["quality"]
        return {
            "workcenter": workcenter,
            "minutes": minutes,
            "availability": share(run, run + minutes["availability"]),
            "performance": share(minutes["productive"], good),
            "quality": share(good, run),
            "oee": share(minutes["productive"], run + minutes["availability"]),
        }

    @api.model
    def _figures(self, plc, start, end, now=None):
        """The line's figures over [start, end) (naive UTC): the numbers, for
        the day report and the tests; _card formats them for the dashboard."""
        now = now or fields.Datetime.now()
        figures = self._batch_figures(plc, start, end)
        figures.update(self._queue_figures(plc))
        figures["downtime"] = self._downtime(plc, start, end, now)
        figures.update(self._time_figures(plc, start, end))
        return figures

    # -- the dashboard's card -------------------------------------------------
    @api.model
    def _card(self, plc, now=None):
        """What a line's dashboard card shows (a JSON-ready dict of text), per window."""
        windows = self._windows(plc, now)
        card = {"periods": []}
        for key in ("today", "shift"):
            label, start, end = windows[key]
            figures = self._figures(plc, start, end, now)
            card["periods"].append(
                dict(
                    self._formatted(figures),
                    key=key,
                    label=label,
                    since=format_datetime(self.env, start, dt_format="short"),
                )
            )
        return card

    @api.model
    def _formatted(self, figures):
        def number(value, digits=0):
            return "-" if value is None else formatLang(self.env, value, digits=digits)

        def percent(value):
            return "-" if value is None else formatLang(self.env, value, digits=1) + " %"

        graded = figures["normal"] + figures["warning"] + figures["critical"]
        return {
            "counts": {name: figures[name] for name in ("done", "running", "queued", "cancelled", "held")},
            "kg_produced": number(figures["kg_produced"], KG_DIGITS[1]),
            "kg_planned": number(figures["kg_planned"], KG_DIGITS[1]),
            "kg_percent": percent(share(figures["kg_produced"], figures["kg_planned"])),
            "cycle_median": number(figures["cycle_median"], 1),
            "yield_avg": percent(figures["yield_avg"]),
            "deviation_avg": percent(figures["deviation_avg"]),
            # The deviation chart: shares of the day's batches per accuracy grade.
            "grades": [
                {
                    "grade": grade,
                    "count": figures[grade],
                    "width": round(share(figures[grade], graded) or 0.0, 1),
                }
                for grade in ("normal", "warning", "critical")
            ],
            "downtime": [
                {"equipment_id": equipment.id, "name": name, "minutes": number(minutes, 0)}
                for equipment, name, minutes in figures["downtime"][:TOP_EQUIPMENT]
            ],
            "downtime_minutes": number(sum(item[2] for item in figures["downtime"]), 0),
            "has_workcenter": bool(figures["workcenter"]),
            "availability": percent(figures["availability"]),
            "performance": percent(figures["performance"]),
            "quality": percent(figures["quality"]),
            "oee": percent(figures["oee"]),
        }

    # -- the records behind a figure -------------------------------------------
    @api.model
    def _open(self, plc, figure, period, equipment_id=None, now=None):
        """The window action that lists the records behind a figure of a card."""
        label, start, end = self._windows(plc, now)[period]
        title = "%s - %s - %s" % (plc.display_name, label, self._figure_titles().get(figure, figure))
        history = self._history_domain(plc, start, end)
        if figure in QUEUE_FIGURES:
            action = self._action(
                "scada_plc_bridge.mo_batch_action",
                [("plc_id", "=", plc.id), ("state", "in", QUEUE_FIGURES[figure])],
            )
        elif figure == "cancelled":
            action = self._action(
                "scada_plc_bridge.mo_history_action", history + [("status", "=", "cancelled")]
            )
        elif figure == "deviation":
            action = self._action(
                "scada_plc_bridge.scada_consumption_report_action",
                history + [("status", "=", "completed")],
                view_mode="graph,pivot,tree",
                context={"graph_measure": "deviation_kg", "graph_groupbys": ["material_id"]},
            )
        elif figure == "downtime":
            domain = self._failure_domain(plc, start, end)
            if equipment_id:
                domain = domain + [("equipment_id", "=", int(equipment_id))]
            action = self._action(
                "scada_plc_bridge.scada_equipment_failure_action",
                domain,
                context={"search_default_group_equipment": 1},
            )
        elif figure in ("oee", "availability", "performance", "quality"):
            workcenter = self.env["scada.line.performance"]._workcenter(plc)
            action = self._action(
                "mrp.mrp_workcenter_productivity_report",
                self._productivity_domain(workcenter, start, end),
                view_mode="graph,pivot,tree",
                context={
                    "pivot_row_groupby": ["loss_type"],
                    "graph_groupbys": ["loss_type"],
                    "create": False,
                },
            )
        else:  # done, kg, cycle time, yield: the batches completed in the window
            action = self._action(
                "scada_plc_bridge.mo_history_action",
                history + [("status", "=", "completed")],
                view_mode="tree,pivot,graph,form",
            )
        action["name"] = action["display_name"] = title  # the breadcrumb shows display_name
        return action

    @api.model
    def _action(self, xmlid, domain, view_mode=None, context=None):
        action = self.env["ir.actions.actions"]._for_xml_id(xmlid)
        action.update(domain=domain, context=context or {}, target="current")
        if view_mode:
            action.update(view_mode=view_mode, views=[(False, mode) for mode in view_mode.split(",")])
            action.pop("view_id", None)
        return action

    @api.model
    def _figure_titles(self):
        return {
            "done": _("Batches done"),
            "running": _("Batches running"),
            "queued": _("Batches queued"),
            "cancelled": _("Batches cancelled"),
            "held": _("Batches held"),
            "kg": _("Produced"),
            "cycle": _("Cycle time"),
            "yield": _("Yield"),
            "deviation": _("Deviation"),
            "downtime": _("Downtime"),
            "oee": _("OEE"),
            "availability": _("Availability"),
            "performance": _("Performance"),
            "quality": _("Quality"),
        }
