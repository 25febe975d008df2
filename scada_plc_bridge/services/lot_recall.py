"""The recall of a lot: every batch and MO that consumed it, the finished
lots they made and the customers' deliveries of those, in one query over
the done stock move lines (Odoo's own record of what went where)."""

from odoo import api, models

# One row per MO that consumed the lot, finished lot it made and delivery
# of that lot to a customer (the finished lot and delivery left empty when
# there are none yet).
RECALL_SQL = """
WITH used AS (
    SELECT move.raw_material_production_id AS production_id,
           line.location_id,
           line.product_uom_id,
           SUM(line.qty_done) AS quantity
      FROM stock_move_line line
      JOIN stock_move move ON move.id = line.move_id
     WHERE line.lot_id = %(lot)s
       AND line.state = 'done'
       AND move.raw_material_production_id IS NOT NULL
  GROUP BY 1, 2, 3
), made AS (
    SELECT move.production_id, line.lot_id, line.product_uom_id, SUM(line.qty_done) AS quantity
      FROM stock_move move
      JOIN stock_move_line line ON line.move_id = move.id
     WHERE move.production_id IN (SELECT production_id FROM used)
       AND line.state = 'done'
       AND line.lot_id IS NOT NULL
  GROUP BY 1, 2, 3
), delivered AS (
    SELECT line.lot_id, line.picking_id, picking.partner_id, line.product_uom_id,
           SUM(line.qty_done) AS quantity, MAX(line.date) AS date
      FROM stock_move_line line
      JOIN stock_location destination ON destination.id = line.location_dest_id
      LEFT JOIN stock_picking picking ON picking.id = line.picking_id
     WHERE line.lot_id IN (SELECT lot_id FROM made)
       AND line.state = 'done'
       AND destination.usage = 'customer'
  GROUP BY 1, 2, 3, 4
)
SELECT used.production_id,
       (SELECT history.id FROM mo_history history
         WHERE history.production_id = used.production_id AND history.status = 'completed'
      ORDER BY history.id DESC LIMIT 1) AS history_id,
       production.date_finished,
       used.location_id,
       used.quantity AS quantity_used,
       used.product_uom_id AS uom_used_id,
       made.lot_id AS finished_lot_id,
       made.quantity AS quantity_made,
       made.product_uom_id AS uom_made_id,
       delivered.picking_id,
       delivered.partner_id,
       delivered.quantity AS quantity_delivered,
       delivered.date AS date_delivered
  FROM used
  JOIN mrp_production production ON production.id = used.production_id
  LEFT JOIN made ON made.production_id = used.production_id
  LEFT JOIN delivered ON delivered.lot_id = made.lot_id
 WHERE production.company_id IN %(companies)s
 ORDER BY production.date_finished, used.production_id, made.lot_id, delivered.date
"""


class ScadaLotRecallQuery(models.AbstractModel):
    _name = "scada.lot.recall.query"
    _description = "SCADA recall of a lot"

    @api.model
    def _rows(self, lot):
        """The recall's rows for a raw lot, as dicts of ids and figures."""
        self.flush()  # the query reads the tables
        self._cr.execute(RECALL_SQL, {"lot": lot.id, "companies": tuple(self.env.companies.ids)})
        return self._cr.dictfetchall()
