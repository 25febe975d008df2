"""The operator UI in a real browser: Debian's Chromium, headless, driven by
Odoo's tour runner, logged in as a SCADA User.  Screenshots of the kanban,
the batch form and the history pivot land in <repository>/screenshots/
(git-ignored) on every run; scripts/refresh_screenshots.sh copies them to docs/."""

import base64
import os

from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tests.common import HOST, ChromeBrowser
from odoo.tools import config

from ..plclib.simulator import PlcSimulator
from ..runner.cycle import PlcCycle
from .common import ScadaCase, in_test_transaction, plc_reports

SCREENSHOT_DIR = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "screenshots"
)
# This machine has no outside network: keep Chromium from calling home.
OFFLINE_SWITCHES = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


class OfflineChromeBrowser(ChromeBrowser):
    def _spawn_chrome(self, cmd):
        return super()._spawn_chrome(cmd[:-1] + OFFLINE_SWITCHES + cmd[-1:])


@tagged("post_install", "-at_install")
class TestOperatorTour(HttpCase):
    browser_size = "1366,900"

    @classmethod
    def start_browser(cls):
        if cls.browser is None:
            cls.browser = OfflineChromeBrowser(cls._logger, cls.browser_size, cls.__name__)
            cls.addClassCleanup(cls.terminate_browser)

    def setUp(self):
        super().setUp()
        self.simulator = PlcSimulator().start()
        self.addCleanup(self.simulator.stop)
        # Reuse the queue fixtures of the model tests on this test's environment.
        fixtures = type("TourFixtures", (ScadaCase,), {})
        fixtures.env = self.env
        fixtures.plc = self.env["scada.plc"].create(
            {"name": "Tour line", "code": "TOUR01", "port": self.simulator.port, "timeout": 0.5}
        )
        self.env["ir.config_parameter"].sudo().set_param("scada_plc_bridge.default_plc_id", fixtures.plc.id)
        self.fixtures = fixtures
        self.user = new_test_user(
            self.env,
            "shift_supervisor",
            groups="scada_plc_bridge.group_scada_user",
            password="shift_supervisor",
            name="Shift Supervisor",
        )

    def _batch_for(self, product_name):
        kg = self.env.ref("uom.product_uom_kgm")
        silo = self.fixtures.plc.silo_ids.filtered(lambda s: s.tag == "silo_c")
        corn, feed = (
            self.env["product.product"].create(
                {"name": name, "type": "product", "uom_id": kg.id, "uom_po_id": kg.id}
            )
            for name in ("TOUR CORN", product_name)
        )
        bom = self.env["mrp.bom"].create(
            {
                "product_tmpl_id": feed.product_tmpl_id.id,
                "product_qty": 1000,
                "product_uom_id": kg.id,
                "bom_line_ids": [
                    (0, 0, {"product_id": corn.id, "product_qty": 1000, "scada_silo_id": silo.id})
                ],
            }
        )
        self.fixtures.confirmed_mo(1000, bom=bom)
        self.env["scada.task.sync"]._sync_mo(self.fixtures.plc)
        return self.env["mo.batch"].search([("product_id", "=", feed.id)]), corn

    def test_retry_push_of_a_batch_odoo_refused(self):
        batch, corn = self._batch_for("TOUR RETRY FEED")
        production = batch.production_id
        plc_reports(
            self.simulator,
            batch,
            actual_consumption_silo_c=1003.5,
            actual_weight_quantity_finished_goods=1003.5,
            status_manufacturing=True,
        )
        # Odoo refuses: the component is lot-tracked and the line knows no lots.
        corn.tracking = "lot"
        for _read in range(2):  # finished is taken when two reads agree
            PlcCycle(self.fixtures.plc.id, in_test_transaction(self.env)).run()
        self.assertEqual(batch.state, "push_failed")
        self.capture_screens(
            ("kanban", "/web#action=scada_plc_bridge.mo_batch_action", ".o_kanban_view .o_kanban_record"),
            (
                "batch_form",
                "/web#model=mo.batch&view_type=form&id=%d" % batch.id,
                ".o_form_view .o_scada_consumption",
            ),
        )
        corn.tracking = "none"  # the cause is fixed; the supervisor retries
        self.start_tour(
            "/web#action=scada_plc_bridge.mo_batch_action", "scada_retry_push_tour", login="shift_supervisor"
        )
        self.capture_screens(
            (
                "history_pivot",
                "/web#action=scada_plc_bridge.mo_history_action&view_type=pivot",
                ".o_pivot table",
            ),
        )
        history = self.env["mo.history"].search([("production_id", "=", production.id)])
        self.assertEqual(history.status, "completed")
        self.assertEqual(production.state, "done")
        self.assertFalse(batch.exists())

    def test_cancel_a_batch_with_a_reason(self):
        batch, _corn = self._batch_for("TOUR CANCEL FEED")
        production = batch.production_id
        self.start_tour(
            "/web#action=scada_plc_bridge.mo_batch_action",
            "scada_cancel_batch_tour",
            login="shift_supervisor",
        )
        history = self.env["mo.history"].search([("production_id", "=", production.id)])
        self.assertEqual(history.status, "cancelled")
        self.assertIn("Silo C blocked by caking", history.notes)
        self.assertEqual(production.state, "cancel")

    def capture_screens(self, *pages):
        """Screenshots of (name, url, CSS selector that shows it rendered), as the SCADA User sees them."""
        self.start_browser()
        self.authenticate("shift_supervisor", "shift_supervisor")
        base_url = "http://%s:%s" % (HOST, config["http_port"])
        self.env["base"].flush()  # the browser reads through the test cursor
        try:
            for name, url, selector in pages:
                self.browser.navigate_to(base_url + url)
                ready = (
                    "!!document.querySelector(%r) && ![...document.querySelectorAll('.o_loading')]"
                    ".some(e => e.offsetParent !== null)" % selector
                )
                self.assertTrue(self.browser._wait_ready(ready), "%s did not render" % name)
                self._save_screenshot(name)
        finally:
            self.browser.delete_cookie("session_id", domain=HOST)
            self.browser.clear()

    def _save_screenshot(self, name):
        os.makedirs(SCREENSHOT_DIR, exist_ok=True)
        request_id = self.browser._websocket_send("Page.captureScreenshot", params={"format": "png"})
        data = self.browser._websocket_wait_id(request_id).get("result", {}).get("data")
        self.assertTrue(data, "Chromium returned no screenshot")
        with open(os.path.join(SCREENSHOT_DIR, name + ".png"), "wb") as handle:
            handle.write(base64.b64decode(data))
