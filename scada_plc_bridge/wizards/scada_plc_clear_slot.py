from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..plclib import memory_map

# The most slots a PLC may have (scada.plc's settings check): the choice
# offered when no PLC is known yet (no context).
MAX_SLOTS = 10
# Names the PLC whose slots the choice lists, for the records being saved.
PLC_CONTEXT_KEY = "scada_clear_slot_plc_id"


class ScadaPlcClearSlot(models.TransientModel):
    """A result (READ) slot holding a result no batch of Odoo claims (an
    unknown batch) stays unacknowledged, so the PLC never reuses it; a
    manager who has checked the line clears it from the PLC form: the poller
    acknowledges it.  Only the PLC's own slots are offered, each with its
    DM addresses and what the bridge knows is in it; a number sent by other
    means is still checked on the server."""

    _name = "scada.plc.clear.slot"
    _description = "Clear a PLC result slot"

    plc_id = fields.Many2one("scada.plc", string="PLC", required=True)
    slot = fields.Selection(selection="_selection_slot", required=True)
    slot_problems = fields.Text(related="plc_id.slot_problems")

    @api.model
    def _context_plc(self):
        context = self.env.context
        plc_id = context.get(PLC_CONTEXT_KEY) or context.get("default_plc_id")
        if not plc_id and context.get("active_model") == "scada.plc":
            plc_id = context.get("active_id")
        if not isinstance(plc_id, int) or not self.env["scada.plc"].check_access_rights(
            "read", raise_exception=False
        ):
            return self.env["scada.plc"]
        return self.env["scada.plc"].browse(plc_id).exists()

    @api.model
    def _selection_slot(self):
        plc = self._context_plc()
        if not plc or not self.env["mo.batch"].check_access_rights("read", raise_exception=False):
            return [(str(slot), _("Slot %s") % slot) for slot in range(1, MAX_SLOTS + 1)]
        held = {
            batch.slot: batch
            for batch in self.env["mo.batch"].search([("plc_id", "=", plc.id), ("slot", "!=", False)])
        }
        choices = []
        for slot in range(1, plc.slot_count + 1):
            batch = held.get(slot)
            content = (
                _("batch %(batch)s, %(mo)s") % {"batch": batch.batch_no, "mo": batch.mo_reference}
                if batch
                else _("free")
            )
            label = _("Slot %(slot)s · result D%(read)s · recipe D%(write)s · %(content)s") % {
                "slot": slot,
                "read": memory_map.slot_address(plc.read_area_base, slot, plc.slot_stride),
                "write": memory_map.slot_address(plc.write_area_base, slot, plc.slot_stride),
                "content": content,
            }
            choices.append((str(slot), label))
        return choices

    @api.model
    def _slot_value(self, plc, value):
        """The slot as the selection stores it, refused with the reason when
        it is not one of the PLC's slots (a number forged over RPC)."""
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ValidationError(
                _("%(slot)r is not a slot of %(plc)s: choose a slot from 1 to %(count)s.")
                % {"slot": value, "plc": plc.display_name, "count": plc.slot_count}
            )
        self.env["scada.plc.request"]._check_slot_of(plc, number)
        return str(number)

    @api.model_create_multi
    def create(self, vals_list):
        wizards = self.browse()
        for vals in vals_list:
            vals = dict(vals)
            plc = self.env["scada.plc"].browse(vals.get("plc_id") or self.env.context.get("default_plc_id"))
            if "slot" in vals and plc:
                vals["slot"] = self._slot_value(plc, vals["slot"])
            # The choice is validated against this PLC's slots, whatever the context says.
            wizards |= super(ScadaPlcClearSlot, self.with_context(**{PLC_CONTEXT_KEY: plc.id})).create([vals])
        return wizards.with_env(self.env)

    def write(self, vals):
        if "slot" not in vals and "plc_id" not in vals:
            return super().write(vals)
        for wizard in self:
            plc = self.env["scada.plc"].browse(vals.get("plc_id") or wizard.plc_id.id)
            values = dict(vals)
            if "slot" in values:
                values["slot"] = self._slot_value(plc, values["slot"])
            super(ScadaPlcClearSlot, wizard.with_context(**{PLC_CONTEXT_KEY: plc.id})).write(values)
        return True

    @api.constrains("plc_id", "slot")
    def _check_slot(self):
        for wizard in self:
            wizard.env["scada.plc.request"]._check_slot_of(wizard.plc_id, int(wizard.slot or 0))

    def action_clear(self):
        self.ensure_one()
        self.plc_id._check_manager()
        self._check_slot()
        slot = int(self.slot)
        self.env["scada.plc.request"]._request(self.plc_id, "clear_read_slot", slot=slot)
        return self.plc_id._notify(
            _("Slot %(slot)s is cleared at the PLC's next read, within a few seconds.") % {"slot": slot},
            close=True,
        )
