"""Silos as stock (opt-in per PLC): each silo and tank an internal stock
location, the dose of each silo taken from its own location when Task 3
finishes (or scraps) a batch, and the alarms a silo's stock calls for.

A PLC without silo stock, or a silo without a location, keeps what the
bridge always did: the dose leaves the MO's source location."""

from odoo import _, api, models
from odoo.exceptions import UserError
from odoo.osv import expression
from odoo.tools import float_compare, html_escape
from odoo.tools.misc import formatLang

from ..transaction import lock_rows


class ScadaSiloStock(models.AbstractModel):
    _name = "scada.silo.stock"
    _description = "SCADA silos as stock locations"

    @api.model
    def _line_location(self, plc):
        """Where a line's silos live: under the stock location of the PLC's company's warehouse."""
        warehouse = self.env["stock.warehouse"].search([("company_id", "=", plc.company_id.id)], limit=1)
        if not warehouse:
            raise UserError(_("Company %s has no warehouse to put the silos in.") % plc.company_id.name)
        return warehouse.lot_stock_id

    @api.model
    def _create_locations(self, silos):
        """An internal location for each silo that has none, under its line's stock location."""
        for silo in silos.filtered(lambda s: not s.location_id):
            parent = self._line_location(silo.plc_id)
            silo.location_id = self.env["stock.location"].create(
                {
                    "name": "%s %s" % (silo.plc_id.code, silo.name),
                    "location_id": parent.id,
                    "usage": "internal",
                    "company_id": silo.plc_id.company_id.id,
                }
            )
        return True

    @api.model
    def _dosing_location(self, production, silo):
        """Where a silo's dose is taken from: its location when its PLC keeps silo stock."""
        if silo and silo.plc_id.silo_stock and silo.location_id:
            return silo.location_id
        return production.location_src_id

    @api.model
    def _lock_quants(self, production):
        """Row locks on the quants finishing this MO changes (each raw
        product where it doses from, the finished product where it goes),
        taken before any write.  Two batches finished at once (the poller and
        the Task 3 cron, two lines sharing a material) meet here, quietly: the
        later one is retried on fresh stock instead of failing a write with
        Odoo's "bad query" in the log."""
        raw = production.move_raw_ids.filtered(lambda m: m.state not in ("done", "cancel"))
        domains = [
            [
                ("product_id", "=", move.product_id.id),
                (
                    "location_id",
                    "child_of",
                    self._dosing_location(production, move.bom_line_id.scada_silo_id).id,
                ),
            ]
            for move in raw
        ]
        domains += [
            [
                ("product_id", "=", move.product_id.id),
                ("location_id", "=", move.location_dest_id.id),
                ("lot_id", "=", production.lot_producing_id.id or False),
            ]
            for move in production.move_finished_ids.filtered(lambda m: m.state not in ("done", "cancel"))
        ]
        if domains:
            quants = self.env["stock.quant"].sudo().search(expression.OR(domains))
            lock_rows(self.env.cr, "stock_quant", quants.ids)

    @api.model
    def _take_from_silos(self, production):
        """The MO's raw moves of silos with stock take from their silo's
        location (before their quantities are set)."""
        for move in production.move_raw_ids.filtered(lambda m: m.state not in ("done", "cancel")):
            location = self._dosing_location(production, move.bom_line_id.scada_silo_id)
            if move.location_id != location:
                move._do_unreserve()
                move.location_id = location

    @api.model
    def _on_hand(self, silo, product=None):
        """What the silo's location physically holds (reserved or not), in
        the product's unit (of its usual product by default)."""
        product = product or silo.product_id
        if not silo.location_id or not product:
            return 0.0
        quants = self.env["stock.quant"].sudo()._gather(product, silo.location_id)
        return sum(quants.mapped("quantity"))

    @api.model
    def _lots_inside(self, silo):
        """What the silo holds lot by lot, oldest fill first (the order it
        gives them): [(product, lot, quantity in the product's unit)]; a
        lot-less quant has an empty lot."""
        if not silo.location_id:
            return []
        quants = self.env["stock.quant"].search(
            [("location_id", "child_of", silo.location_id.id), ("quantity", "!=", 0)]
        )
        filled = self.env["scada.lot.tracking"]._lot_fill_dates(silo.location_id, quants.lot_id)
        inside = {}
        for quant in quants:
            key = (quant.product_id, quant.lot_id)
            entered = filled.get(quant.lot_id.id) or quant.in_date
            quantity, first = inside.get(key, (0.0, entered))
            inside[key] = (quantity + quant.quantity, min(first, entered))
        ordered = sorted(inside.items(), key=lambda item: (item[1][1], item[0][1].id))
        return [(product, lot, quantity) for (product, lot), (quantity, _entered) in ordered]

    @api.model
    def _lots_inside_text(self, silo):
        """The silo card's lines: lot, product when not its usual one, quantity."""
        return "\n".join(
            "%s%s: %s %s"
            % (
                lot.name or _("(no lot)"),
                "" if product == silo.product_id else " (%s)" % product.display_name,
                formatLang(self.env, quantity, digits=2),
                product.uom_id.name,
            )
            for product, lot, quantity in self._lots_inside(silo)
        )

    @api.model
    def _last_fill(self, silo):
        """When material last came into the silo from elsewhere (a receipt, a transfer, a count)."""
        if not silo.location_id:
            return False
        line = self.env["stock.move.line"].search(
            [
                ("location_dest_id", "child_of", silo.location_id.id),
                "!",
                ("location_id", "child_of", silo.location_id.id),
                ("state", "=", "done"),
            ],
            order="date desc",
            limit=1,
        )
        return line.date

    @api.model
    def _start_count(self, silo):
        """A count of the silo: an inventory adjustment of its location,
        prefilled with what Odoo thinks it holds."""
        if not silo.location_id:
            raise UserError(_("%s has no stock location to count.") % silo.name)
        inventory = self.env["stock.inventory"].create(
            {
                "name": _("Count of %s") % silo.name,
                "location_ids": [(6, 0, silo.location_id.ids)],
                "company_id": silo.company_id.id,
                "prefill_counted_quantity": "counted",
            }
        )
        return inventory.action_start()

    @api.model
    def _after_count(self, inventories):
        """A validated count of silo locations: a note on each silo of what
        Odoo held, what was counted and the gap per product and lot, and its
        stock alarms cleared when the count closed their cause."""
        lines = inventories.line_ids
        if not lines:
            return
        silos = self.env["scada.silo"].sudo().search([("location_id", "parent_of", lines.location_id.ids)])
        alarms = self.env["scada.alarm"]
        for silo in silos:
            counted = lines.filtered(
                lambda line, silo=silo: line.location_id.parent_path.startswith(silo.location_id.parent_path)
            )
            if not counted:
                continue
            rows = [
                _("%(product)s %(lot)s: Odoo held %(held)s, counted %(counted)s, gap %(gap)s %(uom)s")
                % {
                    "product": line.product_id.display_name,
                    "lot": line.prod_lot_id.name or "",
                    "held": formatLang(self.env, line.theoretical_qty, digits=2),
                    "counted": formatLang(self.env, line.product_qty, digits=2),
                    "gap": formatLang(self.env, line.product_qty - line.theoretical_qty, digits=2),
                    "uom": line.product_uom_id.name,
                }
                for line in counted
            ]
            title = _("Counted by %(user)s (%(count)s):") % {
                "user": self.env.user.name,
                "count": ", ".join(inventories.mapped("name")),
            }
            silo.message_post(
                body="<p>%s</p><ul>%s</ul>"
                % (html_escape(title), "".join("<li>%s</li>" % html_escape(row) for row in rows)),
                author_id=self.env.ref("base.partner_root").id,
                subtype_xmlid="mail.mt_note",
            )
            alarms._clear("silo_negative", silo.plc_id, silo=silo)
            if (
                not self.env["stock.quant"]
                .sudo()
                .search_count(
                    [
                        ("location_id", "child_of", silo.location_id.id),
                        ("lot_id.scada_unlotted", "=", True),
                        ("quantity", "!=", 0),
                    ]
                )
            ):
                alarms._clear("lot_missing", silo.plc_id, silo=silo)
            if not silo.low_level_kg or silo.on_hand_kg >= silo.low_level_kg:
                alarms._clear("silo_low", silo.plc_id, silo=silo)

    @api.model
    def _check_levels(self, production, plc):
        """After a batch took from its silos: an alarm for a silo that gave
        more than Odoo knew it held (its stock now negative: material Odoo
        does not know about; the batch is finished all the same), and for
        one below its low level."""
        alarms = self.env["scada.alarm"]
        kg = self.env.ref("uom.product_uom_kgm")
        for move in production.move_raw_ids.filtered(lambda m: m.state == "done"):
            silo = move.bom_line_id.scada_silo_id
            if not silo or move.location_id != silo.location_id:
                continue
            on_hand = self._on_hand(silo, move.product_id)
            values = {
                "silo": silo.name,
                "product": move.product_id.display_name,
                "mo": production.name,
                "quantity": on_hand,
                "uom": move.product_id.uom_id.name,
            }
            if float_compare(on_hand, 0.0, precision_rounding=move.product_id.uom_id.rounding) < 0:
                alarms._raise(
                    "silo_negative",
                    plc,
                    _(
                        "%(silo)s gave more %(product)s to %(mo)s than Odoo knew it held: its stock is now "
                        "%(quantity).2f %(uom)s. Count the silo to close the gap."
                    )
                    % values,
                    production=production,
                    silo=silo,
                )
            elif silo.low_level_kg and (
                move.product_id.uom_id._compute_quantity(on_hand, kg, raise_if_failure=False)
                < silo.low_level_kg
            ):
                alarms._raise(
                    "silo_low",
                    plc,
                    _("%(silo)s is below its low level after %(mo)s: %(quantity).2f %(uom)s of %(product)s.")
                    % values,
                    silo=silo,
                )
