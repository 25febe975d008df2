"""The supervisor's dashboard (issue 20, item 4) on the scripted day of the
line (test_line_performance): its figures per day and per shift, Odoo's OEE
read from the same time logs, the records each figure opens, the day report's
figures and shifts, and the batch ticket."""

import json

from odoo.tests import tagged

from ..rules import plant_shift, shift_bounds, shift_starts
from .test_line_performance import CANCELLED, FAILURE, IDEAL, NORMAL, OUTAGE, SLOW, LineDayCase

PRODUCTIVE = NORMAL + IDEAL  # 38 min
PERFORMANCE = SLOW - IDEAL  # 15
AVAILABILITY = FAILURE + OUTAGE  # 50
RUN = PRODUCTIVE + PERFORMANCE + CANCELLED  # 65


@tagged("post_install", "-at_install")
class TestLineDashboard(LineDayCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.company.partner_id.tz = "UTC"  # the plant's day is the scripted day
        cls.dashboard = cls.env["scada.line.dashboard"]

    def setUp(self):
        super().setUp()
        self.productions, self.failure = self.play_day()
        self.histories = self.env["mo.history"].search(
            [("production_id", "in", [production.id for production in self.productions])]
        )

    def day_figures(self):
        return self.dashboard._figures(self.plc, self.day, self.at(24), now=self.at(23))

    def test_the_days_figures(self):
        figures = self.day_figures()
        completed = self.histories.filtered(lambda history: history.status == "completed")
        self.assertEqual((figures["done"], figures["cancelled"]), (2, 1))
        self.assertAlmostEqual(
            figures["kg_produced"], sum(completed.mapped("actual_weight_quantity_finished_goods"))
        )
        self.assertAlmostEqual(figures["kg_planned"], 2000)
        self.assertAlmostEqual(figures["cycle_median"], (NORMAL + SLOW) / 2.0)  # 26.5 min
        self.assertAlmostEqual(figures["yield_avg"], sum(completed.mapped("yield_percent")) / 2)
        equipment, _name, minutes = figures["downtime"][0]
        self.assertEqual(equipment, self.failure.equipment_id)
        self.assertAlmostEqual(minutes, FAILURE)
        self.assertEqual(
            figures["minutes"],
            {
                "productive": PRODUCTIVE,
                "performance": PERFORMANCE,
                "quality": CANCELLED,
                "availability": AVAILABILITY,
            },
        )
        self.assertAlmostEqual(figures["availability"], 100.0 * RUN / (RUN + AVAILABILITY))  # 56.52
        self.assertAlmostEqual(
            figures["performance"], 100.0 * PRODUCTIVE / (PRODUCTIVE + PERFORMANCE)
        )  # 71.70
        self.assertAlmostEqual(figures["quality"], 100.0 * (PRODUCTIVE + PERFORMANCE) / RUN)  # 81.54
        self.assertAlmostEqual(
            figures["oee"], figures["availability"] * figures["performance"] * figures["quality"] / 10000
        )
        # Odoo's own OEE of the work centre: productive / (productive + blocked), from the same rows.
        self.assertAlmostEqual(figures["oee"], 100.0 * PRODUCTIVE / (RUN + AVAILABILITY))  # 33.04
        self.assertAlmostEqual(round(figures["oee"], 0), round(self.workcenter.oee, 0))

    def test_an_open_failure_counts_until_now(self):
        equipment = self.plc.equipment_ids[1:2]
        failure = self.failed(self.at(12), equipment=equipment, info="SENSOR_ERROR")
        figures = self.dashboard._figures(self.plc, self.day, self.at(24), now=self.at(13))
        self.assertEqual(
            [(item[0], item[2]) for item in figures["downtime"]],
            [(equipment, 60), (self.failure.equipment_id, FAILURE)],
        )
        # Its time log: as far as the poller's last heartbeat, which Odoo's OEE reads too.
        self.assertEqual(figures["minutes"]["availability"], AVAILABILITY)
        self.env["scada.line.performance"]._record_open_failures(self.plc, self.at(12, 40))
        figures = self.dashboard._figures(self.plc, self.day, self.at(24), now=self.at(13))
        self.assertEqual(figures["minutes"]["availability"], AVAILABILITY + 40)
        self.assertEqual(
            self.rows().filtered(lambda row: row.scada_failure_id == failure).mapped("duration"), [40]
        )

    def test_shifts(self):
        starts = shift_starts("06:00,14:00,22:00")
        self.assertEqual(plant_shift(self.at(5, 59), "UTC", starts), (self.at(-24).date(), 2), "last night's")
        self.assertEqual(plant_shift(self.at(6), "UTC", starts), (self.day.date(), 0))
        self.assertEqual(shift_bounds(self.day.date(), 2, "UTC", starts), (self.at(22), self.at(30)))
        # Jakarta (UTC+7): the morning shift starts at 23:00 UTC the day before.
        self.assertEqual(shift_bounds(self.day.date(), 0, "Asia/Jakarta", starts), (self.at(-1), self.at(7)))
        for wrong in ("6:00,14:00x", "25:00", "06:60", ""):
            with self.assertRaises(ValueError):
                shift_starts(wrong)
        shifts = self.dashboard._shifts(self.plc, self.day.date(), self.day.date())
        self.assertEqual(
            [shift[1] for shift in shifts],
            ["Shift 1 (06:00-14:00)", "Shift 2 (14:00-22:00)", "Shift 3 (22:00-06:00)"],
        )
        morning = self.dashboard._figures(self.plc, shifts[0][2], shifts[0][3], now=self.at(23))
        late = self.dashboard._figures(self.plc, shifts[1][2], shifts[1][3], now=self.at(23))
        self.assertEqual(
            (morning["done"], morning["cancelled"]), (2, 1), "the whole day ran in the morning shift"
        )
        self.assertEqual((late["done"], late["oee"], late["cycle_median"]), (0, None, None))

    def test_the_card_and_the_records_behind_each_figure(self):
        card = json.loads(self.plc.dashboard_json)  # now: today and the shift running
        self.assertEqual([period["key"] for period in card["periods"]], ["today", "shift"])
        card = self.dashboard._card(self.plc, now=self.at(12))
        today, shift = card["periods"]
        self.assertEqual((today["label"], shift["label"]), ("Today", "Shift 1 (06:00-14:00)"))
        self.assertEqual(today["counts"]["done"], 2)
        self.assertEqual(today["oee"], "33.0 %")
        self.assertEqual(today["cycle_median"], "26.5")
        self.assertEqual([grade["grade"] for grade in today["grades"]], ["normal", "warning", "critical"])
        self.assertEqual(sum(grade["count"] for grade in today["grades"]), 2)

        def records(figure, **extra):
            action = self.dashboard._open(self.plc, figure, "today", now=self.at(12), **extra)
            # The breadcrumb says which figure of which line and period the list is.
            self.assertIn(self.plc.display_name, action["display_name"])
            return self.env[action["res_model"]].search(action["domain"])

        completed = self.histories.filtered(lambda history: history.status == "completed")
        for figure in ("done", "kg", "cycle", "yield"):
            self.assertEqual(records(figure), completed, figure)
        self.assertEqual(records("cancelled"), self.histories - completed)
        self.assertEqual(records("downtime"), self.failure)
        self.assertEqual(records("downtime", equipment_id=self.failure.equipment_id.id), self.failure)
        self.assertEqual(
            sorted(records("oee").mapped("loss_type")),
            ["availability", "availability", "performance", "productive", "productive", "quality"],
        )
        self.assertEqual(records("deviation").history_id, completed)
        self.assertFalse(records("queued"), "the day's batches are all archived")

    def test_the_day_report_has_the_figures_per_shift(self):
        report = self.env["report.scada_plc_bridge.report_scada_day_sheet"]
        day = str(self.day.date())
        sheet = report._get_report_values(
            self.plc.ids, {"date_from": day, "date_to": day, "per_shift": True}
        )["sheets"][0]
        self.assertEqual(sheet["figures"]["oee"], "33.0 %")
        self.assertEqual([row["label"][:7] for row in sheet["shifts"]], ["Shift 1", "Shift 2", "Shift 3"])
        self.assertEqual([row["counts"]["done"] for row in sheet["shifts"]], [2, 0, 0])
        html = (
            self.env.ref("scada_plc_bridge.action_report_scada_day_sheet")
            ._render_qweb_html(self.plc.ids, {"date_from": day, "date_to": day, "per_shift": True})[0]
            .decode()
        )
        self.assertIn("Per shift", html)
        self.assertIn("33.0 %", html)
        plain = report._get_report_values(self.plc.ids, {"date_from": day, "date_to": day})["sheets"][0]
        self.assertEqual(plain["shifts"], [], "the per-shift table is the variant's")

    def test_the_batch_ticket(self):
        history = self.histories.filtered(lambda h: h.production_id == self.productions[1])  # the slow one
        ticket = self.env["report.scada_plc_bridge.report_history_ticket"]._get_report_values(history.ids)[
            "tickets"
        ][0]
        self.assertEqual(ticket["status"], "Completed")
        self.assertEqual(ticket["yield"], "%.1f %%" % history.yield_percent)
        self.assertEqual(ticket["cycle"], "35.0")
        self.assertTrue(ticket["lines"], "the recipe's silos")
        self.assertTrue(all(line["grade"] in ("Normal", "Warning", "Critical") for line in ticket["lines"]))
        self.assertIn(("Taken by PLC", ticket["timeline"][2][1]), ticket["timeline"])
        self.assertTrue(ticket["timeline"][2][1], "the times are printed")
        self.assertEqual(ticket["log"][0][1], history.archived_by_id.name)
        html = (
            self.env.ref("scada_plc_bridge.action_report_history_ticket")
            ._render_qweb_html(history.ids)[0]
            .decode()
        )
        self.assertIn(history.mo_reference, html)
        self.assertIn("Who did what", html)

    def test_failures_at_once_and_a_batch_dosing_through_one_count_the_time_once(self):
        self.confirmed_mo(1000)
        self.started(self.queue(), self.at(14))  # dosing from 14:00, still at 15:00
        self.failed(self.at(13))  # still open at 15:00
        self.failed(self.at(13, 30), info="DOOR_OPEN")  # the same motor, also open
        self.env["scada.line.performance"]._record_open_failures(self.plc, self.at(15))  # a heartbeat
        figures = self.dashboard._figures(self.plc, self.day, self.at(24), now=self.at(15))
        equipment, _name, minutes = figures["downtime"][0]
        self.assertEqual(equipment, self.failure.equipment_id)
        self.assertAlmostEqual(minutes, FAILURE + 120, msg="the morning's 30 min and 13:00-15:00 once")
        # The line down so far: 13:00-14:00; from 14:00 it doses a batch.
        self.assertAlmostEqual(figures["minutes"]["availability"], AVAILABILITY + 60)
        # Odoo's own OEE of the work centre counts the same rows.
        self.workcenter.invalidate_cache()
        self.assertAlmostEqual(round(figures["oee"], 0), round(self.workcenter.oee, 0))
