-- Every customer, with the day they signed up.
SELECT id, name, country, signed_up
FROM shop.customers
ORDER BY id
