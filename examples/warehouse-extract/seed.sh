#!/bin/sh
# Seeds the example warehouse: a `shop` schema with customers, products and
# orders in the PostgreSQL database at $WAREHOUSE_URL (default: the local
# postgres user's `test` database). Safe to run again: it starts afresh.
set -eu
url="${WAREHOUSE_URL:-postgres://postgres@127.0.0.1:5432/test}"
psql "$url" -v ON_ERROR_STOP=1 -q <<'SQL'
DROP SCHEMA IF EXISTS shop CASCADE;
CREATE SCHEMA shop;
CREATE TABLE shop.customers (
  id         integer PRIMARY KEY,
  name       text NOT NULL,
  country    char(2) NOT NULL,
  signed_up  date NOT NULL
);
CREATE TABLE shop.products (
  id     integer PRIMARY KEY,
  title  text NOT NULL,
  price  numeric(10,2) NOT NULL
);
CREATE TABLE shop.orders (
  id           bigint PRIMARY KEY,
  customer_id  integer NOT NULL REFERENCES shop.customers,
  product_id   integer NOT NULL REFERENCES shop.products,
  quantity     integer NOT NULL,
  amount       numeric(12,2) NOT NULL,
  placed_at    timestamptz NOT NULL
);
INSERT INTO shop.customers
SELECT n, 'Customer ' || n, (ARRAY['FR','DE','US','JP'])[1 + n % 4], DATE '2020-01-01' + n
FROM generate_series(1, 500) AS n;
INSERT INTO shop.products
SELECT n, 'Product ' || n, round((5 + n * 1.37)::numeric, 2)
FROM generate_series(1, 50) AS n;
INSERT INTO shop.orders
SELECT n, 1 + n % 500, 1 + n % 50, 1 + n % 5,
       round(((1 + n % 5) * (5 + (1 + n % 50) * 1.37))::numeric, 2),
       now() - (n || ' minutes')::interval
FROM generate_series(1, 20000) AS n;
SQL
echo "seeded shop.customers (500), shop.products (50), shop.orders (20000) in $url"
