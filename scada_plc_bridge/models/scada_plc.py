import logging
import threading
import time

import odoo
from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..plclib import memory_map
from ..plclib.client import FinsClient
from ..plclib.exceptions import PlcError
from .scada_batch_data import SILOS

_logger = logging.getLogger(__name__)

# Task 2 polls for just under the cron runner's one-minute tick.
POLL_WINDOW_SECONDS = 55
# First key of the PostgreSQL advisory lock that marks "this PLC is being polled".
POLL_LOCK_NAMESPACE = 1397901645  # "SCAD" as an int4


def in_test_mode():
    """Tests (Odoo's runner or pytest-odoo) run crons as one bounded pass in
    the test transaction: no threads, no commits."""
    return bool(odoo.tools.config["test_enable"] or getattr(threading.current_thread(), "testing", False))


def rearm_cron(env, xml_id):
    """Make a cron due now (Odoo 14 has no ir.cron._trigger(); its runner
    picks up a due job on its next poll)."""
    cron = env.ref(xml_id, raise_if_not_found=False)
    if cron:
        env.cr.execute(
            "UPDATE ir_cron SET nextcall = (now() at time zone 'UTC') WHERE id = %s AND active", (cron.id,)
        )


def poll_plc_until(dbname, plc_id, deadline):
    """Poll one PLC every poll interval until `deadline`, committing each
    cycle.  A session advisory lock on a connection of its own makes sure
    no other worker or server polls the same PLC meanwhile."""
    registry = odoo.registry(dbname)
    with api.Environment.manage(), registry.cursor() as lock_cr:
        lock_cr.execute("SELECT pg_try_advisory_lock(%s, %s)", (POLL_LOCK_NAMESPACE, plc_id))
        if not lock_cr.fetchone()[0]:
            _logger.info("[TASK 2] PLC %s is being polled by another worker; skipped", plc_id)
            return
        try:
            while time.monotonic() < deadline:
                started = time.monotonic()
                with registry.cursor() as cr:
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    plc = env["scada.plc"].browse(plc_id)
                    if not plc.active:
                        return
                    interval = plc.poll_interval
                    finished_ids = plc._read_cycle().ids
                if finished_ids:
                    # Task 3 at once for what just finished, in its own transactions.
                    with registry.cursor() as cr:
                        api.Environment(cr, SUPERUSER_ID, {})["mo.batch"].browse(
                            finished_ids
                        )._process_completed()
                time.sleep(
                    max(0.0, min(interval - (time.monotonic() - started), deadline - time.monotonic()))
                )
        except Exception:
            _logger.exception("[TASK 2] polling PLC %s stopped", plc_id)
        finally:
            lock_cr.execute("SELECT pg_advisory_unlock(%s, %s)", (POLL_LOCK_NAMESPACE, plc_id))


