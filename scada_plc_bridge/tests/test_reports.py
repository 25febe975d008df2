"""What a supervisor reads: the consumption report (SQL view), the batch and
history forms' silo table coloured by the tolerance, the day report, and
figures and addresses as the reader expects them."""

from datetime import date, datetime, timedelta

from lxml import etree
from odoo import fields
from odoo.tests import tagged

from ..const import ARCHIVE_CONTEXT_KEY
from ..report.scada_consumption_report import archived_bounds, archived_range
from ..rules import TOLERANCE, ToleranceRule, exact_kg, plant_day, plant_day_start, sql_plant_day
from .common import ScadaCase

TOLERANCE_PARAM = "scada_plc_bridge.health_tolerance_percent"


def expression_holds(day, domain):
    """Python: does the plant's day satisfy the conjunction of date leaves?"""
    tests = {
        "=": lambda a, b: a == b,
        ">=": lambda a, b: a >= b,
        ">": lambda a, b: a > b,
        "<=": lambda a, b: a <= b,
        "<": lambda a, b: a < b,
    }
    return all(tests[leaf[1]](day, date.fromisoformat(leaf[2])) for leaf in domain if leaf != "&")


class ReportCase(ScadaCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("id_ID")
        # The plant is in Java: UTC+7.
        cls.env.company.partner_id.tz = "Asia/Jakarta"

    @classmethod
    def archived(cls, status="completed", date="2026-03-01 10:00:00", production=None, **values):
        """A history record as the queue archives it (planned as the BoM says)."""
        production = production or cls.confirmed_mo(1000)
        record = dict(
            {
                "batch_no": 9000 + production.id,
                "mo_reference": production.name,
                "production_id": production.id,
                "plc_id": cls.plc.id,
                "equipment": cls.plc.code,
                "slot": 1,
                "finished_goods": production.product_id.display_name,
                "planned_quantity": 1000.0,
                "consumption_silo_d": 600.0,
                "consumption_silo_b": 350.0,
                "consumption_lq114": 40.0,
                "actual_consumption_silo_d": 600.0,
                "actual_consumption_silo_b": 350.0,
                "actual_consumption_lq114": 40.0,
                "actual_weight_quantity_finished_goods": 990.0,
                "status_manufacturing": status == "completed",
                "status": status,
                "notes": "Finished by the PLC." if status == "completed" else "Blocked",
                "date_archived": date,
                "date_plc_write": date,
            },
            **values,
        )
        return cls.env["mo.history"].with_context(**{ARCHIVE_CONTEXT_KEY: True}).sudo().create(record)


@tagged("post_install", "-at_install")
class TestConsumptionReport(ReportCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # 20:00 UTC is already the next day at the plant.
        cls.done = cls.archived(date="2026-03-01 20:00:00", actual_consumption_silo_b=380.0)
        cls.failed = cls.archived(
            status="cancelled",
            date="2026-03-01 21:00:00",
            status_operation=True,
            actual_consumption_silo_d=120.0,
            actual_consumption_silo_b=0.0,
            actual_consumption_lq114=0.0,
            notes="Auto-cancelled: the PLC reported the batch as failed",
        )
        cls.Report = cls.env["scada.consumption.report"]

    def test_one_row_per_batch_and_silo_used_with_the_bom_material(self):
        rows = self.Report.search([("history_id", "=", self.done.id)])
        by_silo = {row.silo_tag: row for row in rows}
        self.assertEqual(set(by_silo), {"silo_d", "silo_b", "lq114"}, "only the silos the batch used")
        self.assertEqual(by_silo["silo_d"].material_id, self.corn)
        self.assertEqual(by_silo["silo_b"].material_id, self.copra)
        self.assertEqual(by_silo["lq114"].material_id, self.molasses)
        copra = by_silo["silo_b"]
        self.assertAlmostEqual(copra.planned_kg, 350.0)
        self.assertAlmostEqual(copra.actual_kg, 380.0)
        self.assertAlmostEqual(copra.deviation_kg, 30.0)
        self.assertAlmostEqual(copra.deviation_percent, 8.6, places=1)
        self.assertTrue(copra.is_within_tolerance)  # 8.6 % <= 10 %
        self.assertTrue(by_silo["silo_d"].is_within_tolerance)
        self.assertEqual(copra.product_id, self.feed)
        self.assertEqual(copra.plc_id, self.plc)
        self.assertEqual(copra.status, "completed")

    def test_day_is_the_plants_day(self):
        row = self.Report.search([("history_id", "=", self.done.id)], limit=1)
        self.assertEqual(str(row.date), "2026-03-02", "20:00 UTC is 03:00 the next day in Jakarta")

    def test_tolerance_setting_decides_within(self):
        self.env["ir.config_parameter"].sudo().set_param(TOLERANCE_PARAM, "5")
        copra = self.Report.search([("history_id", "=", self.done.id), ("silo_tag", "=", "silo_b")])
        self.assertFalse(copra.is_within_tolerance)

    def test_material_by_day_sums_kg_and_never_percentages(self):
        groups = self.Report.read_group(
            [("status", "=", "completed"), ("plc_id", "=", self.plc.id)],
            ["actual_kg", "planned_kg", "deviation_percent"],
            ["material_id", "date:day"],
            lazy=False,
        )
        copra = [g for g in groups if g["material_id"][0] == self.copra.id]
        self.assertEqual(len(copra), 1)
        self.assertAlmostEqual(copra[0]["actual_kg"], 380.0)
        self.assertNotIn("deviation_percent", copra[0], "a sum of percentages means nothing")
        # The cancelled batch's corn is not in the completed figures.
        corn = [g for g in groups if g["material_id"][0] == self.corn.id]
        self.assertAlmostEqual(corn[0]["actual_kg"], 600.0)

    def test_groups_by_product_come_in_odoos_own_order(self):
        """Grouped without a join, ordered after: the order Odoo's SQL gives
        (product's default code, name, id), with days and silos inside."""
        self.copra.default_code = "A01"  # first, though created after the corn
        self.archived(date="2026-03-03 10:00:00")
        for groupby, lazy in (
            (["material_id", "date:day"], False),
            (["material_id"], True),
            (["silo_tag", "material_id"], False),
        ):
            mine = self.Report.read_group([("plc_id", "=", self.plc.id)], ["actual_kg"], groupby, lazy=lazy)
            odoos = self.Report.read_group(
                [("plc_id", "=", self.plc.id)], ["actual_kg"], groupby, orderby=",".join(groupby), lazy=lazy
            )
            self.assertEqual(mine, odoos, groupby)
        by_material = self.Report.read_group([("plc_id", "=", self.plc.id)], ["actual_kg"], ["material_id"])
        self.assertEqual(
            [g["material_id"][0] for g in by_material], [self.copra.id, self.corn.id, self.molasses.id]
        )

    def test_pivot_and_graph_offer_kg_only(self):
        for view_type in ("pivot", "graph"):
            arch = etree.fromstring(self.Report.fields_view_get(view_type=view_type)["arch"])
            measures = [f.get("name") for f in arch.iter("field") if f.get("type") == "measure"]
            self.assertEqual(measures, ["actual_kg"], view_type)
            hidden = [f.get("name") for f in arch.iter("field") if f.get("invisible") == "1"]
            self.assertIn("deviation_percent", hidden, view_type)
        action = self.env.ref("scada_plc_bridge.scada_consumption_report_action")
        self.assertIn("search_default_completed", action.context)
        self.assertTrue(action.view_mode.startswith("pivot"))

    def test_history_graph_sums_kg_instead_of_counting(self):
        arch = etree.fromstring(self.env["mo.history"].fields_view_get(view_type="graph")["arch"])
        measures = [f.get("name") for f in arch.iter("field") if f.get("type") == "measure"]
        self.assertEqual(measures, ["actual_weight_quantity_finished_goods"])

    def test_plc_failures_stand_out_in_the_history(self):
        arch = etree.fromstring(self.env["mo.history"].fields_view_get(view_type="tree")["arch"])
        self.assertIn("status_operation", arch.get("decoration-danger"))
        self.assertIn("not status_operation", arch.get("decoration-muted"))
        failures = self.env["mo.history"].search(self.env["mo.history"]._failure_domain())
        self.assertIn(self.failed, failures)
        self.assertNotIn(self.done, failures)

    def test_failure_menu_shows_the_count_of_the_last_week(self):
        self.failed.flush()
        self.env.cr.execute(
            "UPDATE mo_history SET date_archived = now() at time zone 'UTC' WHERE id = %s", (self.failed.id,)
        )
        self.env["mo.history"].invalidate_cache(["date_archived"])
        menus = self.env["ir.ui.menu"].load_menus(False)
        names = []
        stack = [menus]
        while stack:
            menu = stack.pop()
            if menu.get("xmlid") == "scada_plc_bridge.mo_history_failure_menu":
                names.append(menu["name"])
            stack.extend(menu.get("children", []))
        self.assertEqual(names, ["PLC failures (1)"])
        # The cached menu tree itself is not changed.
        self.assertEqual(self.env.ref("scada_plc_bridge.mo_history_failure_menu").name, "PLC failures")


@tagged("post_install", "-at_install")
class TestConsumptionTable(ReportCase):
    def lines(self, record):
        return {line["tag"]: line for line in record._consumption_lines()}

    def test_silos_with_material_and_levels_by_tolerance_not_sign(self):
        history = self.archived(
            actual_consumption_silo_d=600.03,  # 0.03 kg: noise
            actual_consumption_silo_b=370.0,  # 5.7 %: above half the tolerance
            actual_consumption_lq114=70.0,  # 30 kg over plan: 75 %
        )
        lines = self.lines(history)
        self.assertEqual(list(lines), ["silo_b", "silo_d", "lq114"], "slot order, used silos only")
        self.assertEqual(lines["silo_d"]["level"], "within")
        self.assertEqual(lines["silo_b"]["level"], "warning")
        self.assertEqual(lines["lq114"]["level"], "outside")
        html = history.with_context(lang="en_US").consumption_html
        self.assertIn("SILO D - JAGUNG GILING", html)
        self.assertIn('class="o_scada_outside table-danger" data-silo="lq114"', html)
        self.assertIn('class="o_scada_within" data-silo="silo_d"', html)
        self.assertNotIn("SILO A", html)

    def test_unplanned_consumption_is_outside_and_a_running_batch_is_not_judged(self):
        history = self.archived(actual_consumption_silo_a=5.0)
        self.assertEqual(self.lines(history)["silo_a"]["level"], "outside")
        self.assertIsNone(self.lines(history)["silo_a"]["percent"])
        self.confirmed_mo(1000)
        batch = self.queue()
        batch.write({"actual_consumption_silo_d": 100.0})
        self.assertEqual({line["level"] for line in batch._consumption_lines()}, {"running"})
        batch.write({"status_manufacturing": True})
        self.assertEqual(self.lines(batch)["silo_d"]["level"], "outside")

    def test_numbers_in_the_readers_language(self):
        history = self.archived(actual_consumption_silo_d=1234.5, consumption_silo_d=1200.0)
        self.assertIn("1.234,50", history.with_context(lang="id_ID").consumption_html)
        self.assertIn("1,234.50", history.with_context(lang="en_US").consumption_html)
        self.assertIn("+2,9 %", history.with_context(lang="id_ID").consumption_html)

    def test_history_keeps_when_the_recipe_was_written(self):
        self.confirmed_mo(1000)
        batch = self.queue()
        batch.write({"date_plc_write": "2026-03-01 08:00:00"})
        history = self.env["scada.task.finish"]._archive(batch, "cancelled", "test")
        self.assertEqual(str(history.date_plc_write), "2026-03-01 08:00:00")


@tagged("post_install", "-at_install")
class TestDayReport(ReportCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.user.tz = "Asia/Jakarta"
        cls.done = cls.archived(date="2026-03-01 20:00:00", actual_consumption_silo_b=380.0)
        cls.failed = cls.archived(
            status="cancelled",
            date="2026-03-02 02:00:00",
            status_operation=True,
            notes="Auto-cancelled: the PLC reported the batch as failed",
        )
        cls.other_day = cls.archived(date="2026-03-01 10:00:00")

    def values(self, **data):
        report = self.env["report.scada_plc_bridge.report_scada_day_sheet"]
        return report._get_report_values(self.plc.ids, data=data)["sheets"][0]

    def test_the_plants_day_with_batches_consumption_and_failures(self):
        sheet = self.values(date_from="2026-03-02", date_to="2026-03-02")
        self.assertEqual(
            [b["mo"] for b in sheet["batches"]], [self.done.mo_reference, self.failed.mo_reference]
        )
        self.assertEqual(sheet["batches"][0]["end"], "3/2/26, 3:00 AM", "in the reader's time zone")
        self.assertEqual(sheet["completed_count"], 1)
        copra = [line for line in sheet["consumption"] if line["material"] == "KOPRA"]
        self.assertEqual(copra[0]["actual"], "380.00")
        self.assertEqual(copra[0]["deviation"], "+30.00")
        self.assertEqual(len(sheet["failures"]), 1)
        self.assertIn("Auto-cancelled", sheet["failures"][0]["notes"])
        self.assertEqual(sheet["failures"][0]["status"], "Cancelled (PLC failure)")

    def test_html_rendering_has_the_rows(self):
        report = self.env.ref("scada_plc_bridge.action_report_scada_day_sheet")
        html = report._render_qweb_html(
            self.plc.ids, data={"date_from": "2026-03-01", "date_to": "2026-03-02"}
        )[0].decode()
        for text in (
            self.done.mo_reference,
            self.failed.mo_reference,
            self.other_day.mo_reference,
            "KOPRA",
            "Auto-cancelled",
        ):
            self.assertIn(text, html)

    def test_wizard_defaults_from_the_history_selection(self):
        wizard = (
            self.env["scada.day.report.wizard"]
            .with_context(active_model="mo.history", active_ids=(self.done | self.other_day).ids)
            .create({})
        )
        self.assertEqual(wizard.plc_id, self.plc)
        self.assertEqual((str(wizard.date_from), str(wizard.date_to)), ("2026-03-01", "2026-03-02"))
        action = wizard.action_print()
        self.assertEqual(action["report_name"], "scada_plc_bridge.report_scada_day_sheet")
        self.assertEqual(action["data"]["date_from"], "2026-03-01")
        self.assertTrue(action["close_on_report_download"])


@tagged("post_install", "-at_install")
class TestAddressesAndFigures(ReportCase):
    def test_memory_map_shows_the_dm_address(self):
        rows = {(row.area, row.name): row for row in self.plc.memory_map_ids}
        self.assertEqual(rows[("read", "quantity")].dm_address, "D6025-6026")
        self.assertEqual(rows[("read", "batch_no")].dm_address, "D6000")
        self.assertEqual(rows[("write", "status_read_data")].dm_address, "D7076")

    def test_ports_and_addresses_are_not_grouped(self):
        def unformatted(model, view_type, view=None):
            arch = self.env[model].fields_view_get(view_id=view and view.id, view_type=view_type)["arch"]
            return {
                f.get("name")
                for f in etree.fromstring(arch).iter("field")
                if f.get("options") and "'format': false" in f.get("options")
            }

        self.assertTrue({"port", "read_area_base", "write_area_base"} <= unformatted("scada.plc", "form"))
        form = self.env["scada.plc"].fields_view_get(view_type="form")
        for o2m, name in (("memory_map_ids", "offset"), ("silo_ids", "plc_silo_id")):
            tree = etree.fromstring(form["fields"][o2m]["views"]["tree"]["arch"])
            options = [f.get("options") or "" for f in tree.iter("field") if f.get("name") == name]
            self.assertIn("'format': false", options[0], name)
        self.assertIn("port", unformatted("scada.plc", "tree"))
        self.assertIn("offset", unformatted("scada.memory.map", "tree"))
        self.assertIn("batch_no", unformatted("mo.history", "tree"))

    def test_byte_and_word_order_have_their_own_words(self):
        fields = self.env["scada.memory.map"].fields_get(["word_order", "byte_order"])
        self.assertIn("High word first", dict(fields["word_order"]["selection"]).values())
        self.assertIn("High byte first", dict(fields["byte_order"]["selection"]).values())

    def test_plant_time_zone_falls_back_to_the_administrator(self):
        self.env.company.partner_id.tz = False
        self.env.ref("base.user_admin").tz = "Asia/Makassar"
        self.assertEqual(self.env["scada.batch.data"]._plant_tz(), "Asia/Makassar")
        self.env.ref("base.user_admin").tz = False
        self.assertEqual(self.env["scada.batch.data"]._plant_tz(), "UTC")


@tagged("post_install", "-at_install")
class TestOneRuleForFormsAndReport(ReportCase):
    """The history form's silo table and the consumption report judge the
    tolerance and cut the plant's day by the same rules (rules.py)."""

    def flags(self, history):
        """Per silo: (the form says within, the report's row says within, the
        report's filters keep the row among the within, not the outside)."""
        Report = self.env["scada.consumption.report"]
        Report.invalidate_cache()  # the flag is computed: the setting changed
        mine = [("history_id", "=", history.id)]
        within = Report.search(mine + [("is_within_tolerance", "=", True)]).mapped("silo_tag")
        outside = Report.search(mine + [("is_within_tolerance", "!=", True)]).mapped("silo_tag")
        levels = self.levels(history)
        return {
            row.silo_tag: (
                levels[row.silo_tag] != "outside",
                row.is_within_tolerance,
                row.silo_tag in within and row.silo_tag not in outside,
            )
            for row in Report.search(mine)
        }

    def levels(self, history):
        return {line["tag"]: line["level"] for line in history._consumption_lines()}

    def test_form_and_report_agree_at_the_limit_and_just_above(self):
        history = self.archived(
            consumption_silo_d=600.0,
            actual_consumption_silo_d=660.0,  # 10 %: at the default limit
            consumption_silo_b=350.0,
            actual_consumption_silo_b=385.01,  # just above 10 %
            consumption_lq114=3.1,
            actual_consumption_lq114=3.41,  # 10 % (in floats 10.000000000000002 %)
            consumption_silo_a=200.0,
            actual_consumption_silo_a=225.0,  # 12.5 %
            consumption_silo_c=100.0,
            actual_consumption_silo_c=112.51,  # just above 12.5 %
            consumption_silo_e=100.0,
            actual_consumption_silo_e=95.0,  # half the default limit: not yet a warning
        )
        expected = {
            "10": {"silo_d": True, "silo_b": False, "lq114": True, "silo_a": False, "silo_c": False},
            "12.5": {"silo_d": True, "silo_b": True, "lq114": True, "silo_a": True, "silo_c": False},
        }
        for setting, within in expected.items():
            self.env["ir.config_parameter"].sudo().set_param(TOLERANCE_PARAM, setting)
            within = dict(within, silo_e=True)
            self.assertEqual(
                self.flags(history), {tag: (flag, flag, flag) for tag, flag in within.items()}, setting
            )
        self.env["ir.config_parameter"].sudo().set_param(TOLERANCE_PARAM, "10")
        levels = self.levels(history)
        self.assertEqual((levels["silo_e"], levels["silo_d"]), ("within", "warning"), "warning beyond half")

    def test_every_kind_of_tolerance_rule_means_the_same_in_sql(self):
        cases = [(100.0, 110.0), (100.0, 110.01), (100.0, 89.99), (3.1, 3.41), (0.0, 0.0), (0.0, 0.01)]
        for unit in ("percent", "kg"):
            for inclusive in (True, False):
                rule = ToleranceRule(TOLERANCE.setting, unit, inclusive, TOLERANCE.warning_share)
                for limit in (10, 0.31, 12.5):
                    for planned, actual in cases:
                        values = {"planned": exact_kg(planned), "actual": exact_kg(actual)}
                        self.env.cr.execute(
                            "SELECT " + rule.sql_is_within("%(planned)s", "%(actual)s", "%(limit)s"),
                            dict(values, limit=rule.limit(limit)),
                        )
                        self.assertEqual(
                            self.env.cr.fetchone()[0],
                            rule.is_within(planned, actual, limit),
                            (rule, limit, planned, actual),
                        )

    def test_the_day_is_cut_at_the_plants_midnight_for_report_and_day_sheet(self):
        # The plant is in Jakarta (UTC+7): its midnight is 17:00 UTC.
        before = self.archived(date="2026-03-04 16:59:59")
        after = self.archived(date="2026-03-04 17:00:00")
        rows = self.env["scada.consumption.report"].search([("history_id", "in", (before | after).ids)])
        report_days = {row.history_id: str(row.date) for row in rows}
        self.assertEqual(report_days, {before: "2026-03-04", after: "2026-03-05"})
        tz = self.env["scada.batch.data"]._plant_tz()
        self.assertEqual(tz, "Asia/Jakarta")
        self.assertEqual({h: str(plant_day(h.date_archived, tz)) for h in before | after}, report_days)
        sheet = self.env["report.scada_plc_bridge.report_scada_day_sheet"]
        for day, history in (("2026-03-04", before), ("2026-03-05", after)):
            values = sheet._get_report_values(self.plc.ids, data={"date_from": day, "date_to": day})
            self.assertEqual([b["mo"] for b in values["sheets"][0]["batches"]], [history.mo_reference], day)

    def test_a_day_filter_finds_the_same_rows_with_its_archived_bounds(self):
        """The report adds date_archived bounds to a filter on the plant's
        day (for the index): the same rows in the time zones furthest from
        UTC, at the edges of the day."""
        Report = self.env["scada.consumption.report"]
        histories = self.env["mo.history"]
        for value in (
            "2026-03-03 09:59:59",
            "2026-03-03 10:00:00",
            "2026-03-04 10:59:59",
            "2026-03-04 11:00:00",
        ):
            histories |= self.archived(date=value)
        mine = [("history_id", "in", histories.ids)]
        for tz in ("Pacific/Kiritimati", "Pacific/Pago_Pago", "Asia/Jakarta", "UTC"):
            self.env.company.partner_id.tz = tz
            self.env["base"].flush()
            Report.invalidate_cache()  # the rows' days are the company's time zone's
            for domain in (
                [("date", "=", "2026-03-04")],
                [("date", ">=", "2026-03-04")],
                [("date", ">", "2026-03-03")],
                [("date", "<=", "2026-03-03")],
                [("date", "<", "2026-03-04")],
                ["&", ("date", ">=", "2026-03-03"), ("date", "<=", "2026-03-03")],
            ):
                self.assertTrue(archived_bounds(domain), domain)
                expected = {
                    row.history_id for row in Report.search(mine) if expression_holds(row.date, domain)
                }
                self.assertEqual(set(Report.search(mine + domain).history_id), expected, (tz, domain))
        self.assertFalse(archived_bounds(["|", ("date", "=", "2026-03-04"), ("status", "=", "cancelled")]))

    def test_the_silo_lines_follow_the_history(self):
        history = self.archived(actual_consumption_silo_b=0.0, consumption_silo_b=0.0)
        rows = self.env["scada.consumption.report"].search([("history_id", "=", history.id)])
        self.assertEqual(set(rows.mapped("silo_tag")), {"silo_d", "lq114"})
        # Only SQL changes a history record (a migration): the lines follow it.
        self.env.cr.execute(
            "UPDATE mo_history SET actual_consumption_silo_b = 5, consumption_lq114 = 0,"
            " actual_consumption_lq114 = 0 WHERE id = %s",
            [history.id],
        )
        self.env["scada.consumption.report"].invalidate_cache()
        rows = self.env["scada.consumption.report"].search([("history_id", "=", history.id)])
        self.assertEqual({row.silo_tag: row.actual_kg for row in rows}, {"silo_d": 600.0, "silo_b": 5.0})

    def test_a_day_filter_is_an_exact_range_of_archived_across_clock_changes(self):
        """One plant's time zone: the filter on the day becomes a range of
        date_archived (no day figured per row), the same rows where Havana's
        midnight is missing or happens twice."""
        tz = "America/Havana"
        self.env.company.partner_id.tz = tz
        self.env["base"].flush()
        Report = self.env["scada.consumption.report"]
        histories = self.env["mo.history"]
        for day in (date(2026, 3, 8), date(2026, 11, 1), date(2026, 11, 2)):
            start = plant_day_start(day, tz)
            for instant in (start - timedelta(seconds=1), start, start + timedelta(hours=1)):
                histories |= self.archived(date=fields.Datetime.to_string(instant))
        Report.invalidate_cache()
        mine = [("history_id", "in", histories.ids)]
        for domain in (
            [("date", "=", "2026-03-08")],
            [("date", "=", "2026-11-01")],
            [("date", ">", "2026-03-08")],
            [("date", "<", "2026-11-01")],
            ["&", ("date", ">=", "2026-11-01"), ("date", "<=", "2026-11-01")],
        ):
            ranged = archived_range(domain, tz)
            self.assertNotIn("date", [leaf[0] for leaf in ranged if isinstance(leaf, (list, tuple))], ranged)
            expected = {row.history_id for row in Report.search(mine) if expression_holds(row.date, domain)}
            self.assertTrue(expected, domain)
            self.assertEqual(set(Report.search(mine + domain).history_id), expected, domain)

    def test_two_plants_in_two_time_zones_each_cut_their_own_day(self):
        samoa = self.env["res.company"].create({"name": "Plant in Samoa"})
        samoa.partner_id.tz = "Pacific/Pago_Pago"  # UTC-11; Jakarta is UTC+7
        # 2026-03-04 12:00 UTC: 19:00 on the 4th in Jakarta, 01:00 on the 4th in Samoa.
        java = self.archived(date="2026-03-04 12:00:00")
        pago = self.archived(date="2026-03-04 10:00:00", company_id=samoa.id)  # 23:00 on the 3rd
        self.env["base"].flush()
        Report = self.env["scada.consumption.report"]
        mine = [("history_id", "in", (java | pago).ids)]
        self.assertEqual(
            {row.history_id: str(row.date) for row in Report.search(mine)},
            {java: "2026-03-04", pago: "2026-03-03"},
        )
        self.assertEqual(set(Report.search(mine + [("date", "=", "2026-03-03")]).history_id), {pago})
        self.assertEqual(set(Report.search(mine + [("date", ">=", "2026-03-04")]).history_id), {java})

    def test_the_material_is_what_was_dosed_whatever_the_silo_holds_later(self):
        history = self.archived()
        copra_line = self.bom.bom_line_ids.filtered(lambda line: line.product_id == self.copra)
        copra_line.product_id = self.corn
        self.silo["silo_b"].product_id = self.corn
        self.env["base"].flush()
        self.env["scada.consumption.report"].invalidate_cache()
        row = self.env["scada.consumption.report"].search(
            [("history_id", "=", history.id), ("silo_tag", "=", "silo_b")]
        )
        self.assertEqual(row.material_id, self.copra, "the batch dosed copra from silo B")
        self.assertEqual(row.silo_id, self.silo["silo_b"])

    def test_silo_lines_of_an_older_version_are_remade_from_the_history(self):
        history = self.archived(actual_consumption_silo_b=380.0)
        # The lines as version 14.0.1.1.0 made them: no report columns.
        self.env.cr.execute("DROP VIEW scada_consumption_report")
        self.env.cr.execute("ALTER TABLE mo_history_silo_line DROP COLUMN material_id, DROP COLUMN status")
        self.env["scada.consumption.report"].init()
        self.env["scada.consumption.report"].invalidate_cache()
        rows = self.env["scada.consumption.report"].search([("history_id", "=", history.id)])
        self.assertEqual(
            {row.silo_tag: (row.material_id, row.actual_kg, row.status) for row in rows},
            {
                "silo_d": (self.corn, 600.0, "completed"),
                "silo_b": (self.copra, 380.0, "completed"),
                "lq114": (self.molasses, 40.0, "completed"),
            },
        )

    def test_sql_and_python_cut_the_same_days_across_clock_changes(self):
        """Havana's clocks change at midnight (2026-03-08 00:00 does not
        exist, 2026-11-01 00:00 happens twice), Berlin's at night."""

        def sql_day(value, tz):
            self.env.cr.execute("SELECT " + sql_plant_day("%s::timestamp", "%s"), [value, tz])
            return self.env.cr.fetchone()[0]

        second = timedelta(seconds=1)
        for tz, days in (
            ("America/Havana", ("2026-03-07", "2026-03-08", "2026-03-09", "2026-10-31", "2026-11-01")),
            ("Europe/Berlin", ("2026-03-29", "2026-03-30", "2026-10-25", "2026-10-26")),
            ("Asia/Jakarta", ("2026-03-05",)),
        ):
            for day in days:
                day = date.fromisoformat(day)
                start = plant_day_start(day, tz)
                for value in (start - second, start, start + second):
                    self.assertEqual(sql_day(value, tz), plant_day(value, tz), (tz, str(value)))
                self.assertEqual(plant_day(start, tz), day, tz)
                self.assertEqual(plant_day(start - second, tz), day - timedelta(days=1), tz)
        self.assertEqual(plant_day_start(date(2026, 11, 1), "America/Havana"), datetime(2026, 11, 1, 4, 0))


@tagged("post_install", "-at_install")
class TestBatchTicket(ReportCase):
    def ticket(self, record):
        report = "report.scada_plc_bridge.report_%s_ticket" % (
            "history" if record._name == "mo.history" else "batch"
        )
        return self.env[report]._get_report_values(record.ids)["tickets"][0]

    def test_a_batch_still_dosing_is_not_graded_until_the_plc_finishes_it(self):
        self.confirmed_mo(1000)
        batch = self.queue()
        batch.write({"actual_consumption_silo_d": 100.0})
        ticket = self.ticket(batch)
        self.assertEqual({line["grade"] for line in ticket["lines"]}, {""}, "a part dose is not Critical")
        self.assertEqual((ticket["yield"], ticket["deviation"], ticket["grade"]), ("-", "-", "still dosing"))
        batch.write(
            {
                "actual_consumption_silo_d": 601.5,
                "actual_consumption_silo_b": 348.0,
                "actual_consumption_lq114": 40.2,
                "actual_weight_quantity_finished_goods": 989.7,
                "status_manufacturing": True,
            }
        )
        ticket = self.ticket(batch)
        self.assertEqual(ticket["grade"], "Normal")
        self.assertTrue(all(line["grade"] == "Normal" for line in ticket["lines"]), ticket["lines"])
        self.assertNotEqual(ticket["yield"], "-")

    def test_an_emptied_field_in_who_did_what_is_blank_not_zero(self):
        history = self.archived()
        message = history.production_id.message_post(body="")
        self.env["mail.tracking.value"].sudo().create(
            {
                "field": self.env["ir.model.fields"]._get("mrp.production", "reservation_state").id,
                "field_desc": "Material Availability",
                "field_type": "selection",
                "old_value_char": "Waiting",
                "new_value_char": False,
                "mail_message_id": message.id,
            }
        )
        log = [what for _when, _who, what in self.ticket(history)["log"]]
        self.assertIn("Material Availability: Waiting -> ", log)
