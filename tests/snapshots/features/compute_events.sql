SELECT
  "t1"."subscriber_id",
  "t1"."bucket",
  COUNT(*) FILTER(WHERE
    "t1"."event_type" = 'send') AS "n_send",
  COUNT(*) FILTER(WHERE
    "t1"."event_type" = 'open') AS "n_open",
  COUNT(*) FILTER(WHERE
    "t1"."event_type" = 'click') AS "n_click",
  COUNT(*) FILTER(WHERE
    "t1"."event_type" = 'purchase') AS "n_purchase",
  COUNT(*) FILTER(WHERE
    "t1"."event_type" = 'web_visit') AS "n_web_visit",
  COUNT(*) FILTER(WHERE
    "t1"."event_type" = 'product_view') AS "n_product_view",
  COUNT(*) FILTER(WHERE
    "t1"."event_type" = 'cart_add') AS "n_cart_add",
  COUNT(*) FILTER(WHERE
    "t1"."event_type" = 'unsubscribe') AS "n_unsubscribe",
  COUNT(*) FILTER(WHERE
    (
      "t1"."event_type" = 'open'
    ) AND NOT (
      "t1"."machine_open"
    )) AS "n_human_open",
  COUNT(*) FILTER(WHERE
    (
      "t1"."event_type" = 'web_visit'
    )
    AND REGEXP_MATCHES("t1"."properties", '(?i)"(page|url|path)"\s*:\s*"[^"]*pricing')) AS "n_pricing_page_visit",
  SUM("t1"."value") FILTER(WHERE
    (
      "t1"."event_type" = 'purchase'
    ) OR (
      "t1"."event_type" = 'refund'
    )) AS "value_sum",
  COUNT("t1"."value") FILTER(WHERE
    "t1"."event_type" = 'purchase') AS "value_n",
  MAX("t1"."ts") FILTER(WHERE
    (
      "t1"."event_type" = 'open'
    ) AND NOT (
      "t1"."machine_open"
    )) AS "last_open_ts",
  MAX("t1"."ts") FILTER(WHERE
    "t1"."event_type" = 'click') AS "last_click_ts",
  MAX("t1"."ts") FILTER(WHERE
    "t1"."event_type" = 'purchase') AS "last_purchase_ts",
  MIN("t1"."ts") AS "first_ts"
FROM (
  SELECT
    "t0"."subscriber_id",
    "t0"."event_type",
    "t0"."ts",
    "t0"."campaign_id",
    "t0"."value",
    COALESCE("t0"."machine_open", FALSE) AS "machine_open",
    CAST(NULL AS TEXT) AS "properties",
    CASE
      WHEN "t0"."ts" > MAKE_TIMESTAMPTZ(2024, 5, 31, 0, 0, 0.0, 'UTC')
      THEN 0
      WHEN "t0"."ts" > MAKE_TIMESTAMPTZ(2024, 4, 1, 0, 0, 0.0, 'UTC')
      THEN 1
      WHEN "t0"."ts" > MAKE_TIMESTAMPTZ(2023, 7, 1, 0, 0, 0.0, 'UTC')
      THEN 2
      ELSE 3
    END AS "bucket"
  FROM "events" AS "t0"
  WHERE
    "t0"."ts" <= MAKE_TIMESTAMPTZ(2024, 6, 30, 0, 0, 0.0, 'UTC')
) AS "t1"
GROUP BY
  1,
  2