class ScadaPlc(models.Model):
    _name = "scada.plc"
    _description = "SCADA PLC (production line)"
    _inherit = ["mail.thread"]
    _order = "sequence, code"

    name = fields.Char(required=True, tracking=True)
    code = fields.Char(
        required=True, tracking=True, help="Short code of the line, e.g. PLC01; shown on batches."
    )
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True, tracking=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    responsible_user_id = fields.Many2one(
        "res.users", string="Responsible", help="Receives the health activities of this line's batches."
    )
    host = fields.Char(
        required=True,
        default="127.0.0.1",
        tracking=True,
        help="IP address or host name of the PLC's Ethernet unit.",
    )
    port = fields.Integer(required=True, default=9600, tracking=True, help="FINS port, 9600 by default.")
    protocol = fields.Selection(
        [("udp", "UDP"), ("tcp", "TCP")],
        required=True,
        default="udp",
        tracking=True,
        help="FINS over UDP or FINS/TCP.",
    )
    plc_node = fields.Integer(
        string="PLC Node", default=0, help="FINS node address of the PLC (DA1); 0: local node."
    )
    client_node = fields.Integer(
        default=0,
        help="FINS node address of Odoo (SA1); 0: automatic (TCP assigns one).",
    )
    timeout = fields.Float(default=2.0, help="Seconds to wait for one reply.")
    read_retries = fields.Integer(default=1, help="Extra attempts of a read that got no valid reply.")
    poll_interval = fields.Integer(
        string="Poll Interval (s)", default=5, help="Seconds between two PLC reads."
    )
    batch_limit = fields.Integer(default=10, help="Most batches queued for this PLC at once.")
    slot_count = fields.Integer(default=memory_map.SLOT_COUNT, help="Number of READ/WRITE slots.")
    slot_stride = fields.Integer(default=memory_map.SLOT_STRIDE, help="Words between two slots.")
    read_area_base = fields.Integer(
        string="READ Area (DM)",
        default=memory_map.READ_AREA_BASE,
        help="DM address of READ slot 1 (PLC to Odoo).",
    )
    write_area_base = fields.Integer(
        string="WRITE Area (DM)",
        default=memory_map.WRITE_AREA_BASE,
        help="DM address of WRITE slot 1 (Odoo to PLC).",
    )
    state = fields.Selection(
        [("unknown", "Not Contacted"), ("connected", "Connected"), ("error", "Error")],
        string="Connection",
        default="unknown",
        readonly=True,
    )
    last_contact = fields.Datetime(readonly=True, help="Last valid reply from the PLC.")
    last_error = fields.Text(readonly=True)
    slot_problems = fields.Text(
        readonly=True, help="Slots the last read could not use (invalid data, unknown MO), one per line."
    )
    silo_ids = fields.One2many("scada.silo", "plc_id", string="Silos")
    memory_map_ids = fields.One2many("scada.memory.map", "plc_id", string="Memory map fields")
    batch_ids = fields.One2many("mo.batch", "plc_id", string="Queued batches")
    batch_count = fields.Integer(compute="_compute_batch_count")

    _sql_constraints = [("code_company_uniq", "unique(code, company_id)", "The PLC code must be unique.")]

    @api.constrains("poll_interval", "batch_limit", "slot_count", "timeout", "read_retries", "port")
    def _check_settings(self):
        for plc in self:
            if plc.poll_interval < 1 or plc.timeout <= 0 or plc.read_retries < 0:
                raise ValidationError(_("Poll interval, timeout and retries must be positive."))
            if not 1 <= plc.slot_count <= 10 or not 1 <= plc.batch_limit <= plc.slot_count:
                raise ValidationError(_("A PLC has 1 to 10 slots and queues at most one batch per slot."))
            if not 0 < plc.port < 65536:
                raise ValidationError(_("The port must be between 1 and 65535."))

    def _compute_batch_count(self):
        groups = self.env["mo.batch"].read_group([("plc_id", "in", self.ids)], ["plc_id"], ["plc_id"])
        counts = {group["plc_id"][0]: group["plc_id_count"] for group in groups}
        for plc in self:
            plc.batch_count = counts.get(plc.id, 0)

    @api.model_create_multi
    def create(self, vals_list):
        plcs = super().create(vals_list)
        if self.env.context.get("scada_default_silos", True):
            for plc in plcs.filtered(lambda p: not p.silo_ids):
                self.env["scada.silo"].create(
                    [
                        {
                            "plc_id": plc.id,
                            "name": label.upper(),
                            "tag": tag,
                            "plc_silo_id": silo_id,
                            "code": ("silo%d" if tag.startswith("silo_") else "lq%d") % silo_id,
                        }
                        for tag, silo_id, label in SILOS
                    ]
                )
        plcs._load_default_memory_map()
        return plcs

    def _load_default_memory_map(self):
        """Give PLCs without a memory map the plant's (plclib's default)."""
        for plc in self.filtered(lambda p: not p.memory_map_ids):
            rows = [("read", spec) for spec in memory_map.default_read_fields()]
            rows += [("write", spec) for spec in memory_map.default_write_fields()]
            self.env["scada.memory.map"].create(
                [
                    dict(self.env["scada.memory.map"]._values_from_spec(spec), plc_id=plc.id, area=area)
                    for area, spec in rows
                ]
            )

    # -- plclib adapters ---------------------------------------------------
    def _plc_client(self):
        self.ensure_one()
        return FinsClient(
            host=self.host,
            port=self.port,
            protocol=self.protocol,
            timeout=self.timeout,
            retries=self.read_retries,
            plc_node=self.plc_node,
            client_node=self.client_node or None,
        )

    def _layout(self, area):
        self.ensure_one()
        rows = self.memory_map_ids.filtered(lambda row: row.area == area)
        if not rows:
            fields_ = (
                memory_map.default_read_fields() if area == "read" else memory_map.default_write_fields()
            )
            return memory_map.SlotLayout(fields_)
        try:
            return memory_map.SlotLayout([row._to_field_spec() for row in rows])
        except ValueError as error:
            raise UserError(
                _("The %(area)s memory map of %(plc)s is inconsistent: %(error)s")
                % {"area": area, "plc": self.display_name, "error": error}
            )

    # -- connection state, logged once per change ---------------------------
    def _record_contact(self, warning=None):
        self.ensure_one()
        values = {"state": "connected", "last_contact": fields.Datetime.now()}
        if self.state != "connected" or (self.last_error or False) != (warning or False):
            values["last_error"] = warning or False
            _logger.info("[TASK 2] %s: connected%s", self.code, " (%s)" % warning if warning else "")
        self.write(values)

    def _record_contact_error(self, error):
        self.ensure_one()
        message = str(error)
        if self.state != "error" or self.last_error != message:
            _logger.warning("[TASK 2] %s: %s", self.code, message)
            self.write({"state": "error", "last_error": message})

    def _record_slot_problems(self, problems):
        self.ensure_one()
        text = "\n".join(problems) or False
        if (self.slot_problems or False) != text:
            for problem in problems:
                _logger.warning("[TASK 2] %s: %s", self.code, problem)
            if not problems:
                _logger.info("[TASK 2] %s: all slots readable again", self.code)
            self.write({"slot_problems": text})

    # -- Task 2: read the PLC ----------------------------------------------
    def _read_cycle(self):
        """One poll of this PLC: all READ slots in one FINS request, decoded,
        validated and applied to the queue.  Returns the batches that became
        finished in this cycle."""
        self.ensure_one()
        now = fields.Datetime.now()
        layout = self._layout("read")
        try:
            with self._plc_client() as client:
                readings = memory_map.read_all_slots(
                    client, layout, base=self.read_area_base, count=self.slot_count, stride=self.slot_stride
                )
                warning = client.last_warning
        except PlcError as error:
            self._record_contact_error(error)
            return self.env["mo.batch"]
        self._record_contact(warning)
        queue = {batch.mo_id: batch for batch in self.env["mo.batch"].search([("plc_id", "=", self.id)])}
        problems, to_acknowledge = [], []
        finished = self.env["mo.batch"]
        for reading in readings:
            if reading.is_empty:
                continue
            batch = queue.get(reading.fields.get(layout.id_field))
            if not reading.valid:
                problem = _("Slot %(slot)s: invalid data ignored: %(errors)s") % {
                    "slot": reading.slot,
                    "errors": "; ".join(reading.errors),
                }
                problems.append(problem)
                if batch:
                    batch._record_plc_problem(problem)
                continue
            if not batch:
                if not reading.fields.get("status_read_data"):
                    problems.append(
                        _("Slot %(slot)s: MO %(mo)s is not in the queue; ignored.")
                        % {"slot": reading.slot, "mo": reading.fields["mo_id"]}
                    )
                continue
            acknowledge, newly_finished = batch._apply_plc_reading(reading, now)
            if acknowledge:
                to_acknowledge.append(reading.slot)
            if newly_finished:
                finished |= batch
        self._record_slot_problems(problems)
        if to_acknowledge:
            self._acknowledge_after_commit(to_acknowledge)
        return finished

    def _acknowledge_after_commit(self, slots):
        """Set the READ slots' status_read_data once the database holds what
        was read: a crash before the commit leaves the PLC unacknowledged, and
        the next poll reads the same data again."""
        client = self._plc_client()
        code, base, stride = self.code, self.read_area_base, self.slot_stride

        def acknowledge():
            try:
                with client:
                    for slot in slots:
                        address = memory_map.slot_address(base, slot, stride) + memory_map.HANDSHAKE_OFFSET
                        client.write_words("D%d" % address, [1])
            except PlcError as error:
                # Not lost: the slot still shows unacknowledged and is acknowledged next cycle.
                _logger.warning("[TASK 2] %s: acknowledging slots %s failed: %s", code, slots, error)

        self.env.cr.postcommit.add(acknowledge)

    def action_read_now(self):
        """Run exactly one read cycle for these PLCs, then finish what the PLC finished."""
        finished = self.env["mo.batch"]
        for plc in self:
            finished |= plc._read_cycle()
        if finished:
            finished._process_completed()
        return True

    @api.model
    def _cron_plc_read(self):
        plcs = self.search([])
        if in_test_mode():
            plcs.action_read_now()
            return
        deadline = time.monotonic() + POLL_WINDOW_SECONDS
        threads = [
            threading.Thread(
                target=poll_plc_until,
                args=(self.env.cr.dbname, plc.id, deadline),
                name="scada-poll-%s" % plc.code,
            )
            for plc in plcs
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        rearm_cron(self.env, "scada_plc_bridge.ir_cron_task2_plc_read")

    # -- buttons -------------------------------------------------------------
    def _notify(self, message, kind="info", sticky=False):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.display_name or _("SCADA"),
                "message": message,
                "type": kind,
                "sticky": sticky,
            },
        }

    def action_test_connection(self):
        self.ensure_one()
        try:
            with self._plc_client() as client:
                data = client.controller_data_read()
                status = client.controller_status_read()
                warning = client.last_warning
        except PlcError as error:
            self._record_contact_error(error)
            return self._notify(_("No connection: %s") % error, "danger", sticky=True)
        self._record_contact(warning)
        return self._notify(
            _("Connected to %(model)s (version %(version)s), mode %(mode)s.")
            % {"model": data["model"], "version": data["version"], "mode": status["mode"]},
            "success",
        )

    def action_view_batches(self):
        action = self.env["ir.actions.actions"]._for_xml_id("scada_plc_bridge.mo_batch_action")
        action["domain"] = [("plc_id", "in", self.ids)]
        return action

    def action_run_task1_sync_mo(self):
        created = self.env["mo.batch"]._sync_mo(self)
        return self._notify(_("Task 1: %s batch(es) queued.") % len(created))

    def action_run_task2_plc_read(self):
        self.action_read_now()
        return self._notify(_("Task 2: PLC read once."))

    def action_run_task3_process_completed(self):
        done, failed = self.env["mo.batch"]._cron_process_completed()
        return self._notify(
            _("Task 3: %(done)s batch(es) finished, %(failed)s failed.") % {"done": done, "failed": failed}
        )

    def action_run_task4_health(self):
        problems = self.env["mo.batch"]._cron_health()
        return self._notify(_("Task 4: %s open problem(s).") % problems)

    def action_read_slots(self):
        """Show the decoded READ slots (no batch is changed)."""
        self.ensure_one()
        return self.env["scada.plc.slots"]._action_show(self)
