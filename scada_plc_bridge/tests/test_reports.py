"""What a supervisor reads: the consumption report (SQL view), the batch and
history forms' silo table coloured by the tolerance, the day report, and
figures and addresses as the reader expects them."""

from lxml import etree
from odoo.tests import tagged

from ..models.mo_history import ARCHIVE_CONTEXT_KEY
from .common import ScadaCase

TOLERANCE_PARAM = "scada_plc_bridge.health_tolerance_percent"


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
                "mo_id": production.name,
                "production_id": production.id,
                "plc_id": cls.plc.id,
                "equipment": cls.plc.code,
                "slot": 1,
                "finished_goods": production.product_id.display_name,
                "consumption": 1000.0,
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
        history = batch._archive("cancelled", "test")
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
        self.assertEqual([b["mo"] for b in sheet["batches"]], [self.done.mo_id, self.failed.mo_id])
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
        for text in (self.done.mo_id, self.failed.mo_id, self.other_day.mo_id, "KOPRA", "Auto-cancelled"):
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

    def test_slots_view_numbers_in_the_readers_language(self):
        self.confirmed_mo(1000)
        batch = self.queue()
        self.report(batch, actual_weight_quantity_finished_goods=1234.5)
        action = self.env["scada.plc.slots"].with_context(lang="id_ID")._action_show(self.plc)
        html = self.env["scada.plc.slots"].browse(action["res_id"]).slots_html
        self.assertIn("1.234,50", html)

    def test_slots_view_keeps_no_markup_of_the_plc(self):
        """The slots field is sanitized HTML: markup in the PLC's text comes
        back as text, whatever is stored comes back without scripts, and
        the table still renders with its classes."""
        self.confirmed_mo(1000)
        batch = self.queue()
        self.report(batch, finished_goods="<img src=x>")
        action = self.env["scada.plc.slots"]._action_show(self.plc)
        html = self.env["scada.plc.slots"].browse(action["res_id"]).slots_html
        self.assertNotIn("<img", html)
        self.assertIn("&lt;img src=x&gt;", html)
        self.assertIn(batch.plc_ref, html)
        for markup in (
            '<table class="table table-sm">',
            "<th>",
            '<th class="text-right">',
            '<td class="text-right">',
        ):
            self.assertIn(markup, html)
        self.assertEqual(html.count("<tr"), 1 + self.plc.slot_count)
        stored = self.env["scada.plc.slots"].create(
            {
                "plc_id": self.plc.id,
                "slots_html": "<table class='table'><tr class='table-danger'>"
                "<td><img src=x onerror=alert(1)><script>alert(2)</script>MO/1</td></tr></table>",
            }
        )
        self.assertNotIn("onerror", stored.slots_html)
        self.assertNotIn("<script", stored.slots_html)
        self.assertIn('<tr class="table-danger">', stored.slots_html)
        self.assertIn("MO/1", stored.slots_html)

    def test_plant_time_zone_falls_back_to_the_administrator(self):
        self.env.company.partner_id.tz = False
        self.env.ref("base.user_admin").tz = "Asia/Makassar"
        self.assertEqual(self.env["scada.batch.data"]._plant_tz(), "Asia/Makassar")
        self.env.ref("base.user_admin").tz = False
        self.assertEqual(self.env["scada.batch.data"]._plant_tz(), "UTC")
