-- The orders of the logical day (the schedule's fire time, kept by reruns)
-- worth at least `params.min_amount`.
SELECT o.id, o.placed_at, c.country, p.title, o.quantity, o.amount
FROM shop.orders AS o
JOIN shop.customers AS c ON c.id = o.customer_id
JOIN shop.products AS p ON p.id = o.product_id
WHERE o.placed_at >= {{ date }}::date - 1
  AND o.placed_at < {{ logical_date }}::timestamptz
  AND o.amount >= {{ params.min_amount }}
ORDER BY o.id
