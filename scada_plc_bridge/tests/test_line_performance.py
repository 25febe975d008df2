"""OEE where Odoo looks for it (issue 20, item 3): a scripted day of the
line, the time logs the bridge writes on its work centre, and Odoo's own
figures (oee, blocked_time, productive_time, performance) read from them.

The day is yesterday (Odoo's figures cover the last month); the clock is
set where the bridge reads it (the PLC's finish, a cancel, the PLC answering
again), so every duration is known to the minute."""

import datetime
from unittest.mock import patch

from odoo import fields
from odoo.tests import tagged

from .common import ScadaCase

# The minutes of the day, computed by hand.  The ideal cycle is the work
# order's expected duration: 1 000 kg / capacity 1 000 kg = 1 cycle x 20 min.
IDEAL = 20
NORMAL = 18  # 06:00 -> 06:18: faster than ideal, all productive
SLOW = 35  # 07:00 -> 07:35: 20 productive, 15 performance loss
CANCELLED = 12  # 08:00 -> cancelled 08:12: quality loss
FAILURE = 30  # 09:00 -> 09:30: availability loss
OUTAGE = 20  # PLC silent 10:00 -> 10:20 with batches queued: availability loss
PRODUCTIVE = NORMAL + IDEAL  # 38
BLOCKED = (SLOW - IDEAL) + CANCELLED + FAILURE + OUTAGE  # 77


class LineDayCase(ScadaCase):
    """A line mapped to a work centre with the batch as its operation, and
    the scripted day (play_day)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # A line that runs around the clock: Odoo counts availability and
        # quality losses in the work centre's working hours only.
        always = cls.env["resource.calendar"].create(
            {
                "name": "Around the clock",
                "tz": "UTC",
                "attendance_ids": [(5, 0, 0)]
                + [
                    (0, 0, {"name": "Day %d" % day, "dayofweek": str(day), "hour_from": 0, "hour_to": 24})
                    for day in range(7)
                ],
            }
        )
        cls.workcenter = cls.env["mrp.workcenter"].create(
            {
                "name": "Mixer line",
                "scada_plc_id": cls.plc.id,
                "capacity": 1000,
                "time_efficiency": 100,
                "resource_calendar_id": always.id,
            }
        )
        cls.bom.write(
            {
                "operation_ids": [
                    (
                        0,
                        0,
                        {
                            "name": "Batch on the line",
                            "workcenter_id": cls.workcenter.id,
                            "time_mode": "manual",
                            "time_cycle_manual": IDEAL,
                        },
                    )
                ]
            }
        )
        cls.day = fields.Datetime.now().replace(
            hour=0, minute=0, second=0, microsecond=0
        ) - datetime.timedelta(days=1)

    def at(self, hour, minute=0, second=0):
        return self.day + datetime.timedelta(hours=hour, minutes=minute, seconds=second)

    def clock(self, when):
        """The bridge's clock (fields.Datetime.now) at `when`."""
        return patch.object(fields.Datetime, "now", return_value=when)

    def started(self, batch, when):
        """The PLC took the batch at `when` (the timeline's date when it exists)."""
        values = {"date_plc_write": when}
        if "date_plc_taken" in batch._fields:
            values["date_plc_taken"] = when
        batch.sudo().write(values)

    def finish(self, batch, when):
        self.finish_on_plc(batch)
        with self.clock(when):
            self.cycle()
            self.cycle()
        self.assertFalse(batch.exists(), "Task 3 archived the batch")

    def rows(self):
        return self.env["mrp.workcenter.productivity"].search(
            [("workcenter_id", "=", self.workcenter.id)], order="date_start, id"
        )

    def summary(self):
        return [
            (row.loss_id.get_external_id()[row.loss_id.id], row.loss_type, round(row.duration, 1))
            for row in self.rows()
        ]

    def failed(self, start, end=None, equipment=None, info="MOTOR_FAILURE"):
        """The PLC reports a failure of `equipment` (the line's first) at
        `start`, repaired at `end` (None: still open)."""
        equipment = equipment or self.plc.equipment_ids[:1]
        failure = self.env["scada.equipment.failure"].create(
            {
                "plc_id": self.plc.id,
                "equipment_id": equipment.id,
                "equipment_code": equipment.code,
                "info": info,
                "date_plc": start,
                "content_hash": "failure-%s-%s" % (equipment.code, start),
            }
        )
        if end:
            self.env["scada.task.failures"]._resolve(failure, "repaired", when=end)
        return failure

    def play_day(self):
        """The scripted day: a normal, a slow and a cancelled batch, a
        failure and an outage; returns the three MOs and the failure."""
        contact = self.env["scada.plc.contact"]
        performance = self.env["scada.line.performance"]
        normal, slow, cancelled = productions = [self.confirmed_mo(1000) for _i in range(3)]
        self.assertEqual(productions[0].workorder_ids.duration_expected, IDEAL)
        batches = self.queue()
        by_mo = {batch.production_id: batch for batch in batches}
        self.assertEqual(len(by_mo), 3)

        # 10:00-10:20 the PLC does not answer; three batches wait for it.
        self.plc.write({"state": "error", "last_contact": self.at(10), "last_error": "timed out"})
        with self.clock(self.at(10, OUTAGE)):
            contact._record_contact(self.plc)
            contact._record_contact(self.plc)  # answering again is no news
        performance._record_outage(self.plc, self.at(10), self.at(10, OUTAGE))  # recorded once
        self.assertEqual(len(self.rows()), 1)

        self.started(by_mo[normal], self.at(6))
        self.finish(by_mo[normal], self.at(6, NORMAL))
        self.started(by_mo[slow], self.at(7))
        self.finish(by_mo[slow], self.at(7, SLOW))
        self.started(by_mo[cancelled], self.at(8))
        with self.clock(self.at(8, CANCELLED)):
            self.assertTrue(self.env["scada.task.finish"]._carry_out_cancel(by_mo[cancelled].id, "cleared"))
        self.assertEqual(cancelled.state, "cancel")

        # 09:00-09:30 a motor fails, the PLC reports it, then it is repaired.
        failure = self.failed(self.at(9), self.at(9, FAILURE))

        # 11:00-11:10 the PLC is silent again, nothing queued: no loss of the line.
        self.plc.write({"state": "error", "last_contact": self.at(11), "last_error": "timed out"})
        with self.clock(self.at(11, 10)):
            contact._record_contact(self.plc)
        return productions, failure


