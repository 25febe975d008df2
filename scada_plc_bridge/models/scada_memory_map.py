from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..plclib import memory_map

WORD_ORDERS = [(memory_map.HIGH_FIRST, "High word first"), (memory_map.LOW_FIRST, "Low word first")]
BYTE_ORDERS = [(memory_map.HIGH_FIRST, "High byte first"), (memory_map.LOW_FIRST, "Low byte first")]


class ScadaMemoryMap(models.Model):
    """One field of a PLC's READ or WRITE slot layout; plclib's codec does the work."""

    _name = "scada.memory.map"
    _description = "SCADA memory map field"
    _order = "plc_id, area, offset"

    plc_id = fields.Many2one("scada.plc", string="PLC", required=True, ondelete="cascade", index=True)
    area = fields.Selection(
        [("read", "READ (PLC to Odoo)"), ("write", "WRITE (Odoo to PLC)")], required=True, default="read"
    )
    name = fields.Char(string="Key", required=True, help="Field key, e.g. actual_consumption_silo_a.")
    label = fields.Char(help="Name in the PLC program's documentation.")
    offset = fields.Integer(required=True, help="Word offset from the slot's first word.")
    dm_address = fields.Char(
        string="DM Address",
        compute="_compute_dm_address",
        help="Where the field lies in slot 1: the area's first DM word plus the offset.",
    )
    data_type = fields.Selection(
        [(t, t) for t in memory_map.TYPES], string="Type", required=True, default="INT"
    )
    word_length = fields.Integer(
        string="Length (words)", default=1, help="Words the value takes (ASCII: characters / 2)."
    )
    scale = fields.Float(default=1.0, help="The PLC stores value x scale.")
    word_order = fields.Selection(WORD_ORDERS, default=memory_map.HIGH_FIRST, required=True)
    byte_order = fields.Selection(BYTE_ORDERS, default=memory_map.HIGH_FIRST, required=True)
    expected_value = fields.Integer(help="A fixed value the PLC must report here (silo id words); 0: none.")
    min_value = fields.Float(string="Minimum")
    max_value = fields.Float(string="Maximum", help="0: no maximum.")
    company_id = fields.Many2one(related="plc_id.company_id", store=True)

    _sql_constraints = [("name_uniq", "unique(plc_id, area, name)", "Each key appears once per area.")]

    @api.depends("area", "offset", "word_length", "plc_id.read_area_base", "plc_id.write_area_base")
    def _compute_dm_address(self):
        for row in self:
            base = row.plc_id.read_area_base if row.area == "read" else row.plc_id.write_area_base
            first = base + row.offset
            last = first + max(row.word_length, 1) - 1
            row.dm_address = "D%d" % first if last == first else "D%d-%d" % (first, last)

    @api.model
    def _values_from_spec(self, spec):
        return {
            "name": spec.name,
            "label": spec.label,
            "offset": spec.offset,
            "data_type": spec.data_type,
            "word_length": spec.length,
            "scale": spec.scale,
            "word_order": spec.word_order,
            "byte_order": spec.byte_order,
            "expected_value": spec.expected or 0,
            "min_value": spec.min_value or 0.0,
            "max_value": spec.max_value or 0.0,
        }

    def _to_field_spec(self):
        self.ensure_one()
        scale = int(self.scale) if float(self.scale).is_integer() else self.scale
        return memory_map.FieldSpec(
            self.name,
            self.offset,
            self.data_type,
            length=self.word_length,
            scale=scale,
            word_order=self.word_order,
            byte_order=self.byte_order,
            expected=self.expected_value or None,
            min_value=self.min_value if self.data_type not in ("BOOL", "ASCII") else None,
            max_value=self.max_value or None,
            label=self.label or self.name,
        )

    @api.constrains("offset", "data_type", "word_length", "scale", "word_order", "byte_order")
    def _check_field_spec(self):
        for row in self:
            try:
                row._to_field_spec()
            except ValueError as error:
                raise ValidationError(
                    _("Memory map field %(field)s: %(error)s") % {"field": row.name, "error": error}
                )
            if row.offset < 0 or row.offset + row.word_length > row.plc_id.slot_stride:
                raise ValidationError(_("Memory map field %s lies outside its slot.") % row.name)

    def unlink(self):
        plcs = self.plc_id
        result = super().unlink()
        plcs.memory_map_ids._check_layout()  # what is left must still be a whole map
        return result

    @api.constrains("name", "area", "offset", "data_type", "word_length", "plc_id")
    def _check_layout(self):
        """The bridge reads and writes every key of the plant's map: an
        edited map may move or retype a field, not lose one or overlap two,
        or polling would stop at the first read."""
        required = {
            "read": {spec.name for spec in memory_map.default_read_fields()},
            "write": {spec.name for spec in memory_map.default_write_fields()},
        }
        for plc in self.plc_id:
            for area, names in required.items():
                rows = plc.memory_map_ids.filtered(lambda row, area=area: row.area == area)
                if not rows:
                    continue  # no map of its own: the plant's default is used
                missing = names - set(rows.mapped("name"))
                if missing:
                    raise ValidationError(
                        _("The %(area)s memory map of %(plc)s lacks %(fields)s.")
                        % {"area": area, "plc": plc.display_name, "fields": ", ".join(sorted(missing))}
                    )
                plc._layout(area)  # overlaps and bad specs: a UserError naming the field
            # The layouts against the PLC's bases, stride and slot count (handshake word included).
            plc._check_memory_map_settings()
