-- Revenue per country and product, all time.
SELECT c.country, p.title, count(*) AS orders, sum(o.amount) AS revenue
FROM shop.orders AS o
JOIN shop.customers AS c ON c.id = o.customer_id
JOIN shop.products AS p ON p.id = o.product_id
GROUP BY c.country, p.title
ORDER BY c.country, p.title