@tagged("post_install", "-at_install")
class TestLinePerformance(LineDayCase):
    def test_a_scripted_day(self):
        performance = self.env["scada.line.performance"]
        productions, failure = self.play_day()
        normal, slow, cancelled = productions
        self.assertEqual(
            self.summary(),
            [
                ("mrp.block_reason7", "productive", NORMAL),
                ("mrp.block_reason7", "productive", IDEAL),
                ("scada_plc_bridge.loss_slow_batch", "performance", SLOW - IDEAL),
                ("scada_plc_bridge.loss_batch_cancelled", "quality", CANCELLED),
                ("scada_plc_bridge.loss_equipment_failure", "availability", FAILURE),
                ("scada_plc_bridge.loss_plc_silent", "availability", OUTAGE),
            ],
        )
        rows = self.rows()
        self.assertEqual(rows.user_id, self.env.ref("base.user_root"))
        self.assertEqual(rows[2].date_start, self.at(7, IDEAL))
        self.assertIn(slow.name, rows[2].description)
        self.assertEqual(rows[4].scada_failure_id, failure)
        self.assertEqual(rows[:4].scada_history_id.production_id, normal | slow | cancelled)

        # Task 3 and the hooks tried again write nothing twice.
        history = self.env["mo.history"].search([("production_id", "in", [p.id for p in productions])])
        self.assertEqual(len(history), 3)
        self.assertEqual(self.finish_all(), (0, 0))
        performance._record_batch(history)
        self.env["scada.task.failures"]._resolved(failure)
        self.assertEqual(len(self.rows()), 6)

        # Odoo's own figures of the work centre agree with the day by hand.
        self.workcenter.invalidate_cache()
        # (hours, as Odoo's fields keep them: two decimals)
        self.assertAlmostEqual(self.workcenter.productive_time, round(PRODUCTIVE / 60.0, 2))  # 0.63
        self.assertAlmostEqual(self.workcenter.blocked_time, round(BLOCKED / 60.0, 2))  # 1.28
        # Odoo's OEE is productive / (productive + blocked) of those rounded hours:
        # 0.63 / 1.91 = 32.98 % (38 / 115 minutes would be 33.04 %).
        hours = round(PRODUCTIVE / 60.0, 2), round(BLOCKED / 60.0, 2)
        self.assertAlmostEqual(self.workcenter.oee, round(hours[0] * 100.0 / sum(hours), 2))
        self.assertAlmostEqual(self.workcenter.oee, 32.98)
        # performance: the done work orders' expected against actual minutes,
        # 100 x 40 / 53 = 75.47, an Integer field in Odoo: 75.
        self.assertEqual(self.workcenter.performance, int(100.0 * (IDEAL + IDEAL) / (NORMAL + SLOW)))
        self.assertEqual(self.workcenter.performance, 75)
        done = self.workcenter.order_ids.filtered(lambda order: order.state == "done")
        self.assertEqual(sorted(done.mapped("duration")), [NORMAL, SLOW])

    def test_a_batch_the_plc_failed_is_a_quality_loss(self):
        production = self.confirmed_mo(1000)
        batch = self.queue()
        self.started(batch, self.at(6))
        self.report(batch, status_operation=True)
        with self.clock(self.at(6, 9)):
            self.cycle()
        self.assertEqual(production.state, "cancel")
        self.assertEqual(self.summary(), [("scada_plc_bridge.loss_batch_failed", "quality", 9)])

    def test_task3_refused_then_retried_writes_the_rows_once(self):
        self.copra.tracking = "lot"  # Odoo refuses to finish the MO: Task 3 fails
        production = self.confirmed_mo(1000)
        batch = self.queue()
        self.started(batch, self.at(6))
        self.finish_on_plc(batch)
        with self.clock(self.at(6, 25)):
            self.cycle()
            self.cycle()
            self.assertEqual(self.finish_all(), (0, 1))  # the cron tries again, refused again
        self.assertEqual(batch.state, "push_failed")
        self.assertFalse(self.rows())
        self.copra.tracking = "none"
        with self.clock(self.at(6, 30)):
            batch.action_retry_push()
            self.assertEqual(self.finish_all(), (0, 0))
        self.assertEqual(production.state, "done")
        # The run ends at the PLC's finish (06:25), not at the retry (06:30).
        self.assertEqual(self.rows().mapped("date_end"), [self.at(6, IDEAL), self.at(6, 25)])
        self.assertEqual([row[1:] for row in self.summary()], [("productive", IDEAL), ("performance", 5)])

    def test_no_line_no_rows(self):
        """A PLC no work centre maps to writes nothing, and a BoM without an
        operation on the line has no ideal: its whole run is productive."""
        self.bom.operation_ids.unlink()
        production = self.confirmed_mo(1000)
        batch = self.queue()
        self.started(batch, self.at(6))
        self.finish(batch, self.at(6, 45))
        self.assertEqual(self.summary(), [("mrp.block_reason7", "productive", 45)])
        self.assertEqual(production.state, "done")
        self.workcenter.scada_plc_id = False
        history = self.env["mo.history"].search([("production_id", "=", production.id)])
        self.rows().unlink()
        self.env["scada.line.performance"]._record_batch(history)
        self.assertFalse(self.rows())

    def test_the_line_down_is_counted_once(self):
        """Two failures at once, a batch dosing through a failure: the
        availability loss is only the time the line neither ran a batch nor
        had a loss logged already, so Odoo's OEE stays productive / elapsed."""
        scale = self.env["scada.equipment"].create(
            {"plc_id": self.plc.id, "code": "SCALE9", "name": "Scale 9"}
        )
        self.failed(self.at(9), self.at(9, 30))
        self.failed(self.at(9, 10), self.at(9, 40), equipment=scale)  # overlaps 20 min
        self.failed(self.at(9, 15), self.at(9, 20), info="DOOR_OPEN")  # inside the first
        self.assertEqual(
            [(row.date_start, row.date_end) for row in self.rows()],
            [(self.at(9), self.at(9, 30)), (self.at(9, 30), self.at(9, 40))],
        )
        # A batch runs 12:00-12:20. A failure 12:05-12:10, repaired while it
        # doses, and one 12:15-12:30, repaired after it was archived: the
        # line was down 12:20-12:30 only.
        production = self.confirmed_mo(1000)
        batch = self.queue()
        self.started(batch, self.at(12))
        self.failed(self.at(12, 5), self.at(12, 10))
        self.finish(batch, self.at(12, 20))
        self.failed(self.at(12, 15), self.at(12, 30))
        self.assertEqual(production.state, "done")
        self.assertEqual(
            self.summary()[2:],
            [
                ("mrp.block_reason7", "productive", 20),
                ("scada_plc_bridge.loss_equipment_failure", "availability", 10),
            ],
        )
        self.assertAlmostEqual(sum(self.rows().mapped("duration")), 40 + 30, msg="each minute logged once")

    def test_an_open_failure_is_logged_at_the_pollers_heartbeat(self):
        """While a failure is open, the heartbeat of the PLC's poll logs its
        time so far, once, so Odoo's OEE sees the line down before the
        repair; the repair logs the rest."""
        contact = self.env["scada.plc.contact"]
        failure = self.failed(self.at(9))
        self.plc.write({"state": "connected", "last_contact": self.at(8, 59), "last_error": False})
        self.plc.flush()  # before the heartbeat's own UPDATE of last_contact
        with self.clock(self.at(9, 10)):
            contact._record_contact(self.plc)
        with self.clock(self.at(9, 10, 30)):
            contact._record_contact(self.plc)  # within the minute: no heartbeat
        self.assertEqual(self.summary(), [("scada_plc_bridge.loss_equipment_failure", "availability", 10)])
        self.env["scada.task.failures"]._resolve(failure, "repaired", when=self.at(9, 30))
        self.env["scada.task.failures"]._resolved(failure)  # the hook again: nothing twice
        self.assertEqual([row[2] for row in self.summary()], [10, 20])
        self.assertEqual(self.rows().scada_failure_id, failure)
